// PKMRetrieval: two-stage product-key top-k, one warp per query.
//
// Every element becomes a unique 64-bit key that sorts like the contract orders it:
//   stage 1: (ordered score bits << 32) | (1023 - index)       -> higher score, then lower index
//   stage 2: (ordered score bits << 32) | (0xFFFFF - slot)     -> higher score, then lower slot
// so "top-k with ties to the lower index" is "the k largest keys", with no ties left.
// The k-th largest key is found by a radix select over 5-bit digits (one histogram bin per
// lane, unconditional shared-memory increments, a warp suffix scan), after skipping the leading
// bits that all candidates share and the always-zero bits between the score and the tie field;
// the k selected keys are compacted with ballots and ranked by counting (on the 32-bit score
// alone unless two selected scores are equal). That is AIR top-k's idea (radix select, then
// filter) sized for one warp: S <= 1024, k <= 64.
#include "msn_kernels.h"
#include "msn_kernels_internal.cuh"

#include <cuda_fp16.h>
#include <stdint.h>

namespace msn {
namespace {

constexpr int kWarps = 8;               // warps per block, one query per warp at a time
constexpr int kThreads = kWarps * 32;
constexpr unsigned kFull = 0xffffffffu;

__host__ __device__ constexpr int pairCount(int k) {        // number of rank pairs (i, j) with (i+1)(j+1) <= k
    int c = 0;
    for (int m = 1; m <= k; ++m) c += k / m;
    return c;
}
constexpr int kMaxPairs = pairCount(MSN_PKM_MAX_K);   // 280

typedef unsigned long long u64;

struct alignas(8) Entry {             // one stage-1 result: score and index in its half
    float score;
    int idx;
};

struct alignas(16) WarpScratch {
    u64 buf[MSN_PKM_MAX_K + 2];        // the k selected keys (compacted), padded to even
    Entry a[MSN_PKM_MAX_K];            // stage-1 results in rank order: a = rows, b = cols
    Entry b[MSN_PKM_MAX_K];
    unsigned bins[64];                 // radix histogram (0..31, zero between uses), spares
};

// Float bits mapped so that unsigned order is float order; -0 and +0 map alike (they compare
// equal as floats, so the index decides, as in the reference).
__device__ __forceinline__ uint32_t orderedBits(float f) {
    uint32_t u = __float_as_uint(f);
    if ((u << 1) == 0u) u = 0u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float floatFromOrdered(uint32_t o) {
    return __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ float toFloat<__half>(__half v) { return __half2float(v); }

// The k-th largest key among the valid ones (valid: bit e of validMask), keys unique, bits
// [lowBits, 32) zero in every key. Exactly k valid keys are >= the returned threshold.
// bins: 64 words; 0..31 are the histogram (zero between calls), 32..63 are spare counters that
// keys no longer in the running increment instead, so every key costs one unconditional
// shared-memory increment and no branch.
template <int E>
__device__ __forceinline__ u64 radixSelect(const u64 (&key)[E], unsigned validMask, int k, int lowBits,
                                           unsigned* bins, int lane) {
    // Leading bits shared by every valid key carry no information: start below them.
    unsigned orHi = 0u, orLo = 0u, andHi = ~0u, andLo = ~0u;
#pragma unroll
    for (int e = 0; e < E; ++e) {
        if (validMask & (1u << e)) {
            orHi |= (unsigned)(key[e] >> 32);
            orLo |= (unsigned)key[e];
            andHi &= (unsigned)(key[e] >> 32);
            andLo &= (unsigned)key[e];
        }
    }
    orHi = __reduce_or_sync(kFull, orHi);
    orLo = __reduce_or_sync(kFull, orLo);
    andHi = __reduce_and_sync(kFull, andHi);
    andLo = __reduce_and_sync(kFull, andLo);
    const u64 orAll = ((u64)orHi << 32) | orLo;
    const u64 andAll = ((u64)andHi << 32) | andLo;
    const u64 diff = orAll ^ andAll;
    if (diff == 0ull) return andAll;                  // a single valid key
    int shift = 64 - __clzll((long long)diff);        // bits [shift, 64) are common
    u64 prefix = andAll >> 1 >> (shift - 1);          // (shift may be 64)
    // off[e]: 0 while key e is still a candidate, else 32 + lane (its digit then lands in the
    // spare counters, spread over lanes to limit bank conflicts).
    const unsigned retired = 32u + (unsigned)lane;
    unsigned off[E];
#pragma unroll
    for (int e = 0; e < E; ++e) off[e] = (validMask & (1u << e)) ? 0u : retired;
    int need = k;
    while (true) {
        if (shift <= 32 && shift > lowBits) {         // skip the zero bits [lowBits, 32)
            prefix <<= (shift - lowBits);
            shift = lowBits;
        }
        const int bottom = shift > 32 ? 32 : 0;      // a digit never straddles bit 32
        const int w = shift - bottom < 5 ? shift - bottom : 5;
        shift -= w;
        const unsigned mask = (1u << w) - 1u;
        unsigned digit[E];
#pragma unroll
        for (int e = 0; e < E; ++e) {
            digit[e] = ((unsigned)(key[e] >> shift) & mask) ^ off[e];
            atomicAdd(&bins[digit[e]], 1u);
        }
        __syncwarp();
        const unsigned c = bins[lane];
        bins[lane] = 0u;
        unsigned incl = c;   // count of active keys whose digit is >= lane
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const unsigned t = __shfl_down_sync(kFull, incl, o);
            if (lane + o < 32) incl += t;
        }
        const unsigned ballot = __ballot_sync(kFull, incl >= (unsigned)need);
        const int d = 31 - __clz((int)ballot);
        const unsigned cd = __shfl_sync(kFull, c, d);
        const unsigned inclD = __shfl_sync(kFull, incl, d);
        need -= (int)(inclD - cd);
        prefix = (prefix << w) | (unsigned)d;
        __syncwarp();
        if ((int)cd == need || shift == 0) return prefix << shift;
#pragma unroll
        for (int e = 0; e < E; ++e) off[e] = digit[e] == (unsigned)d ? 0u : retired;
    }
}

// Writes the valid keys >= thr (exactly k of them) to buf[0..k), in no particular order,
// and a zero after them when k is odd (ranking reads pairs).
template <int E>
__device__ __forceinline__ void compact(const u64 (&key)[E], unsigned validMask, u64 thr, int k,
                                        u64* buf, int lane) {
    const unsigned below = (1u << lane) - 1u;
    int base = 0;
#pragma unroll
    for (int e = 0; e < E; ++e) {
        const bool take = (validMask & (1u << e)) && key[e] >= thr;
        const unsigned b = __ballot_sync(kFull, take);
        if (take) buf[base + __popc(b & below)] = key[e];
        base += __popc(b);
    }
    if (lane == 0 && (k & 1)) buf[k] = 0ull;
    __syncwarp();
}

// Rank of buf[r] among buf[0..k) (0 = largest) for r = lane and, when KMAX > 32, r = lane + 32.
// Counts on the high (score) words first; equal scores among the k would give equal ranks,
// which the rank sum reveals, and then the full keys are compared.
template <int KMAX>
__device__ __forceinline__ void rankKeys(const u64* buf, int k, int lane, u64& k0, int& r0,
                                         u64& k1, int& r1) {
    k0 = lane < k ? buf[lane] : 0ull;
    k1 = (KMAX > 32 && lane + 32 < k) ? buf[lane + 32] : 0ull;
    const unsigned h0 = (unsigned)(k0 >> 32), h1 = (unsigned)(k1 >> 32);
    r0 = 0;
    r1 = 0;
    const uint4* quads = reinterpret_cast<const uint4*>(buf);   // .y, .w: high words of two keys
    const int np = (k + 1) >> 1;
#pragma unroll 4
    for (int j = 0; j < np; ++j) {
        const uint4 v = quads[j];
        r0 += (int)(v.y > h0) + (int)(v.w > h0);
        if (KMAX > 32) r1 += (int)(v.y > h1) + (int)(v.w > h1);
    }
    int sum = (lane < k ? r0 : 0) + ((KMAX > 32 && lane + 32 < k) ? r1 : 0);
    sum = (int)__reduce_add_sync(kFull, (unsigned)sum);
    if (sum != k * (k - 1) / 2) {
        r0 = 0;
        r1 = 0;
        const ulonglong2* pairs = reinterpret_cast<const ulonglong2*>(buf);
        for (int j = 0; j < np; ++j) {
            const ulonglong2 v = pairs[j];
            r0 += (int)(v.x > k0) + (int)(v.y > k0);
            if (KMAX > 32) r1 += (int)(v.x > k1) + (int)(v.y > k1);
        }
    }
}

// Loads one half's s scores as stage-1 keys (16-byte loads when the row allows them);
// returns the mask of valid elements.
template <typename T, int E>
__device__ __forceinline__ unsigned loadKeys(const T* __restrict__ p, int s, bool vecOk, int lane,
                                             u64 (&key)[E]) {
    unsigned valid = 0u;
    constexpr int V = 16 / (int)sizeof(T);
    if constexpr (E % V == 0) {
        if (vecOk) {
#pragma unroll
            for (int c = 0; c < E / V; ++c) {
                const int base = c * 32 * V + lane * V;
                uint4 raw = make_uint4(0u, 0u, 0u, 0u);
                if (base < s) raw = __ldcs(reinterpret_cast<const uint4*>(p + base));
                const T* vals = reinterpret_cast<const T*>(&raw);
#pragma unroll
                for (int v = 0; v < V; ++v) {
                    const int e = c * V + v;
                    key[e] = ((u64)orderedBits(toFloat<T>(vals[v])) << 32) |
                             (u64)(1023 - (base + v));
                    if (base < s) valid |= 1u << e;
                }
            }
            return valid;
        }
    }
#pragma unroll
    for (int e = 0; e < E; ++e) {
        const int idx = e * 32 + lane;
        float f = 0.0f;
        if (idx < s) {
            f = toFloat<T>(p[idx]);
            valid |= 1u << e;
        }
        key[e] = ((u64)orderedBits(f) << 32) | (u64)(1023 - idx);
    }
    return valid;
}

// Stage 1 for one half: the top k of s scores, written to out[0..k) in rank order.
template <typename T, int E, int KMAX>
__device__ __forceinline__ void selectHalf(const T* __restrict__ p, int s, int k, bool vecOk,
                                           WarpScratch& ws, Entry* out, int lane) {
    u64 key[E];
    const unsigned valid = loadKeys<T, E>(p, s, vecOk, lane, key);
    const u64 thr = radixSelect<E>(key, valid, k, 10, ws.bins, lane);
    compact<E>(key, valid, thr, k, ws.buf, lane);
    u64 k0, k1;
    int r0, r1;
    rankKeys<KMAX>(ws.buf, k, lane, k0, r0, k1, r1);
    if (lane < k) out[r0] = Entry{floatFromOrdered((uint32_t)(k0 >> 32)), 1023 - (int)(k0 & 1023ull)};
    if (KMAX > 32 && lane + 32 < k)
        out[r1] = Entry{floatFromOrdered((uint32_t)(k1 >> 32)), 1023 - (int)(k1 & 1023ull)};
    __syncwarp();
}

__device__ __forceinline__ void storeOutput(void* weights, bool w16, void* indices, bool i32,
                                            int64_t at, float w, int64_t slot) {
    if (w16) static_cast<__half*>(weights)[at] = __float2half_rn(w);
    else static_cast<float*>(weights)[at] = w;
    if (i32) static_cast<int32_t*>(indices)[at] = (int32_t)slot;
    else static_cast<int64_t*>(indices)[at] = slot;
}

template <typename T, int E1, int KMAX>
__global__ void __launch_bounds__(kThreads)
pkmRetrievalKernel(const T* __restrict__ rows, const T* __restrict__ cols, int64_t n, int s, int k,
                   int vecOk, void* __restrict__ weights, int w16, void* __restrict__ indices,
                   int i32) {
    constexpr int E2 = (pairCount(KMAX) + 31) / 32;
    static_assert(E1 <= 32 && E2 <= 32, "per-lane masks are 32 bits");
    __shared__ WarpScratch scratch[kWarps];
    __shared__ uint16_t pairs[kMaxPairs];
    __shared__ int pairTotal;

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    WarpScratch& ws = scratch[warp];

    if (warp == 0) {
        // Rank pairs (i, j) with (i+1)(j+1) <= k, row by row: row i holds j < k / (i+1).
        const int len0 = lane < k ? k / (lane + 1) : 0;
        const int len1 = lane + 32 < k ? k / (lane + 33) : 0;
        int inc0 = len0, inc1 = len1;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int t0 = __shfl_up_sync(kFull, inc0, o);
            const int t1 = __shfl_up_sync(kFull, inc1, o);
            if (lane >= o) {
                inc0 += t0;
                inc1 += t1;
            }
        }
        const int total0 = __shfl_sync(kFull, inc0, 31);
        const int total1 = __shfl_sync(kFull, inc1, 31);
        for (int j = 0; j < len0; ++j) pairs[inc0 - len0 + j] = (uint16_t)((lane << 8) | j);
        for (int j = 0; j < len1; ++j)
            pairs[total0 + inc1 - len1 + j] = (uint16_t)(((lane + 32) << 8) | j);
        if (lane == 0) pairTotal = total0 + total1;
    }
    ws.bins[lane] = 0u;
    ws.bins[32 + lane] = 0u;
    __syncthreads();
    const int npairs = pairTotal;

    for (int64_t q = (int64_t)blockIdx.x * kWarps + warp; q < n; q += (int64_t)gridDim.x * kWarps) {
        selectHalf<T, E1, KMAX>(rows + q * s, s, k, vecOk != 0, ws, ws.a, lane);
        selectHalf<T, E1, KMAX>(cols + q * s, s, k, vecOk != 0, ws, ws.b, lane);

        // Stage 2: the pruned candidates, scored a_i + b_j in float32.
        u64 key[E2];
        unsigned valid = 0u;
#pragma unroll
        for (int e = 0; e < E2; ++e) {
            const int t = lane + 32 * e;
            key[e] = 0ull;
            if (t < npairs) {
                const unsigned pr = pairs[t];
                const Entry ea = ws.a[pr >> 8], eb = ws.b[pr & 255u];
                const float c = ea.score + eb.score;
                const int slot = ea.idx * s + eb.idx;
                key[e] = ((u64)orderedBits(c) << 32) | (u64)(0xFFFFF - slot);
                valid |= 1u << e;
            }
        }
        // The best candidate is always (0, 0): the softmax shift.
        const float cmax = ws.a[0].score + ws.b[0].score;
        __syncwarp();
        const u64 thr = radixSelect<E2>(key, valid, k, 20, ws.bins, lane);
        compact<E2>(key, valid, thr, k, ws.buf, lane);
        u64 k0, k1;
        int r0, r1;
        rankKeys<KMAX>(ws.buf, k, lane, k0, r0, k1, r1);
        float e0 = 0.0f, e1 = 0.0f;
        if (lane < k) e0 = expf(floatFromOrdered((uint32_t)(k0 >> 32)) - cmax);
        if (KMAX > 32 && lane + 32 < k) e1 = expf(floatFromOrdered((uint32_t)(k1 >> 32)) - cmax);
        float sum = e0 + e1;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
        const int64_t rowBase = q * k;
        if (lane < k)
            storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + r0, e0 / sum,
                        (int64_t)(0xFFFFF - (int)(k0 & 0xFFFFFull)));
        if (KMAX > 32 && lane + 32 < k)
            storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + r1, e1 / sum,
                        (int64_t)(0xFFFFF - (int)(k1 & 0xFFFFFull)));
        __syncwarp();
    }
}

template <typename T, int E1, int KMAX>
cudaError_t launchPkm(const void* rows, const void* cols, int64_t n, int s, int k, int vecOk,
                      void* w, int w16, void* idx, int i32, cudaStream_t stream) {
    int device = 0, sms = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return err;
    const int64_t wanted = (n + kWarps - 1) / kWarps;
    const int64_t cap = (int64_t)sms * 8;   // enough resident blocks; the rest loop
    const unsigned grid = (unsigned)(wanted < cap ? wanted : cap);
    pkmRetrievalKernel<T, E1, KMAX><<<grid, kThreads, 0, stream>>>(
        static_cast<const T*>(rows), static_cast<const T*>(cols), n, s, k, vecOk, w, w16, idx, i32);
    return cudaGetLastError();
}

template <typename T, int E1>
cudaError_t dispatchK(const void* rows, const void* cols, int64_t n, int s, int k, int vecOk,
                      void* w, int w16, void* idx, int i32, cudaStream_t stream) {
    if (k <= 16) return launchPkm<T, E1, 16>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
    if (k <= 32) return launchPkm<T, E1, 32>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
    return launchPkm<T, E1, 64>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
}

template <typename T>
cudaError_t dispatchS(const void* rows, const void* cols, int64_t n, int s, int k, int vecOk,
                      void* w, int w16, void* idx, int i32, cudaStream_t stream) {
    if (s <= 64) return dispatchK<T, 2>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
    if (s <= 256) return dispatchK<T, 8>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
    return dispatchK<T, 32>(rows, cols, n, s, k, vecOk, w, w16, idx, i32, stream);
}

} // namespace
} // namespace msn

extern "C" int msn_pkm_retrieval_check(int32_t s, int32_t k, msn_dtype scoreType,
                                       msn_dtype weightType, msn_dtype indexType) {
    if (s < 1 || s > MSN_PKM_MAX_S || k < 1 || k > MSN_PKM_MAX_K || k > s) return MSN_ERR_UNSUPPORTED;
    if (scoreType != MSN_FLOAT32 && scoreType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (weightType != MSN_FLOAT32 && weightType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (indexType != MSN_INT64 && indexType != MSN_INT32) return MSN_ERR_UNSUPPORTED;
    return MSN_OK;
}

extern "C" int msn_pkm_retrieval(const void* rows, const void* cols, msn_dtype scoreType, int64_t n,
                                 int32_t s, int32_t k, void* weights, msn_dtype weightType,
                                 void* indices, msn_dtype indexType, cudaStream_t stream) {
    const int check = msn_pkm_retrieval_check(s, k, scoreType, weightType, indexType);
    if (check != MSN_OK) return check;
    if (n < 0) return MSN_ERR_INVALID_ARGUMENT;
    if (n == 0) return MSN_OK;
    if (!rows || !cols || !weights || !indices) return MSN_ERR_INVALID_ARGUMENT;
    const int elem = scoreType == MSN_FLOAT32 ? 4 : 2;
    const int vecElems = 16 / elem;
    const int vecOk = (s % vecElems == 0) && msn::isAligned(rows, 16) && msn::isAligned(cols, 16);
    const int w16 = weightType == MSN_FLOAT16;
    const int i32 = indexType == MSN_INT32;
    const cudaError_t err =
        scoreType == MSN_FLOAT32
            ? msn::dispatchS<float>(rows, cols, n, s, k, vecOk, weights, w16, indices, i32, stream)
            : msn::dispatchS<__half>(rows, cols, n, s, k, vecOk, weights, w16, indices, i32, stream);
    return err == cudaSuccess ? MSN_OK : MSN_ERR_LAUNCH;
}
