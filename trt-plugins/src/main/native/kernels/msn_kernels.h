// CUDA kernels of the MSN custom ops (PKMRetrieval, SparseGather, MsnLayer) (docs: shared msn-model.md, "The two custom ops").
//
// Plain pointers and sizes, a stream, no TensorRT: the TensorRT plugins call these, and so
// does the standalone test and timing harness (kernels/test/msn_kernels_test.cu).
// All tensors are dense row-major; every function only enqueues work on `stream` and
// returns a status without synchronizing.
#ifndef MSN_KERNELS_H
#define MSN_KERNELS_H

#include <stdint.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

// Element types understood by the kernels (our own numbering, not TensorRT's).
typedef enum msn_dtype {
    MSN_FLOAT32 = 0,
    MSN_FLOAT16 = 1,
    MSN_BFLOAT16 = 2,
    MSN_INT32 = 3,
    MSN_INT64 = 4,
    MSN_INT8 = 5,          // quantized value tables: codes in [-127, 127]
    MSN_FLOAT8_E4M3 = 6    // quantized value tables: OCP E4M3FN codes (no NaN code stored)
} msn_dtype;

typedef enum msn_status {
    MSN_OK = 0,
    MSN_ERR_INVALID_ARGUMENT = 1, // null pointer where data is needed, negative size
    MSN_ERR_UNSUPPORTED = 2,      // shape or type outside what the kernel supports
    MSN_ERR_LAUNCH = 3            // the CUDA runtime refused the launch
} msn_status;

// PKMRetrieval limits: 1 <= S <= MSN_PKM_MAX_S, 1 <= k <= min(S, MSN_PKM_MAX_K).
#define MSN_PKM_MAX_S 4096
#define MSN_PKM_MAX_K 64

// Returns MSN_OK when msn_pkm_retrieval supports this shape and these types.
int msn_pkm_retrieval_check(int32_t s, int32_t k, msn_dtype score_type, msn_dtype weight_type,
                            msn_dtype index_type);

// PKMRetrieval: row_scores [n,s], col_scores [n,s] (both score_type: FLOAT32 or FLOAT16)
//   -> weights [n,k] (weight_type: FLOAT32 or FLOAT16), indices [n,k] (index_type: INT64 or INT32).
// Per query: top-k of each half (ties: lower index first), candidates a_i + b_j (float32 add) over
// the rank pairs with (i+1)(j+1) <= k, top-k of those (ties: lower slot i*s+j first), softmax over
// the k kept. Output sorted by descending candidate score. NaN scores are not supported.
int msn_pkm_retrieval(const void* row_scores, const void* col_scores, msn_dtype score_type,
                      int64_t n, int32_t s, int32_t k,
                      void* weights, msn_dtype weight_type,
                      void* indices, msn_dtype index_type,
                      cudaStream_t stream);

// SparseGather: values [m,d] (FLOAT32, FLOAT16 or BFLOAT16), indices [n,k] (INT64 or INT32),
//   weights [n,k] (FLOAT32 or FLOAT16) -> out [n,d] (FLOAT32 or FLOAT16),
//   out[r] = sum_j weights[r,j] * values[indices[r,j]], accumulated in float32.
// An index outside [0,m) is never read and contributes zero; when error_flag is not null the
// kernel then ORs 1 into *error_flag (device memory; the caller clears it).
int msn_sparse_gather(const void* values, msn_dtype value_type, int64_t m, int64_t d,
                      const void* indices, msn_dtype index_type,
                      const void* weights, msn_dtype weight_type,
                      int64_t n, int64_t k,
                      void* out, msn_dtype out_type,
                      int32_t* error_flag, cudaStream_t stream);

// SparseGather over a per-row quantized table (docs/model-contract.md, "Quantized value tables"):
//   values [m,d] (INT8 or FLOAT8_E4M3 codes), scales [m] float32, the rest as msn_sparse_gather;
//   out[r] = sum_j (weights[r,j] * scales[i]) * float(values[i]) with i = indices[r,j], float32
//   accumulation. scales may be null only for a FLOAT32/FLOAT16/BFLOAT16 table (then this is
//   msn_sparse_gather); a quantized table needs them.
int msn_sparse_gather_scaled(const void* values, msn_dtype value_type, const float* scales, int64_t m, int64_t d,
                             const void* indices, msn_dtype index_type,
                             const void* weights, msn_dtype weight_type,
                             int64_t n, int64_t k,
                             void* out, msn_dtype out_type,
                             int32_t* error_flag, cudaStream_t stream);

// MsnLayer (one whole memory layer, docs/model-contract.md "msn.MsnLayer"): per query r,
//   q = Wq x_r + bq (float32-accurate); q_row = LN(q[0:dk]), q_col = LN(q[dk:2dk]) (biased variance,
//   epsilon); a = K_row q_row, b = K_col q_col; (w, slots) = PKMRetrieval(a, b) as msn_pkm_retrieval;
//   v = sum_m w_m values[slot_m + (per_token ? (r mod tokens) * s*s : 0)]; y_r = x_r * gate(v).
// Limits: 1 <= k <= min(s, MSN_PKM_MAX_K), s <= MSN_PKM_MAX_S, d <= 2^30. The products run on the
// tensor cores (TF32 head/tail splits, float32 accumulation: kernels/msn_layer.cu), so sm_80 or newer.
typedef enum msn_gate { MSN_GATE_TANH = 0, MSN_GATE_SIGMOID = 1, MSN_GATE_IDENTITY = 2 } msn_gate;

typedef struct msn_layer_params {
    int64_t d;              // token width D
    int32_t dk;             // query half width
    int32_t s;              // sub-keys per half
    int32_t k;              // slots kept
    int32_t tokens;         // T (per_token: query r is token r mod T)
    int32_t per_token;      // 0 or 1
    msn_gate gate;
    float epsilon;          // LayerNorm epsilon (1e-5)
    const float* wq;        // [2*dk, d]
    const float* bq;        // [2*dk]
    const float* ln_row_w;  // [dk] each
    const float* ln_row_b;
    const float* ln_col_w;
    const float* ln_col_b;
    const float* k_row;     // [s, dk], LayerNormed and scaled
    const float* k_col;     // [s, dk]
    const void* values;     // [s*s (times tokens when per_token), d]
    msn_dtype value_type;   // FLOAT32, FLOAT16 or BFLOAT16
} msn_layer_params;

// Returns MSN_OK when msn_layer supports these sizes and types.
int msn_layer_check(const msn_layer_params* p, msn_dtype x_type);

// Bytes of device workspace msn_layer needs for any batch of up to n queries (0 when p is refused).
size_t msn_layer_workspace_size(const msn_layer_params* p, int64_t n);
// x [n, d] (x_type: FLOAT32 or FLOAT16) -> y [n, d] (x_type), weights [n, k] float32, indices [n, k]
// int64 (slots in [0, s*s), without the per-token offset). workspace: device memory of at least
// msn_layer_workspace_size(p, n) bytes, 16-byte aligned, not used by anything else until the stream
// has run the layer. NaN scores are not supported.
int msn_layer(const msn_layer_params* p, int64_t n, const void* x, msn_dtype x_type, void* y, float* weights,
              int64_t* indices, void* workspace, size_t workspace_bytes, cudaStream_t stream);

// A short English name of a status code.
const char* msn_status_string(int status);

#ifdef __cplusplus
}
#endif

#endif // MSN_KERNELS_H
