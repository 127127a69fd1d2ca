// msn_layer_kernel.h - one whole MSN memory layer for one query at a time; plain pointers, no ORT.
// The retrieval and the weighted read are PkmRetrievalKernel and SparseGatherRows (the folders
// ops/pkm_retrieval/ and ops/sparse_gather/), called, not copied; this file adds the query projection, the two query LayerNorms, the scoring against
// the folded keys, and the gate.
#ifndef MSN_OPS_MSN_LAYER_KERNEL_H_
#define MSN_OPS_MSN_LAYER_KERNEL_H_

#include <cstdint>
#include <vector>

#include "../pkm_retrieval/pkm_retrieval_kernel.h"
#include "../sparse_gather/sparse_gather_kernel.h"

namespace msn {

enum class Gate { kTanh, kSigmoid, kIdentity };

// Parses "tanh", "sigmoid" or "identity"; false for anything else.
bool ParseGate(const char* name, Gate* out);

// The layer's parameters, as MsnLayer's inputs 1..9 (docs/model-contract.md, msn.MsnLayer).
struct MsnLayerParams {
  int64_t d = 0, dk = 0, s = 0, k = 0;
  int64_t tokens = 1;      // T: token t = r mod T reads rows slot + t*S*S when per_token
  bool per_token = false;
  Gate gate = Gate::kTanh;
  float epsilon = 1e-5f;
  const float* wq = nullptr;        // [2*dk, D]
  const float* bq = nullptr;        // [2*dk]
  const float* ln_row_w = nullptr;  // [dk] each
  const float* ln_row_b = nullptr;
  const float* ln_col_w = nullptr;
  const float* ln_col_b = nullptr;
  const float* k_row = nullptr;  // [S, dk], LayerNormed and scaled by score_scale
  const float* k_col = nullptr;  // [S, dk]
  const void* values = nullptr;  // [M, D], M = S*S (T*S*S when per_token), checked by the caller
  ValueType value_type = ValueType::kFloat32;
};

// Per query r with token row x (D floats, already widened):
//   q = Wq x + bq; q_row = LN(q[0:dk]), q_col = LN(q[dk:2dk]); a = K_row q_row, b = K_col q_col;
//   (w, slots) = PKMRetrieval(a, b); v = sum_m w_m V[slot_m (+ t*S*S)]; y = x * act(v).
// Every dot product and the LayerNorm statistics are evaluated in double and each intermediate
// (q, the normed halves, the scores) is rounded to float32 once, so the result is the float32
// rounding of each step of the contract (no accumulation-order noise). The read and the gate are
// float32, as SparseGather and the ONNX Tanh/Sigmoid/Mul ops of the unfused graph.
//
// Not thread-safe: each worker owns one instance (it holds the scratch buffers).
class MsnLayerKernel {
 public:
  explicit MsnLayerKernel(const MsnLayerParams& p);

  // Returns -1 on success, else the first position in [0, 2S) whose score is NaN (a in [0, S),
  // b in [S, 2S)); then nothing is written. y: D floats; weights: k floats; slots: k int64.
  int64_t Run(int64_t r, const float* x, float* y, float* weights, int64_t* slots);

 private:
  void Project(const float* x);
  void Score(const float* keys, const float* q, float* out) const;

  const MsnLayerParams p_;
  PkmRetrievalKernel pkm_;
  std::vector<float> q_, a_, b_, v_;
  std::vector<int64_t> rows_;
};

}  // namespace msn

#endif  // MSN_OPS_MSN_LAYER_KERNEL_H_
