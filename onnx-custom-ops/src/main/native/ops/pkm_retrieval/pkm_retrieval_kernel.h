// pkm_retrieval_kernel.h - product-key retrieval for one query at a time; plain pointers, no ORT.
#ifndef MSN_PKM_RETRIEVAL_KERNEL_H_
#define MSN_PKM_RETRIEVAL_KERNEL_H_

#include <cstdint>
#include <vector>

namespace msn {

// The largest sub-key count: slots i*S + j must fit in 32 bits (S*S <= 2^32).
inline constexpr int64_t kMaxSubKeys = 65536;

// Retrieves the top-k memory slots of one query from its two half-score vectors, following
// docs/model-contract.md:
//   1. (a_i, i) = topk(row_scores, k), (b_j, j) = topk(col_scores, k); ties: lower index first.
//   2. candidates c = a_i + b_j (float32 addition, as the ONNX Add of the reference graph) with
//      slot i*S + j; keep the top-k; ties: lower slot first.
//   3. weights = softmax over the k kept scores (max-subtracted, evaluated in double, rounded to
//      float32).
// Output order: descending score, ties by ascending slot.
//
// Selection (both stages) never sorts everything. Scores become 32-bit integers with the same
// order. A lower bound on the k-th best is the smallest of the maxima of k disjoint groups (those
// k maxima are k distinct candidates at or above it); candidates below it are dropped with a
// branch-free compaction, and the bound is tightened on the survivors a few times. The few dozen
// survivors are then ranked exactly by counting, for each one, how many others beat it (score,
// then id) - a branch-free, vectorised O(n^2) pass that yields the sorted order directly. Large
// survivor sets (ties, or k near S) fall back to nth_element + sort.
//
// Stage 2 scores only the pairs (i, j) of the sorted halves (0-based ranks) with (i+1)(j+1) <= k:
// a pair with (i+1)(j+1) > k is dominated by at least k other pairs (every (i', j') with i' <= i,
// j' <= j scores >= c_ij), so it cannot be in the top-k unless it ties. Because float32 sums can
// round different pairs to the same value, and the slot rule may then prefer the dominated pair,
// the skipped pairs whose score still reaches the k-th kept score are added back (scores fall
// along each row, so that is usually one test per row) and the top-k is taken again. That keeps
// the result exactly equal to scoring all k*k pairs.
//
// Not thread-safe: each worker owns one instance (it holds the scratch buffers).
class PkmRetrievalKernel {
 public:
  PkmRetrievalKernel(int64_t sub_keys, int64_t k);

  // a, b: S finite-or-infinite scores (no NaN; callers check). Writes k weights and k slots.
  void Retrieve(const float* a, const float* b, float* weights, int64_t* slots);

  // Number of candidate pairs scored by the last Retrieve (for tests and tuning).
  int64_t last_candidates() const { return last_candidates_; }

 private:
  // Top-k of the n candidates in (keys_, ids_) into (out_key, out_id), best first. Clobbers them.
  void SelectTopK(int64_t n, int32_t* out_key, int32_t* out_id);
  void SelectHalf(const float* scores, float* top_scores, uint32_t* top_index);

  int64_t s_;
  int64_t k_;
  std::vector<int32_t> keys_, ids_;   // candidate order keys and (sign-flipped) ids
  std::vector<int32_t> group_max_;    // k
  std::vector<int32_t> rank_;         // rank scratch
  std::vector<uint64_t> wide_;        // fallback scratch
  std::vector<int32_t> sel_key_, sel_id_;  // k + 1 (the extra entry absorbs ranks >= k)
  std::vector<float> top_a_, top_b_;
  std::vector<uint32_t> idx_a_, idx_b_;
  std::vector<double> exps_;
  int64_t last_candidates_ = 0;
};

}  // namespace msn

#endif  // MSN_PKM_RETRIEVAL_KERNEL_H_
