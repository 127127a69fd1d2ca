// MsnLayer: one whole memory layer per query, so that the query, the 2*s scores and the k*k
// candidates never leave the chip.
//
// One block of MSN_LAYER_QUERIES_PER_BLOCK warps handles that many queries at a time (grid-stride
// over query groups), everything in shared memory:
//   1. the x rows, widened to float32;
//   2. projection: warp w computes outputs o = w, w + W, ... of all the block's queries, its lanes
//      striding over d (coalesced reads of the Wq row, reused for every query of the block), float32
//      partial sums per lane, then a warp tree sum; + bq;
//   3. LayerNorm of each half (warp w: query w; two passes: mean, then biased variance);
//   4. scores: thread t computes key rows t, t + blockDim, ... of both halves for all the block's
//      queries (each K row read once per block), float32, into shared memory;
//   5. retrieval: warp w runs the PKM retrieval of query w on its shared scores (pkm_device.cuh, the
//      code of msn_pkm_retrieval);
//   6. read and gate: the block's threads stride over (query, column): v = sum_m w_m V[row_m, col]
//      (float32, in rank order), y = x * gate(v), stored in the type of x.
#include "msn_kernels.h"
#include "msn_kernels_internal.cuh"
#include "pkm_device.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace msn {
namespace {

using namespace pkm;

constexpr int kQ = MSN_LAYER_QUERIES_PER_BLOCK;   // queries per block = warps per block
constexpr int kLayerThreads = kQ * 32;

// Device-side copy of the parameters (passed by value).
struct LayerArgs {
    msn_layer_params p;
    int64_t n;
    const void* x;
    int xHalf;
    void* y;
    float* weights;
    int64_t* indices;
};

__device__ __forceinline__ float loadX(const void* x, int half, int64_t at) {
    return half ? __half2float(static_cast<const __half*>(x)[at]) : static_cast<const float*>(x)[at];
}

__device__ __forceinline__ float loadValue(const void* v, msn_dtype t, int64_t at) {
    switch (t) {
    case MSN_FLOAT16: return __half2float(static_cast<const __half*>(v)[at]);
    case MSN_BFLOAT16: return __bfloat162float(static_cast<const __nv_bfloat16*>(v)[at]);
    default: return static_cast<const float*>(v)[at];
    }
}

__device__ __forceinline__ float activate(msn_gate g, float v) {
    switch (g) {
    case MSN_GATE_TANH: return tanhf(v);
    case MSN_GATE_SIGMOID: return 1.0f / (1.0f + expf(-v));
    default: return v;
    }
}

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
    return v;
}

// Step 2: qs[qq][o] = Wq[o] . xs[qq] + bq[o] for the block's queries.
__device__ void project(const msn_layer_params& p, const float* xs, float* qs, int warp, int lane) {
    const int64_t d = p.d;
    const int out = 2 * p.dk;
    for (int o = warp; o < out; o += kQ) {
        const float* w = p.wq + (int64_t)o * d;
        float acc[kQ];
#pragma unroll
        for (int qq = 0; qq < kQ; ++qq) acc[qq] = 0.0f;
        for (int64_t i = lane; i < d; i += 32) {
            const float wi = w[i];
#pragma unroll
            for (int qq = 0; qq < kQ; ++qq) acc[qq] = fmaf(wi, xs[qq * d + i], acc[qq]);
        }
#pragma unroll
        for (int qq = 0; qq < kQ; ++qq) {
            const float sum = warpSum(acc[qq]);
            if (lane == 0) qs[qq * out + o] = sum + p.bq[o];
        }
    }
}

// Step 3: LayerNorm of q[0, dk) in place, one warp.
__device__ void layerNorm(float* q, int dk, const float* gamma, const float* beta, float eps, int lane) {
    float sum = 0.0f;
    for (int i = lane; i < dk; i += 32) sum += q[i];
    const float mean = warpSum(sum) / (float)dk;
    float sq = 0.0f;
    for (int i = lane; i < dk; i += 32) {
        const float c = q[i] - mean;
        sq = fmaf(c, c, sq);
    }
    const float inv = rsqrtf(warpSum(sq) / (float)dk + eps);
    __syncwarp();
    for (int i = lane; i < dk; i += 32) q[i] = (q[i] - mean) * inv * gamma[i] + beta[i];
    __syncwarp();
}

// Step 4: sc[qq][h*s + j] = K_h[j] . q_h of query qq, for both halves h.
__device__ void score(const msn_layer_params& p, const float* qs, float* sc) {
    const int dk = p.dk, s = p.s;
    for (int t = threadIdx.x; t < 2 * s; t += blockDim.x) {
        const int h = t >= s ? 1 : 0;
        const int j = t - h * s;
        const float* key = (h ? p.k_col : p.k_row) + (int64_t)j * dk;
        float acc[kQ];
#pragma unroll
        for (int qq = 0; qq < kQ; ++qq) acc[qq] = 0.0f;
        for (int i = 0; i < dk; ++i) {
            const float ki = key[i];
#pragma unroll
            for (int qq = 0; qq < kQ; ++qq) acc[qq] = fmaf(ki, qs[qq * 2 * dk + h * dk + i], acc[qq]);
        }
#pragma unroll
        for (int qq = 0; qq < kQ; ++qq) sc[qq * 2 * s + t] = acc[qq];
    }
}

template <int E1, int KMAX>
__global__ void __launch_bounds__(kLayerThreads) msnLayerKernel(LayerArgs a) {
    extern __shared__ float smem[];
    __shared__ WarpScratch scratch[kQ];
    __shared__ PairTable pairTable;
    __shared__ float keptW[kQ][MSN_PKM_MAX_K];
    __shared__ int64_t keptRow[kQ][MSN_PKM_MAX_K];

    const msn_layer_params& p = a.p;
    const int64_t d = p.d;
    const int dk = p.dk, s = p.s, k = p.k;
    float* xs = smem;                 // [kQ][d]
    float* qs = xs + kQ * d;          // [kQ][2dk]
    float* sc = qs + kQ * 2 * dk;     // [kQ][2s]
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    WarpScratch& ws = startRetrievalBlock(scratch, pairTable, k, lane, warp);
    const int64_t slotsPerTable = (int64_t)s * s;

    for (int64_t q0 = (int64_t)blockIdx.x * kQ; q0 < a.n; q0 += (int64_t)gridDim.x * kQ) {
        const int live = (int)(a.n - q0 < kQ ? a.n - q0 : kQ);
        __syncthreads();   // the previous group is done with the shared buffers (and the pair table is built)
        for (int64_t e = threadIdx.x; e < kQ * d; e += blockDim.x) {
            const int qq = (int)(e / d);
            xs[e] = qq < live ? loadX(a.x, a.xHalf, (q0 + qq) * d + (e - qq * d)) : 0.0f;
        }
        __syncthreads();
        project(p, xs, qs, warp, lane);
        __syncthreads();
        layerNorm(qs + warp * 2 * dk, dk, p.ln_row_w, p.ln_row_b, p.epsilon, lane);
        layerNorm(qs + warp * 2 * dk + dk, dk, p.ln_col_w, p.ln_col_b, p.epsilon, lane);
        __syncthreads();
        score(p, qs, sc);
        __syncthreads();
        if (warp < live) {
            const int64_t q = q0 + warp;
            const float* a0 = sc + warp * 2 * s;
            const LaneResult res = retrieveQuery<float, E1, KMAX>(a0, a0 + s, s, k, false, ws, pairTable, lane);
            const int64_t offset = p.per_token ? (q % p.tokens) * slotsPerTable : 0;
            if (lane < k) {
                keptW[warp][res.r0] = res.w0;
                keptRow[warp][res.r0] = res.slot0 + offset;
                a.weights[q * k + res.r0] = res.w0;
                a.indices[q * k + res.r0] = res.slot0;
            }
            if (KMAX > 32 && lane + 32 < k) {
                keptW[warp][res.r1] = res.w1;
                keptRow[warp][res.r1] = res.slot1 + offset;
                a.weights[q * k + res.r1] = res.w1;
                a.indices[q * k + res.r1] = res.slot1;
            }
        }
        __syncthreads();
        for (int64_t e = threadIdx.x; e < (int64_t)live * d; e += blockDim.x) {
            const int qq = (int)(e / d);
            const int64_t col = e - qq * d;
            float v = 0.0f;
            for (int m = 0; m < k; ++m) v = fmaf(keptW[qq][m], loadValue(p.values, p.value_type, keptRow[qq][m] * d + col), v);
            const float y = xs[e] * activate(p.gate, v);
            const int64_t at = (q0 + qq) * d + col;
            if (a.xHalf) static_cast<__half*>(a.y)[at] = __float2half_rn(y);
            else static_cast<float*>(a.y)[at] = y;
        }
    }
}

size_t dynamicSharedBytes(const msn_layer_params& p) {
    return sizeof(float) * (size_t)kQ * ((size_t)p.d + 2u * (size_t)p.dk + 2u * (size_t)p.s);
}

template <int E1, int KMAX>
cudaError_t launchLayer(const LayerArgs& a, cudaStream_t stream) {
    int device = 0, sms = 0, optin = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    if (err != cudaSuccess) return err;
    cudaFuncAttributes attrs;
    err = cudaFuncGetAttributes(&attrs, msnLayerKernel<E1, KMAX>);
    if (err != cudaSuccess) return err;
    const size_t bytes = dynamicSharedBytes(a.p);
    if (bytes + attrs.sharedSizeBytes > (size_t)optin) return cudaErrorInvalidConfiguration;
    // Without the opt-in, static plus dynamic shared memory may not pass 48 KiB: the opt-in is
    // needed as soon as their sum does (paper-like widths at S = 1024 need exactly 48 KiB dynamic).
    if (bytes + attrs.sharedSizeBytes > 48u * 1024u) {
        err = cudaFuncSetAttribute(msnLayerKernel<E1, KMAX>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
        if (err != cudaSuccess) return err;
    }
    const int64_t wanted = (a.n + kQ - 1) / kQ;
    const int64_t cap = (int64_t)sms * 16;
    const unsigned grid = (unsigned)(wanted < cap ? wanted : cap);
    msnLayerKernel<E1, KMAX><<<grid, kLayerThreads, bytes, stream>>>(a);
    return cudaGetLastError();
}

template <int E1>
cudaError_t dispatchLayerK(const LayerArgs& a, cudaStream_t stream) {
    if (a.p.k <= 16) return launchLayer<E1, 16>(a, stream);
    if (a.p.k <= 32) return launchLayer<E1, 32>(a, stream);
    return launchLayer<E1, 64>(a, stream);
}

cudaError_t dispatchLayer(const LayerArgs& a, cudaStream_t stream) {
    if (a.p.s <= 64) return dispatchLayerK<2>(a, stream);
    if (a.p.s <= 256) return dispatchLayerK<8>(a, stream);
    return dispatchLayerK<32>(a, stream);
}

} // namespace
} // namespace msn

extern "C" int msn_layer_check(const msn_layer_params* p, msn_dtype xType) {
    if (p == nullptr) return MSN_ERR_INVALID_ARGUMENT;
    if (p->d < 1 || p->dk < 1 || p->tokens < 1 || (p->per_token != 0 && p->per_token != 1)) return MSN_ERR_UNSUPPORTED;
    if (msn_pkm_retrieval_check(p->s, p->k, MSN_FLOAT32, MSN_FLOAT32, MSN_INT64) != MSN_OK) return MSN_ERR_UNSUPPORTED;
    if (p->gate != MSN_GATE_TANH && p->gate != MSN_GATE_SIGMOID && p->gate != MSN_GATE_IDENTITY) return MSN_ERR_UNSUPPORTED;
    if (!(p->epsilon > 0.0f)) return MSN_ERR_UNSUPPORTED;
    if (xType != MSN_FLOAT32 && xType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (p->value_type != MSN_FLOAT32 && p->value_type != MSN_FLOAT16 && p->value_type != MSN_BFLOAT16)
        return MSN_ERR_UNSUPPORTED;
    return MSN_OK;
}

extern "C" int msn_layer(const msn_layer_params* p, int64_t n, const void* x, msn_dtype xType, void* y,
                         float* weights, int64_t* indices, cudaStream_t stream) {
    const int check = msn_layer_check(p, xType);
    if (check != MSN_OK) return check;
    if (n < 0) return MSN_ERR_INVALID_ARGUMENT;
    if (n == 0) return MSN_OK;
    if (!x || !y || !weights || !indices || !p->wq || !p->bq || !p->ln_row_w || !p->ln_row_b || !p->ln_col_w ||
        !p->ln_col_b || !p->k_row || !p->k_col || !p->values)
        return MSN_ERR_INVALID_ARGUMENT;
    msn::LayerArgs a;
    a.p = *p;
    a.n = n;
    a.x = x;
    a.xHalf = xType == MSN_FLOAT16;
    a.y = y;
    a.weights = weights;
    a.indices = indices;
    const cudaError_t err = msn::dispatchLayer(a, stream);
    if (err == cudaErrorInvalidConfiguration) return MSN_ERR_UNSUPPORTED;
    return err == cudaSuccess ? MSN_OK : MSN_ERR_LAUNCH;
}
