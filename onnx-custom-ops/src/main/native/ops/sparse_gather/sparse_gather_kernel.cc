// sparse_gather_kernel.cc - see sparse_gather_kernel.h.
#include "sparse_gather_kernel.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "cpu_isa.h"
#include "half_float.h"
#include "quant_rows.h"

namespace msn {
namespace {

// ---- Baseline x86-64 (SSE2) build: plain loops that -O3 vectorises 4 floats wide. ----------------

// Elements per block: one 64-byte line of float32 rows, half a line of 16-bit rows. Each block
// first prefetches the matching lines of the next two rows (a loop of nothing but prefetches would
// be dropped by the optimiser as side-effect free).
constexpr int64_t kBlock = 16;

inline float Widen(float v, ValueType) { return v; }
inline float Widen(uint16_t v, ValueType t) {
  return t == ValueType::kFloat16 ? HalfToFloat(v) : Bfloat16ToFloat(v);
}

template <bool kFirst, typename V, ValueType kType>
inline void GenericRowTyped(float* acc, const V* row, const V* next, const V* after, float w, int64_t d) {
  for (int64_t x0 = 0; x0 < d; x0 += kBlock) {
    _mm_prefetch(reinterpret_cast<const char*>(next + x0), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(after + x0), _MM_HINT_T1);
    const int64_t xe = std::min(d, x0 + kBlock);
    for (int64_t x = x0; x < xe; ++x) {
      const float r = Widen(row[x], kType);
      acc[x] = kFirst ? w * r : acc[x] + w * r;
    }
  }
}

template <bool kFirst, typename V>
inline void GenericRow(float* acc, const V* row, const V* next, const V* after, float w, int64_t d, ValueType t) {
  if constexpr (sizeof(V) == 4) {
    GenericRowTyped<kFirst, V, ValueType::kFloat32>(acc, row, next, after, w, d);
  } else if (t == ValueType::kFloat16) {
    GenericRowTyped<kFirst, V, ValueType::kFloat16>(acc, row, next, after, w, d);
  } else {
    GenericRowTyped<kFirst, V, ValueType::kBfloat16>(acc, row, next, after, w, d);
  }
}

// ---- AVX2 + FMA + F16C build: 8 floats per instruction, 32 per loop trip. ------------------------

__attribute__((target("avx2,fma,f16c"))) inline __m256 Load8(const float* p, ValueType) {
  return _mm256_loadu_ps(p);
}
__attribute__((target("avx2,fma,f16c"))) inline __m256 Load8(const uint16_t* p, ValueType t) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (t == ValueType::kFloat16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// acc[0, d) (=|+=) w * row[0, d), prefetching `next` into L1 and `after` into L2 (rows of the
// same length) as it goes.
template <bool kFirst, typename V>
__attribute__((target("avx2,fma,f16c"))) inline void Avx2Row(float* acc, const V* row, const V* next,
                                                              const V* after, float w, int64_t d, ValueType t) {
  const __m256 vw = _mm256_set1_ps(w);
  const char* pf = reinterpret_cast<const char*>(next);
  const char* pf2 = reinterpret_cast<const char*>(after);
  int64_t x = 0;
  for (; x + 32 <= d; x += 32) {
    _mm_prefetch(pf + x * static_cast<int64_t>(sizeof(V)), _MM_HINT_T0);
    _mm_prefetch(pf2 + x * static_cast<int64_t>(sizeof(V)), _MM_HINT_T1);
    if (sizeof(V) == 4) {
      _mm_prefetch(pf + x * 4 + 64, _MM_HINT_T0);
      _mm_prefetch(pf2 + x * 4 + 64, _MM_HINT_T1);
    }
    for (int u = 0; u < 32; u += 8) {
      const __m256 r = Load8(row + x + u, t);
      if (kFirst) {
        _mm256_storeu_ps(acc + x + u, _mm256_mul_ps(vw, r));
      } else {
        _mm256_storeu_ps(acc + x + u, _mm256_fmadd_ps(vw, r, _mm256_loadu_ps(acc + x + u)));
      }
    }
  }
  for (; x + 8 <= d; x += 8) {
    _mm_prefetch(pf + x * static_cast<int64_t>(sizeof(V)), _MM_HINT_T0);
    const __m256 r = Load8(row + x, t);
    if (kFirst) {
      _mm256_storeu_ps(acc + x, _mm256_mul_ps(vw, r));
    } else {
      _mm256_storeu_ps(acc + x, _mm256_fmadd_ps(vw, r, _mm256_loadu_ps(acc + x)));
    }
  }
  if (x < d) _mm_prefetch(pf + x * static_cast<int64_t>(sizeof(V)), _MM_HINT_T0);
  for (; x < d; ++x) {
    const float r = Widen(row[x], t);
    acc[x] = kFirst ? w * r : __builtin_fmaf(w, r, acc[x]);
  }
}

// ---- Row loop shared by both builds. ---------------------------------------------------------------

struct Avx2Build {};
struct GenericBuild {};

template <typename V, typename Build>
__attribute__((always_inline)) inline void AccumulateRow(bool first, float* acc, const V* row, const V* next,
                                                          const V* after, float w, int64_t d, ValueType t) {
  if constexpr (std::is_same_v<Build, Avx2Build>) {
    if (first) {
      Avx2Row<true>(acc, row, next, after, w, d, t);
    } else {
      Avx2Row<false>(acc, row, next, after, w, d, t);
    }
  } else {
    if (first) {
      GenericRow<true>(acc, row, next, after, w, d, t);
    } else {
      GenericRow<false>(acc, row, next, after, w, d, t);
    }
  }
}

template <typename V, typename Build>
__attribute__((always_inline)) inline void GatherRowsImpl(const SparseGatherArgs& a, int64_t begin, int64_t end) {
  const V* values = static_cast<const V*>(a.values);
  const int64_t d = a.d;
  const int64_t k = a.k;
  const int64_t last = end * k;  // one past the last (query, neighbour) of this chunk
  std::vector<float> wbuf(a.weight_type == WeightType::kFloat16 ? static_cast<size_t>(k) : 0);
  for (int64_t n = begin; n < end; ++n) {
    float* out = a.out + n * d;
    if (k == 0) {
      std::memset(out, 0, static_cast<size_t>(d) * sizeof(float));
      continue;
    }
    const int64_t* idx = a.indices + n * k;
    const float* w;
    if (a.weight_type == WeightType::kFloat32) {
      w = static_cast<const float*>(a.weights) + n * k;
    } else {
      const uint16_t* wh = static_cast<const uint16_t*>(a.weights) + n * k;
      for (int64_t m = 0; m < k; ++m) wbuf[m] = HalfToFloat(wh[m]);
      w = wbuf.data();
    }
    // The two rows read after this one, in this chunk (or this row again at its end).
    for (int64_t m = 0; m < k; ++m) {
      const int64_t f = n * k + m;
      const int64_t next = f + 1 < last ? a.indices[f + 1] : idx[m];
      const int64_t after = f + 2 < last ? a.indices[f + 2] : next;
      AccumulateRow<V, Build>(m == 0, out, values + idx[m] * d, values + next * d, values + after * d, w[m], d,
                              a.value_type);
    }
  }
}

__attribute__((target("avx2,fma,f16c"))) void GatherRowsAvx2(const SparseGatherArgs& a, int64_t begin,
                                                             int64_t end) {
  if (a.value_type == ValueType::kFloat32) {
    GatherRowsImpl<float, Avx2Build>(a, begin, end);
  } else {
    GatherRowsImpl<uint16_t, Avx2Build>(a, begin, end);
  }
}

void GatherRowsGeneric(const SparseGatherArgs& a, int64_t begin, int64_t end) {
  if (a.value_type == ValueType::kFloat32) {
    GatherRowsImpl<float, GenericBuild>(a, begin, end);
  } else {
    GatherRowsImpl<uint16_t, GenericBuild>(a, begin, end);
  }
}

}  // namespace

void SparseGatherRows(const SparseGatherArgs& args, int64_t row_begin, int64_t row_end) {
  if (args.value_type == ValueType::kInt8 || args.value_type == ValueType::kFloat8E4M3) {
    GatherQuantizedRows(args, row_begin, row_end);
    return;
  }
  static const auto gather = ActiveIsa() == Isa::kAvx2 ? &GatherRowsAvx2 : &GatherRowsGeneric;
  gather(args, row_begin, row_end);
}

}  // namespace msn
