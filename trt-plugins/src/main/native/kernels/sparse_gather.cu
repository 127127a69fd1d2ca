// SparseGather: out[r] = sum_j weights[r,j] * values[indices[r,j]], float32 accumulation.
//
// One warp owns one output row (or a slab of its columns when there are too few rows to fill
// the GPU). Lane j of the warp loads index/weight j once; each step broadcasts two of them
// and every lane issues 16-byte loads for its part of both value rows (up to 1024 columns
// each) before using any of them.
// Rows whose index is outside [0, m) are skipped (never read) and counted as an error.
//
// Few rows (too few warps to fill the GPU even at one 32-chunk column slab per warp) and k > 2:
// that path walks k in serial rounds of kRowsInFlight rows, one memory latency each. The small-N
// path instead gives one block a (row, column slab): its 8 warps load up to 32 of the row's k
// value rows (16 for one-byte codes) at once into shared memory, one latency per pass, then each
// column is summed over j = 0, 1, ..., k-1 with the same fmaf chain as the warp path, so both
// paths give the same bits. MSN_KERNELS_SMALL_N (msn_kernels_internal.cuh) can force either.
#include "msn_kernels.h"
#include "msn_kernels_internal.cuh"

#include "quant_codes.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <stdint.h>

namespace msn {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
// Column chunks (32 lanes x VEC elements) one warp holds: 32 / VEC, so 1024 columns of any
// type, 32 float accumulators per lane.
template <int VEC> __host__ __device__ constexpr int maxChunks() { return 32 / VEC; }
constexpr int kRowsInFlight = 2;
constexpr unsigned kFull = 0xffffffffu;

template <typename VT> struct Vec;   // VEC elements as one 16-byte load, or one element
template <> struct Vec<float> {
    static constexpr int N = 4;
    __device__ static void load(const float* p, float (&f)[N]) {
        const float4 v = __ldg(reinterpret_cast<const float4*>(p));
        f[0] = v.x; f[1] = v.y; f[2] = v.z; f[3] = v.w;
    }
};
// Two 16-bit floats as a float2.
__device__ __forceinline__ float2 pairToFloat2(__half2 h) { return __half22float2(h); }
__device__ __forceinline__ float2 pairToFloat2(__nv_bfloat162 h) { return __bfloat1622float2(h); }
// 16-bit floats T: 8 per 16-byte load, read as four pairs Pair (T's two-element type).
template <typename T, typename Pair> struct PairVec {
    static constexpr int N = 8;
    __device__ static void load(const T* p, float (&f)[N]) {
        const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
        const unsigned w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            Pair h;
            memcpy(&h, &w[i], 4);
            const float2 t = pairToFloat2(h);
            f[2 * i] = t.x;
            f[2 * i + 1] = t.y;
        }
    }
};
template <> struct Vec<__half> : PairVec<__half, __half2> {};
template <> struct Vec<__nv_bfloat16> : PairVec<__nv_bfloat16, __nv_bfloat162> {};

// Quantized tables (quant_codes.cuh): 16 one-byte codes per 16-byte load.
__device__ __forceinline__ float codeToFloat(const int8_t*, unsigned byte) { return int8CodeToFloat(byte); }
__device__ __forceinline__ float codeToFloat(const E4m3Code*, unsigned byte) { return e4m3CodeToFloat(byte); }
template <typename T> struct CodeVec {
    static constexpr int N = 16;
    __device__ static void load(const T* p, float (&f)[N]) {
        const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
        const unsigned w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 16; ++i) f[i] = codeToFloat(p, (w[i / 4] >> (8 * (i % 4))) & 0xffu);
    }
};
template <> struct Vec<int8_t> : CodeVec<int8_t> {};
template <> struct Vec<E4m3Code> : CodeVec<E4m3Code> {};

__device__ __forceinline__ float scalarToFloat(float v) { return v; }
__device__ __forceinline__ float scalarToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float scalarToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

__device__ __forceinline__ float loadScalar(const int8_t* p) {
    return int8CodeToFloat(__ldg(reinterpret_cast<const unsigned char*>(p)));
}
__device__ __forceinline__ float loadScalar(const E4m3Code* p) {
    return e4m3CodeToFloat(__ldg(reinterpret_cast<const unsigned char*>(p)));
}
__device__ __forceinline__ float loadScalar(const float* p) { return scalarToFloat(__ldg(p)); }
__device__ __forceinline__ float loadScalar(const __half* p) { return scalarToFloat(__ldg(p)); }
__device__ __forceinline__ float loadScalar(const __nv_bfloat16* p) { return scalarToFloat(__ldg(p)); }


template <typename VT, int VEC>
__device__ __forceinline__ void loadValues(const VT* p, float (&f)[VEC]) {
    if constexpr (VEC == 1) f[0] = loadScalar(p);
    else Vec<VT>::load(p, f);
}

// Writes VEC consecutive outputs; vector stores when outVec says the row allows them.
template <int VEC>
__device__ __forceinline__ void storeOut(void* out, bool out16, bool outVec, int64_t at,
                                         const float (&f)[VEC]) {
    if (out16) {
        __half* o = static_cast<__half*>(out) + at;
        if constexpr (VEC % 2 == 0) {
            if (outVec) {
                unsigned words[VEC / 2];
#pragma unroll
                for (int i = 0; i < VEC / 2; ++i) {
                    const __half2 h = __floats2half2_rn(f[2 * i], f[2 * i + 1]);
                    memcpy(&words[i], &h, 4);
                }
                if constexpr (VEC == 8)
                    *reinterpret_cast<uint4*>(o) = make_uint4(words[0], words[1], words[2], words[3]);
                else if constexpr (VEC == 4)
                    *reinterpret_cast<uint2*>(o) = make_uint2(words[0], words[1]);
                else
#pragma unroll
                    for (int i = 0; i < VEC / 2; ++i) reinterpret_cast<unsigned*>(o)[i] = words[i];
                return;
            }
        }
#pragma unroll
        for (int i = 0; i < VEC; ++i) o[i] = __float2half_rn(f[i]);
    } else {
        float* o = static_cast<float*>(out) + at;
        if constexpr (VEC % 4 == 0) {
            if (outVec) {
#pragma unroll
                for (int i = 0; i < VEC; i += 4)
                    *reinterpret_cast<float4*>(o + i) = make_float4(f[i], f[i + 1], f[i + 2], f[i + 3]);
                return;
            }
        }
#pragma unroll
        for (int i = 0; i < VEC; ++i) o[i] = f[i];
    }
}

// Entry `at` of a row's indices and weights: returns the value row, or -1 for an index outside
// [0, m) (never read; sets the error flag), and sets w to the weight (times the row's scale for a
// quantized table: w * scale, then times the codes).
__device__ __forceinline__ int64_t loadEntry(const void* __restrict__ indices, int idx32,
                                             const void* __restrict__ weights, int w16,
                                             const float* __restrict__ scales, int64_t m,
                                             int32_t* __restrict__ errorFlag, int64_t at, float& w) {
    int64_t idx = idx32 ? (int64_t) static_cast<const int32_t*>(indices)[at] : static_cast<const int64_t*>(indices)[at];
    w = w16 ? __half2float(static_cast<const __half*>(weights)[at]) : static_cast<const float*>(weights)[at];
    if (idx < 0 || idx >= m) {
        if (errorFlag) atomicOr(errorFlag, 1);
        idx = -1;
    } else if (scales) {
        w *= __ldg(scales + idx);
    }
    return idx;
}

// The wide paths' shared steps: lane j's entry j0 + j of row `row` (index, weight times scale;
// -1 past k or for a bad index), and entries j .. j + ROWS - 1 broadcast to every lane (-1 from cnt on).
__device__ __forceinline__ int64_t laneEntry(const void* __restrict__ indices, int idx32,
                                             const void* __restrict__ weights, int w16,
                                             const float* __restrict__ scales, int64_t m,
                                             int32_t* __restrict__ errorFlag, int64_t row, int64_t k, int64_t j0,
                                             int lane, float& w) {
    int64_t idx = -1;
    w = 0.0f;
    if (j0 + lane < k) idx = loadEntry(indices, idx32, weights, w16, scales, m, errorFlag, row * k + j0 + lane, w);
    return idx;
}

// Zeros of a warp's accumulators.
template <int C, int V>
__device__ __forceinline__ void zero(float (&acc)[C][V]) {
#pragma unroll
    for (int c = 0; c < C; ++c)
#pragma unroll
        for (int v = 0; v < V; ++v) acc[c][v] = 0.0f;
}

template <int ROWS>
__device__ __forceinline__ void broadcastEntries(int64_t myIdx, float myW, int j, int cnt, int64_t (&r)[ROWS],
                                                 float (&w)[ROWS]) {
#pragma unroll
    for (int u = 0; u < ROWS; ++u) {
        r[u] = __shfl_sync(kFull, myIdx, (j + u) & 31);
        w[u] = __shfl_sync(kFull, myW, (j + u) & 31);
        if (j + u >= cnt) r[u] = -1;
    }
}

template <typename VT, int VEC>
__global__ void __launch_bounds__(kThreads)
sparseGatherKernel(const VT* __restrict__ values, const float* __restrict__ scales, int64_t m, int64_t d,
                   const void* __restrict__ indices, int idx32, const void* __restrict__ weights,
                   int w16, int64_t n, int64_t k, void* __restrict__ out, int out16, int outVec,
                   int32_t* __restrict__ errorFlag, int nch, int64_t slabs) {
    constexpr int kMaxChunks = maxChunks<VEC>();
    const int lane = threadIdx.x & 31;
    const int64_t item = (int64_t)blockIdx.x * kWarps + (threadIdx.x >> 5);
    if (item >= n * slabs) return;
    const int64_t row = item / slabs;
    const int64_t col0 = (item - row * slabs) * (int64_t)nch * 32 * VEC + (int64_t)lane * VEC;

    float acc[kMaxChunks][VEC];
    zero(acc);

    for (int64_t j0 = 0; j0 < k; j0 += 32) {
        // Lane j holds entry j0 + j of this row; a bad index becomes -1 (skipped).
        float myW;
        const int64_t myIdx = laneEntry(indices, idx32, weights, w16, scales, m, errorFlag, row, k, j0, lane, myW);
        const int cnt = (int)((k - j0) < 32 ? (k - j0) : 32);
        for (int j = 0; j < cnt; j += kRowsInFlight) {
            int64_t r[kRowsInFlight];
            float w[kRowsInFlight];
            broadcastEntries(myIdx, myW, j, cnt, r, w);
            float vals[kRowsInFlight][kMaxChunks][VEC];
#pragma unroll
            for (int u = 0; u < kRowsInFlight; ++u) {
                const VT* base = values + (r[u] < 0 ? 0 : r[u]) * d;
#pragma unroll
                for (int c = 0; c < kMaxChunks; ++c) {
                    const int64_t col = col0 + (int64_t)c * 32 * VEC;
                    if (c < nch && r[u] >= 0 && col < d) {
                        loadValues<VT, VEC>(base + col, vals[u][c]);
                    } else {
#pragma unroll
                        for (int v = 0; v < VEC; ++v) vals[u][c][v] = 0.0f;
                    }
                }
            }
#pragma unroll
            for (int u = 0; u < kRowsInFlight; ++u)
#pragma unroll
                for (int c = 0; c < kMaxChunks; ++c)
#pragma unroll
                    for (int v = 0; v < VEC; ++v) acc[c][v] = fmaf(w[u], vals[u][c][v], acc[c][v]);
        }
    }

#pragma unroll
    for (int c = 0; c < kMaxChunks; ++c) {
        const int64_t col = col0 + (int64_t)c * 32 * VEC;
        if (c < nch && col < d) storeOut<VEC>(out, out16 != 0, outVec != 0, row * d + col, acc[c]);
    }
}

// One-byte codes (int8, E4M3) on the wide path: 8 codes per 8-byte load (a chunk of 256 columns,
// so D = 768 keeps all 32 lanes busy), kCodeRows value rows in flight per warp (a row of codes is
// a quarter of a float32 row, so a warp of the generic kernel had too few bytes in flight to reach
// copy bandwidth: 47-59% for int8 and 31-34% for fp8 on the H100), and the codes kept raw until
// their row is summed. Decoding: int8 as (0x4B0000uu - (2^23 + 128)) with uu = code ^ 0x80 (one
// byte permute and one add, exact), E4M3 pairs by cvt to half2 (one instruction on sm_89 and
// later; exact: every E4M3 value is a half). Same entries, order and fmaf chain as the generic
// kernel, so the same bits.
constexpr int kCodeVec = 8;
constexpr int kCodeRows = 8;

__device__ __forceinline__ void decodeCodes(const int8_t*, uint2 raw, float (&f)[kCodeVec]) {
    const unsigned w[2] = {raw.x ^ 0x80808080u, raw.y ^ 0x80808080u};
#pragma unroll
    for (int i = 0; i < kCodeVec; ++i)
        f[i] = __uint_as_float(__byte_perm(w[i >> 2], 0x4B000000u, 0x7650u | (unsigned)(i & 3))) - 8388736.0f;
}
__device__ __forceinline__ void decodeCodes(const E4m3Code*, uint2 raw, float (&f)[kCodeVec]) {
    const unsigned w[2] = {raw.x, raw.y};
#pragma unroll
    for (int i = 0; i < kCodeVec / 2; ++i) {
        const __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(
            static_cast<__nv_fp8x2_storage_t>((w[i >> 1] >> (16 * (i & 1))) & 0xffffu), __NV_E4M3);
        const float2 t = __half22float2(__half2(h));
        f[2 * i] = t.x;
        f[2 * i + 1] = t.y;
    }
}

template <typename VT, int NCH>
__global__ void __launch_bounds__(kThreads, 2)
sparseGatherCodesKernel(const VT* __restrict__ values, const float* __restrict__ scales, int64_t m, int64_t d,
                        const void* __restrict__ indices, int idx32, const void* __restrict__ weights, int w16,
                        int64_t n, int64_t k, void* __restrict__ out, int out16, int outVec,
                        int32_t* __restrict__ errorFlag, int nch, int64_t slabs) {
    const int lane = threadIdx.x & 31;
    const int64_t item = (int64_t)blockIdx.x * kWarps + (threadIdx.x >> 5);
    if (item >= n * slabs) return;
    const int64_t row = item / slabs;
    const int64_t col0 = (item - row * slabs) * (int64_t)nch * 32 * kCodeVec + (int64_t)lane * kCodeVec;

    float acc[NCH][kCodeVec];
    zero(acc);

    for (int64_t j0 = 0; j0 < k; j0 += 32) {
        float myW;
        const int64_t myIdx = laneEntry(indices, idx32, weights, w16, scales, m, errorFlag, row, k, j0, lane, myW);
        const int cnt = (int)((k - j0) < 32 ? (k - j0) : 32);
        for (int j = 0; j < cnt; j += kCodeRows) {
            int64_t r[kCodeRows];
            float w[kCodeRows];
            broadcastEntries(myIdx, myW, j, cnt, r, w);
            uint2 raw[kCodeRows][NCH];   // code 0 decodes to +0, what a skipped row adds
#pragma unroll
            for (int u = 0; u < kCodeRows; ++u)
#pragma unroll
                for (int c = 0; c < NCH; ++c) {
                    const int64_t col = col0 + (int64_t)c * 32 * kCodeVec;
                    raw[u][c] = c < nch && r[u] >= 0 && col < d
                                    ? __ldg(reinterpret_cast<const uint2*>(values + r[u] * d + col))
                                    : make_uint2(0u, 0u);
                }
#pragma unroll
            for (int u = 0; u < kCodeRows; ++u)
#pragma unroll
                for (int c = 0; c < NCH; ++c) {
                    float f[kCodeVec];
                    decodeCodes(values, raw[u][c], f);
#pragma unroll
                    for (int v = 0; v < kCodeVec; ++v) acc[c][v] = fmaf(w[u], f[v], acc[c][v]);
                }
        }
    }

#pragma unroll
    for (int c = 0; c < NCH; ++c) {
        const int64_t col = col0 + (int64_t)c * 32 * kCodeVec;
        if (c < nch && col < d) storeOut<kCodeVec>(out, out16 != 0, outVec != 0, row * d + col, acc[c]);
    }
}

// The small-N path (see the top): block b owns row b / slabs and the slab of 32 chunks (32 * VEC
// columns) number b % slabs. Per pass of up to kSmallRows(VEC) entries j of the row: threads
// 0..rows-1 load index and weight j (a bad index: error flag, row skipped), then warp w loads
// chunk `lane` of rows w, w + 8, ... (all loads issued before any is stored), converts them to
// float into shared memory, and thread t sums columns t, t + 256, ... over the pass's entries in
// order. Every thread of a block runs the same passes, so the barriers are never divergent.
template <int VEC> __host__ __device__ constexpr int smallRows() { return VEC >= 16 ? 16 : 32; }
template <int VEC> __host__ __device__ constexpr int smallCols() { return 32 * VEC; }

template <typename VT, int VEC>
__global__ void __launch_bounds__(kThreads)
sparseGatherSmallKernel(const VT* __restrict__ values, const float* __restrict__ scales, int64_t m, int64_t d,
                        const void* __restrict__ indices, int idx32, const void* __restrict__ weights, int w16,
                        int64_t k, void* __restrict__ out, int out16, int32_t* __restrict__ errorFlag,
                        int64_t slabs) {
    constexpr int kRows = smallRows<VEC>();
    constexpr int kCols = smallCols<VEC>();
    constexpr int kLoads = kRows / kWarps;                        // value loads per thread and pass
    constexpr int kAcc = (kCols + kThreads - 1) / kThreads;       // columns summed per thread
    __shared__ __align__(16) float tile[kRows][kCols];   // 16-byte rows: kCols is a multiple of 4 or VEC is 1
    __shared__ int64_t rowOf[kRows];
    __shared__ float weightOf[kRows];

    const int t = threadIdx.x;
    const int lane = t & 31, warp = t >> 5;
    const int64_t row = (int64_t)blockIdx.x / slabs;
    const int64_t slabCol = ((int64_t)blockIdx.x - row * slabs) * kCols;

    float acc[kAcc];
#pragma unroll
    for (int a = 0; a < kAcc; ++a) acc[a] = 0.0f;

    for (int64_t j0 = 0; j0 < k; j0 += kRows) {
        const int cnt = (int)((k - j0) < kRows ? (k - j0) : kRows);
        if (t < kRows) {
            int64_t idx = -1;
            float w = 0.0f;
            if (t < cnt) idx = loadEntry(indices, idx32, weights, w16, scales, m, errorFlag, row * k + j0 + t, w);
            rowOf[t] = idx;
            weightOf[t] = w;
        }
        __syncthreads();
        const int64_t col = slabCol + (int64_t)lane * VEC;
        float vals[kLoads][VEC];
#pragma unroll
        for (int l = 0; l < kLoads; ++l) {
            const int64_t r = rowOf[warp + kWarps * l];   // -1: bad index, or past the pass's entries
            if (r >= 0 && col < d) {
                loadValues<VT, VEC>(values + r * d + col, vals[l]);
            } else {
#pragma unroll
                for (int v = 0; v < VEC; ++v) vals[l][v] = 0.0f;
            }
        }
#pragma unroll
        for (int l = 0; l < kLoads; ++l) {
            float* dst = &tile[warp + kWarps * l][lane * VEC];
            if constexpr (VEC % 4 == 0) {
#pragma unroll
                for (int v = 0; v < VEC; v += 4)
                    *reinterpret_cast<float4*>(dst + v) =
                        make_float4(vals[l][v], vals[l][v + 1], vals[l][v + 2], vals[l][v + 3]);
            } else {
#pragma unroll
                for (int v = 0; v < VEC; ++v) dst[v] = vals[l][v];
            }
        }
        __syncthreads();
#pragma unroll
        for (int a = 0; a < kAcc; ++a) {
            const int x = t + a * kThreads;
            if (x < kCols)
                for (int j = 0; j < cnt; ++j) acc[a] = fmaf(weightOf[j], tile[j][x], acc[a]);
        }
        __syncthreads();   // the next pass overwrites rowOf, weightOf and tile
    }

#pragma unroll
    for (int a = 0; a < kAcc; ++a) {
        const int x = t + a * kThreads;
        const int64_t c = slabCol + x;
        if (x < kCols && c < d) {
            if (out16) static_cast<__half*>(out)[row * d + c] = __float2half_rn(acc[a]);
            else static_cast<float*>(out)[row * d + c] = acc[a];
        }
    }
}

// Whether the gather of these sizes takes the small-N path (VEC elements per load).
template <int VEC>
bool smallNPath(int64_t d, int64_t n, int64_t k, int sms) {
    const int64_t chunks = (d + 32 * VEC - 1) / (32 * VEC);
    const SmallN mode = smallNMode();
    return mode == SmallN::Always ? n * chunks <= 0x7fffffffLL
                                  : mode == SmallN::Auto && k > kRowsInFlight && n * chunks < (int64_t)sms * 16;
}

template <typename VT, int VEC>
cudaError_t launchGather(const void* values, const float* scales, int64_t m, int64_t d, const void* indices, int idx32,
                         const void* weights, int w16, int64_t n, int64_t k, void* out, int out16,
                         int outVec, int32_t* errorFlag, cudaStream_t stream) {
    int device = 0, sms = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return err;
    const int64_t chunks = (d + 32 * VEC - 1) / (32 * VEC);
    const int64_t targetWarps = (int64_t)sms * 16;
    if (smallNPath<VEC>(d, n, k, sms)) {
        // Small N: even one warp per 32-chunk slab leaves the GPU short of warps, and each warp
        // would wait out k / kRowsInFlight memory latencies in turn (k <= kRowsInFlight: one
        // round, nothing to gain). One slab per chunk.
        static_assert(smallCols<VEC>() == 32 * VEC, "a small-N slab is one chunk");
        sparseGatherSmallKernel<VT, VEC><<<(unsigned)(n * chunks), kThreads, 0, stream>>>(
            static_cast<const VT*>(values), scales, m, d, indices, idx32, weights, w16, k, out, out16, errorFlag,
            chunks);
        return cudaGetLastError();
    }
    constexpr int kMaxChunks = maxChunks<VEC>();
    int nch = (int)(chunks < kMaxChunks ? chunks : kMaxChunks);
    int64_t slabs = (chunks + nch - 1) / nch;
    // Few rows: split each row's columns over more warps so that the GPU fills up.
    while (nch > 1 && n * slabs < targetWarps) {
        nch = (nch + 1) / 2;
        slabs = (chunks + nch - 1) / nch;
    }
    const int64_t blocks = (n * slabs + kWarps - 1) / kWarps;
    if (blocks > 0x7fffffffLL) return cudaErrorInvalidConfiguration;
    sparseGatherKernel<VT, VEC><<<(unsigned)blocks, kThreads, 0, stream>>>(
        static_cast<const VT*>(values), scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec,
        errorFlag, nch, slabs);
    return cudaGetLastError();
}

// One-byte codes: sparseGatherCodesKernel where it applies (the wide path, D a multiple of 8 and
// 8-byte aligned codes), else the generic kernels with 16 codes per load.
template <typename VT, int NCH>
cudaError_t launchCodes(const VT* values, const float* scales, int64_t m, int64_t d, const void* indices, int idx32,
                        const void* weights, int w16, int64_t n, int64_t k, void* out, int out16, int outVec,
                        int32_t* errorFlag, int sms, cudaStream_t stream) {
    const int64_t chunks = (d + 32 * kCodeVec - 1) / (32 * kCodeVec);
    int nch = (int)(chunks < NCH ? chunks : NCH);
    int64_t slabs = (chunks + nch - 1) / nch;
    while (nch > 1 && n * slabs < (int64_t)sms * 16) {   // few rows: split each row's columns
        nch = (nch + 1) / 2;
        slabs = (chunks + nch - 1) / nch;
    }
    const int64_t blocks = (n * slabs + kWarps - 1) / kWarps;
    if (blocks > 0x7fffffffLL) return cudaErrorInvalidConfiguration;
    sparseGatherCodesKernel<VT, NCH><<<(unsigned)blocks, kThreads, 0, stream>>>(
        values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec, errorFlag, nch, slabs);
    return cudaGetLastError();
}

template <typename VT>
cudaError_t dispatchVec(const void* values, const float* scales, int64_t m, int64_t d, const void* indices, int idx32,
                        const void* weights, int w16, int64_t n, int64_t k, void* out, int out16,
                        int32_t* errorFlag, cudaStream_t stream);

template <typename VT>
cudaError_t dispatchCodes(const void* values, const float* scales, int64_t m, int64_t d, const void* indices,
                          int idx32, const void* weights, int w16, int64_t n, int64_t k, void* out, int out16,
                          int32_t* errorFlag, cudaStream_t stream) {
    int device = 0, sms = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return err;
    if (d % kCodeVec != 0 || !isAligned(values, 8) || smallNPath<Vec<VT>::N>(d, n, k, sms))
        return dispatchVec<VT>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag,
                               stream);
    const int outVec = isAligned(out, 16);   // 8 outputs per store: 16 bytes of fp16, two float4
    const VT* v = static_cast<const VT*>(values);
    const int64_t chunks = (d + 32 * kCodeVec - 1) / (32 * kCodeVec);
    if (chunks <= 1)
        return launchCodes<VT, 1>(v, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec, errorFlag,
                                  sms, stream);
    if (chunks == 2)
        return launchCodes<VT, 2>(v, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec, errorFlag,
                                  sms, stream);
    if (chunks == 3)
        return launchCodes<VT, 3>(v, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec, errorFlag,
                                  sms, stream);
    return launchCodes<VT, 4>(v, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, outVec, errorFlag, sms,
                              stream);
}

template <typename VT>
cudaError_t dispatchVec(const void* values, const float* scales, int64_t m, int64_t d, const void* indices, int idx32,
                        const void* weights, int w16, int64_t n, int64_t k, void* out, int out16,
                        int32_t* errorFlag, cudaStream_t stream) {
    constexpr int V = Vec<VT>::N;
    const bool vec = d % V == 0 && isAligned(values, 16);
    if (vec) {
        const int outBytes = out16 ? 2 : 4;
        const int outVec = isAligned(out, (unsigned)(V * outBytes) > 16u ? 16u : (unsigned)(V * outBytes));
        return launchGather<VT, V>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16,
                                   outVec, errorFlag, stream);
    }
    return launchGather<VT, 1>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, 0,
                               errorFlag, stream);
}

} // namespace
} // namespace msn

extern "C" int msn_sparse_gather(const void* values, msn_dtype valueType, int64_t m, int64_t d,
                                 const void* indices, msn_dtype indexType, const void* weights,
                                 msn_dtype weightType, int64_t n, int64_t k, void* out,
                                 msn_dtype outType, int32_t* errorFlag, cudaStream_t stream) {
    if (valueType != MSN_FLOAT32 && valueType != MSN_FLOAT16 && valueType != MSN_BFLOAT16)
        return MSN_ERR_UNSUPPORTED;
    return msn_sparse_gather_scaled(values, valueType, nullptr, m, d, indices, indexType, weights, weightType, n, k,
                                    out, outType, errorFlag, stream);
}

extern "C" int msn_sparse_gather_scaled(const void* values, msn_dtype valueType, const float* scales, int64_t m,
                                        int64_t d, const void* indices, msn_dtype indexType, const void* weights,
                                        msn_dtype weightType, int64_t n, int64_t k, void* out,
                                        msn_dtype outType, int32_t* errorFlag, cudaStream_t stream) {
    const bool quantized = valueType == MSN_INT8 || valueType == MSN_FLOAT8_E4M3;
    if (!quantized && valueType != MSN_FLOAT32 && valueType != MSN_FLOAT16 && valueType != MSN_BFLOAT16)
        return MSN_ERR_UNSUPPORTED;
    if (quantized != (scales != nullptr)) return MSN_ERR_INVALID_ARGUMENT;
    if (indexType != MSN_INT64 && indexType != MSN_INT32) return MSN_ERR_UNSUPPORTED;
    if (weightType != MSN_FLOAT32 && weightType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (outType != MSN_FLOAT32 && outType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (m < 0 || d < 0 || n < 0 || k < 0) return MSN_ERR_INVALID_ARGUMENT;
    if (n == 0 || d == 0) return MSN_OK;
    if (!out || (k > 0 && (!indices || !weights)) || (m > 0 && !values)) return MSN_ERR_INVALID_ARGUMENT;
    const int idx32 = indexType == MSN_INT32;
    const int w16 = weightType == MSN_FLOAT16;
    const int out16 = outType == MSN_FLOAT16;
    cudaError_t err;
    if (valueType == MSN_INT8)
        err = msn::dispatchCodes<int8_t>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag, stream);
    else if (valueType == MSN_FLOAT8_E4M3)
        err = msn::dispatchCodes<msn::E4m3Code>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag, stream);
    else if (valueType == MSN_FLOAT32)
        err = msn::dispatchVec<float>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag, stream);
    else if (valueType == MSN_FLOAT16)
        err = msn::dispatchVec<__half>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag, stream);
    else
        err = msn::dispatchVec<__nv_bfloat16>(values, scales, m, d, indices, idx32, weights, w16, n, k, out, out16, errorFlag, stream);
    return err == cudaSuccess ? MSN_OK : MSN_ERR_LAUNCH;
}

extern "C" const char* msn_status_string(int status) {
    switch (status) {
    case MSN_OK: return "ok";
    case MSN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MSN_ERR_UNSUPPORTED: return "unsupported shape or type";
    case MSN_ERR_LAUNCH: return "CUDA launch failed";
    default: return "unknown status";
    }
}
