// pkm_retrieval_kernel.cc - see pkm_retrieval_kernel.h for the contract and the method.
#include "pkm_retrieval_kernel.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "cpu_isa.h"
#include "half_float.h"

namespace msn {
namespace {

// Survivor counts up to this are ranked by counting (n^2 vector compares); larger sets use
// nth_element + sort.
constexpr int64_t kRankLimit = 160;

// A float's order as a signed 32-bit integer (-inf lowest, +inf highest, -0 == +0). NaN never
// reaches here: inputs are checked and NaN sums are mapped to -inf first.
inline int32_t OrderKey(float f) {
  const int32_t b = static_cast<int32_t>(FloatToBits(f + 0.0f));  // + 0.0f turns -0 into +0
  return b ^ ((b >> 31) & 0x7fffffff);
}

inline float FromOrderKey(int32_t o) { return BitsToFloat(static_cast<uint32_t>(o ^ ((o >> 31) & 0x7fffffff))); }

// Ids (indices, slots) are unsigned; flipping the top bit makes signed comparison order them.
inline int32_t FlipId(uint32_t id) { return static_cast<int32_t>(id ^ 0x80000000u); }
inline uint32_t UnflipId(int32_t f) { return static_cast<uint32_t>(f) ^ 0x80000000u; }

// A sum of two scores; NaN (only from +inf + -inf) ranks as -inf.
inline float CandidateScore(float a, float b) {
  const float c = a + b;
  return c != c ? -std::numeric_limits<float>::infinity() : c;
}

// A value that at least k of key[0, n) reach (n >= k): the smallest of the maxima of the k
// strided groups {i : i mod k == g}.
int32_t GroupMaxBound(const int32_t* key, int64_t n, int64_t k, int32_t* group_max) {
  for (int64_t g = 0; g < k; ++g) group_max[g] = key[g];
  int64_t base = k;
  for (; base + k <= n; base += k) {
    for (int64_t g = 0; g < k; ++g) group_max[g] = std::max(group_max[g], key[base + g]);
  }
  for (int64_t g = 0; base + g < n; ++g) group_max[g] = std::max(group_max[g], key[base + g]);
  int32_t bound = group_max[0];
  for (int64_t g = 1; g < k; ++g) bound = std::min(bound, group_max[g]);
  return bound;
}

// rank[i] = number of candidates that beat candidate i: a higher key, or the same key and a
// lower id. Ids are unique, so ranks are a permutation of [0, n).
__attribute__((always_inline)) inline void RankBody(const int32_t* key, const int32_t* id, int64_t n,
                                                    int32_t* rank) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t ki = key[i];
    const int32_t ii = id[i];
    int32_t r = 0;
    for (int64_t j = 0; j < n; ++j) r += (key[j] > ki) | ((key[j] == ki) & (id[j] < ii));
    rank[i] = r;
  }
}

void RankGeneric(const int32_t* key, const int32_t* id, int64_t n, int32_t* rank) { RankBody(key, id, n, rank); }

__attribute__((target("avx2,fma,f16c"))) void RankAvx2(const int32_t* key, const int32_t* id, int64_t n,
                                                       int32_t* rank) {
  RankBody(key, id, n, rank);
}

void Rank(const int32_t* key, const int32_t* id, int64_t n, int32_t* rank) {
  static const auto rank_fn = ActiveIsa() == Isa::kAvx2 ? &RankAvx2 : &RankGeneric;
  rank_fn(key, id, n, rank);
}

// Sum over i = 1..k of floor(k / i): the number of pairs with (i+1)(j+1) <= k.
int64_t PrunedPairs(int64_t k) {
  int64_t p = 0;
  for (int64_t i = 1; i <= k; ++i) p += k / i;
  return p;
}

}  // namespace

PkmRetrievalKernel::PkmRetrievalKernel(int64_t sub_keys, int64_t k)
    : s_(sub_keys),
      k_(k),
      keys_(static_cast<size_t>(std::max(sub_keys, PrunedPairs(k)) + k)),
      ids_(keys_.size()),
      group_max_(static_cast<size_t>(k)),
      rank_(static_cast<size_t>(kRankLimit)),
      sel_key_(static_cast<size_t>(k + 1)),
      sel_id_(static_cast<size_t>(k + 1)),
      top_a_(static_cast<size_t>(k)),
      top_b_(static_cast<size_t>(k)),
      idx_a_(static_cast<size_t>(k)),
      idx_b_(static_cast<size_t>(k)),
      exps_(static_cast<size_t>(k)) {}

void PkmRetrievalKernel::SelectTopK(int64_t n, int32_t* out_key, int32_t* out_id) {
  const int64_t k = k_;
  int32_t* key = keys_.data();
  int32_t* id = ids_.data();
  // Drop what cannot be in the top-k; stop when a round removes little.
  for (int round = 0; round < 4 && n > k + k / 2; ++round) {
    const int32_t bound = GroupMaxBound(key, n, k, group_max_.data());
    int64_t m = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t v = key[i];
      key[m] = v;
      id[m] = id[i];
      m += (v >= bound);
    }
    const bool little = m * 8 > n * 7;
    n = m;
    if (little) break;
  }
  if (n <= kRankLimit) {
    int32_t* rank = rank_.data();
    Rank(key, id, n, rank);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pos = std::min<int64_t>(rank[i], k);  // index k collects everything past the top-k
      out_key[pos] = key[i];
      out_id[pos] = id[i];
    }
    return;
  }
  // Many survivors (heavy ties, or k close to n): 64-bit keys, higher = better.
  if (wide_.size() < static_cast<size_t>(n)) wide_.resize(static_cast<size_t>(n));
  uint64_t* wide = wide_.data();
  for (int64_t i = 0; i < n; ++i) {
    wide[i] = (static_cast<uint64_t>(static_cast<uint32_t>(key[i]) ^ 0x80000000u) << 32) |
              static_cast<uint64_t>(0xFFFFFFFFu - UnflipId(id[i]));
  }
  if (k < n) std::nth_element(wide, wide + (k - 1), wide + n, std::greater<uint64_t>());
  std::sort(wide, wide + k, std::greater<uint64_t>());
  for (int64_t r = 0; r < k; ++r) {
    out_key[r] = static_cast<int32_t>(static_cast<uint32_t>(wide[r] >> 32) ^ 0x80000000u);
    out_id[r] = FlipId(0xFFFFFFFFu - static_cast<uint32_t>(wide[r]));
  }
}

void PkmRetrievalKernel::SelectHalf(const float* scores, float* top_scores, uint32_t* top_index) {
  int32_t* key = keys_.data();
  int32_t* id = ids_.data();
  for (int64_t t = 0; t < s_; ++t) {
    key[t] = OrderKey(scores[t]);
    id[t] = FlipId(static_cast<uint32_t>(t));
  }
  SelectTopK(s_, sel_key_.data(), sel_id_.data());
  for (int64_t r = 0; r < k_; ++r) {
    top_scores[r] = FromOrderKey(sel_key_[r]);
    top_index[r] = UnflipId(sel_id_[r]);
  }
}

void PkmRetrievalKernel::Retrieve(const float* a, const float* b, float* weights, int64_t* slots) {
  const int64_t k = k_;
  const uint32_t s = static_cast<uint32_t>(s_);
  float* av = top_a_.data();
  float* bv = top_b_.data();
  uint32_t* ai = idx_a_.data();
  uint32_t* bi = idx_b_.data();
  SelectHalf(a, av, ai);
  SelectHalf(b, bv, bi);

  // Stage 2 over the pruned pairs: row rank i pairs with the floor(k/(i+1)) best column ranks.
  int64_t n = 0;
  {
    int32_t* key = keys_.data();
    int32_t* id = ids_.data();
    for (int64_t i = 0; i < k; ++i) {
      const int64_t jmax = k / (i + 1);
      const float a_i = av[i];
      const uint32_t base = ai[i] * s;
      for (int64_t j = 0; j < jmax; ++j) {
        key[n + j] = OrderKey(CandidateScore(a_i, bv[j]));
        id[n + j] = FlipId(base + bi[j]);
      }
      n += jmax;
    }
  }
  int64_t examined = n;
  int32_t* sel_key = sel_key_.data();
  int32_t* sel_id = sel_id_.data();
  SelectTopK(n, sel_key, sel_id);

  // Skipped pairs can only tie the k-th kept score (float rounding); add back those that reach
  // it and select again. Scores fall along j, so each row stops at its first pair below.
  const int32_t kth = sel_key[k - 1];
  int64_t total = 0;  // 0: no pair added back
  for (int64_t i = 1; i < k; ++i) {
    const float a_i = av[i];
    const uint32_t base = ai[i] * s;
    for (int64_t j = k / (i + 1); j < k; ++j) {
      const int32_t o = OrderKey(CandidateScore(a_i, bv[j]));
      ++examined;
      if (o < kth) break;
      if (total == 0) {
        std::copy(sel_key, sel_key + k, keys_.begin());
        std::copy(sel_id, sel_id + k, ids_.begin());
        total = k;
      }
      if (static_cast<size_t>(total) >= keys_.size()) {
        keys_.resize(keys_.size() * 2);
        ids_.resize(ids_.size() * 2);
      }
      keys_[total] = o;
      ids_[total] = FlipId(base + bi[j]);
      ++total;
    }
  }
  if (total > 0) SelectTopK(total, sel_key, sel_id);
  last_candidates_ = examined;

  // Softmax over the kept scores, max-subtracted, in double.
  const double top = static_cast<double>(FromOrderKey(sel_key[0]));
  double sum = 0.0;
  double* exps = exps_.data();
  for (int64_t r = 0; r < k; ++r) {
    exps[r] = std::exp(static_cast<double>(FromOrderKey(sel_key[r])) - top);
    sum += exps[r];
    slots[r] = static_cast<int64_t>(UnflipId(sel_id[r]));
  }
  for (int64_t r = 0; r < k; ++r) weights[r] = static_cast<float>(exps[r] / sum);
}

}  // namespace msn
