// PKMRetrieval: two-stage product-key top-k, one warp per query.
//
// Every element becomes a unique 64-bit key that sorts like the contract orders it:
//   stage 1, float32 scores: (ordered score bits << 32) | (1023 - index)
//   stage 1, float16 scores: ((ordered score bits & ~0x1FFF) | (1023 - index)) << 32: a float16
//            widened to float32 has 13 constant low bits, so the tie field fits in the high word
//   stage 2: (ordered candidate score bits << 32) | (0xFFFFFF - slot)   (slot < S*S <= 2^24)
// so "top-k with ties to the lower index" is "the k largest keys", with no ties left.
// Before selecting, a cheap lower bound T of the k-th key's high word drops most keys and is
// subtracted from the rest (stage 1: the smallest of the lanes' largest keys; stage 2: the best
// corner of the p x (k/p) rank rectangles), so the select starts at the highest set bit of
// (max - T) instead of the sign bit. The k-th largest key is then found by a radix select over
// 5-bit digits (one histogram bin per lane, unconditional shared-memory increments, a warp suffix
// scan); the k selected keys are compacted (lane counts and a scan) and ranked by counting on
// their high words (on the full keys only when two selected high words are equal). That is AIR
// top-k's idea (radix select, then filter) sized for one warp: k <= 64, and stage 1 over tiles of
// 1024 scores (32 keys per lane in registers); S > 1024 (up to 4096) selects tile by tile and
// merges each tile's top k into the running top k (ranks by counting; indices are global there).
//
// Small N (too few queries to give every SM sub-partition several warps): one block of three warps
// per query. Warps 0 and 1 select the row and the column half at the same time (the same
// selectHalfTiled, each on its own scratch; warp 1 writes its top k into warp 0's b) while warp 2
// builds the pair table; after a barrier warp 0 runs stage 2 and the softmax (finishQuery). The
// code per half and per stage is the one-warp path's, so the outputs are the same bits.
#include "msn_kernels.h"
#include "msn_kernels_internal.cuh"
#include "pkm_device.cuh"

#include <cuda_fp16.h>
#include <stdint.h>

namespace msn {
namespace {

using namespace pkm;

constexpr int kWarps = 8;               // warps per block, one query per warp at a time
constexpr int kThreads = kWarps * 32;

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
    __shared__ WarpScratch scratch[kWarps];
    __shared__ PairTable pairTable;

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    WarpScratch& ws = startRetrievalBlock(scratch, pairTable, k, lane, warp);
    __syncthreads();

    for (int64_t q = (int64_t)blockIdx.x * kWarps + warp; q < n; q += (int64_t)gridDim.x * kWarps) {
        const LaneResult res =
            retrieveQuery<T, E1, KMAX>(rows + q * s, cols + q * s, s, k, vecOk != 0, ws, pairTable, lane);
        const int64_t rowBase = q * k;
        if (lane < k) storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + res.r0, res.w0, res.slot0);
        if (KMAX > 32 && lane + 32 < k)
            storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + res.r1, res.w1, res.slot1);
        __syncwarp();
    }
}

constexpr int kPairThreads = 96;   // small-N path: row-half warp, column-half warp, pair-table warp

template <typename T, int E1, int KMAX>
__global__ void __launch_bounds__(kPairThreads)
pkmRetrievalSplitKernel(const T* __restrict__ rows, const T* __restrict__ cols, int64_t n, int s, int k,
                        int vecOk, void* __restrict__ weights, int w16, void* __restrict__ indices, int i32) {
    __shared__ WarpScratch scratch[2];
    __shared__ PairTable pairTable;

    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    if (warp == 2) {
        buildPairTable(pairTable, k, lane);
    } else {
        scratch[warp].bins[lane] = 0u;
        scratch[warp].bins[32 + lane] = 0u;
        __syncwarp();   // the warp's own selects are the only users of its bins
    }
    // q is the same for the whole block, so every thread reaches both barriers.
    for (int64_t q = blockIdx.x; q < n; q += gridDim.x) {
        if (warp < 2)
            selectHalfTiled<T, E1, KMAX>((warp == 0 ? rows : cols) + q * s, s, k, vecOk != 0, scratch[warp],
                                         warp == 0 ? scratch[0].a : scratch[0].b, lane);
        __syncthreads();   // both halves' top k (and, the first time, the pair table) are written
        if (warp == 0) {
            const LaneResult res =
                finishQuery<KMAX>(s, k, scratch[0], pairTable, pairView<KMAX>(pairTable, lane), lane);
            const int64_t rowBase = q * k;
            if (lane < k) storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + res.r0, res.w0, res.slot0);
            if (KMAX > 32 && lane + 32 < k)
                storeOutput(weights, w16 != 0, indices, i32 != 0, rowBase + res.r1, res.w1, res.slot1);
        }
        __syncthreads();   // stage 2 has read a and b before the next query's selects overwrite them
    }
}

template <typename T, int E1, int KMAX>
cudaError_t launchPkm(const void* rows, const void* cols, int64_t n, int s, int k, int vecOk,
                      void* w, int w16, void* idx, int i32, cudaStream_t stream) {
    int device = 0, sms = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return err;
    const SmallN mode = smallNMode();
    if (mode == SmallN::Always || (mode == SmallN::Auto && 2 * n <= (int64_t)sms * 16)) {
        // Small N: the one-warp path would leave each SM sub-partition at most a few warps, each
        // working through both halves and stage 2 in turn; the split path halves that chain.
        const int64_t cap = (int64_t)sms * 32;   // forced at large N: the rest loop
        pkmRetrievalSplitKernel<T, E1, KMAX><<<(unsigned)(n < cap ? n : cap), kPairThreads, 0, stream>>>(
            static_cast<const T*>(rows), static_cast<const T*>(cols), n, s, k, vecOk, w, w16, idx, i32);
        return cudaGetLastError();
    }
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
