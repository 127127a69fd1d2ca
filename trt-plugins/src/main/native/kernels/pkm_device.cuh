// PKM retrieval device code shared by the kernels: one warp retrieves one query (the method is
// described in pkm_retrieval.cu). Used by msn_pkm_retrieval (pkm_retrieval.cu) and by the fused
// layer (msn_layer.cu). Internal: not part of the C API.
#ifndef MSN_PKM_DEVICE_CUH
#define MSN_PKM_DEVICE_CUH

#include "msn_kernels.h"

#include <cuda_fp16.h>
#include <stdint.h>

namespace msn {
namespace pkm {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kTile = 1024;             // stage 1 selects within tiles of this many scores
constexpr int kSlotBits = 24;           // stage-2 keys hold 2^24 - 1 - slot: S*S <= 2^24
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1u;
static_assert((long long)MSN_PKM_MAX_S * MSN_PKM_MAX_S <= (1ll << kSlotBits), "stage-2 slot field too narrow");

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
    uint32_t hi[MSN_PKM_MAX_K + 4];    // the k selected keys (compacted), high words, zero-padded
    uint32_t lo[MSN_PKM_MAX_K + 4];    // and low words
    Entry a[MSN_PKM_MAX_K];            // stage-1 results in rank order: a = rows, b = cols
    Entry b[MSN_PKM_MAX_K];
    Entry tile[MSN_PKM_MAX_K];         // stage 1 of S > kTile: one tile's top k before the merge
    unsigned bins[64];                 // radix histogram (0..31, zero between uses), spares
};

// Float bits mapped so that unsigned order is float order; -0 and +0 map alike (they compare
// equal as floats, so the index decides, as in the reference): adding +0 turns -0 into +0.
__device__ __forceinline__ uint32_t orderedBits(float f) {
    const uint32_t u = __float_as_uint(__fadd_rn(f, 0.0f));
    return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
}

__device__ __forceinline__ float floatFromOrdered(uint32_t o) {
    return __uint_as_float((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ float toFloat<__half>(__half v) { return __half2float(v); }

template <typename T> struct KeyTraits;
template <> struct KeyTraits<float> {
    static constexpr int kLowBits = 10;      // bits [10, 32) of every key are zero
    static constexpr bool kUniqueHi = false; // equal scores share a high word
    __device__ __forceinline__ static uint32_t hiWord(float f, int) { return orderedBits(f); }
    __device__ __forceinline__ static uint32_t loWord(int idx) { return (uint32_t)(1023 - idx); }
    __device__ __forceinline__ static float score(uint32_t hi) { return floatFromOrdered(hi); }
    __device__ __forceinline__ static int index(uint32_t, uint32_t lo) { return 1023 - (int)(lo & 1023u); }
};
template <> struct KeyTraits<__half> {
    static constexpr int kLowBits = 0;       // the low word is zero
    static constexpr bool kUniqueHi = true;
    __device__ __forceinline__ static uint32_t hiWord(float f, int idx) {
        return (orderedBits(f) & ~0x1FFFu) | (uint32_t)(1023 - idx);
    }
    __device__ __forceinline__ static uint32_t loWord(int) { return 0u; }
    __device__ __forceinline__ static float score(uint32_t hi) {
        return floatFromOrdered((hi & ~0x1FFFu) | ((hi & 0x80000000u) ? 0u : 0x1FFFu));
    }
    __device__ __forceinline__ static int index(uint32_t hi, uint32_t) { return 1023 - (int)(hi & 1023u); }
};

// First digit position for keys whose high words are all <= maxHi: bits [start, 64) are zero.
__device__ __forceinline__ int startShift(uint32_t maxHi) {
    return maxHi != 0u ? 64 - __clz((int)maxHi) : 32;
}

// The k-th largest key among the valid ones (valid: bit e of validMask), keys unique, bits
// [shift, 64) and [lowBits, 32) zero in every valid key. Exactly k valid keys are >= the
// returned threshold. bins: 64 words; 0..31 are the histogram (zero between calls), 32..63 are
// spare counters that keys no longer in the running increment instead, so every key costs one
// unconditional shared-memory increment and no branch.
template <int E>
__device__ __forceinline__ u64 radixSelect(const u64 (&key)[E], unsigned validMask, int k, int lowBits,
                                           int shift, unsigned* bins, int lane) {
    u64 prefix = 0ull;
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

// Writes the valid keys >= thr (exactly k of them) to ws.hi/ws.lo[0..k), in no particular
// order, and zeros at [k, k + 4) (ranking reads groups of four).
template <int E>
__device__ __forceinline__ void compact(const u64 (&key)[E], unsigned validMask, u64 thr, int k,
                                        WarpScratch& ws, int lane) {
    unsigned take = 0u;
#pragma unroll
    for (int e = 0; e < E; ++e)
        if ((validMask & (1u << e)) && key[e] >= thr) take |= 1u << e;
    const int cnt = __popc(take);
    int incl = cnt;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const int t = __shfl_up_sync(kFull, incl, o);
        if (lane >= o) incl += t;
    }
    int pos = incl - cnt;
#pragma unroll
    for (int e = 0; e < E; ++e) {
        if (take & (1u << e)) {
            ws.hi[pos] = (uint32_t)(key[e] >> 32);
            ws.lo[pos] = (uint32_t)key[e];
            ++pos;
        }
    }
    if (lane < 4) {
        ws.hi[k + lane] = 0u;
        ws.lo[k + lane] = 0u;
    }
    __syncwarp();
}

// Rank of selected key r among the k (0 = largest) for r = lane and, when KMAX > 32,
// r = lane + 32. Counts on the high words first; equal high words among the k would give equal
// ranks, which the rank sum reveals, and then the full keys are compared.
template <int KMAX, bool UNIQUE_HI>
__device__ __forceinline__ void rankKeys(const WarpScratch& ws, int k, int lane, uint32_t& h0, uint32_t& l0,
                                         int& r0, uint32_t& h1, uint32_t& l1, int& r1) {
    h0 = lane < k ? ws.hi[lane] : 0u;
    l0 = lane < k ? ws.lo[lane] : 0u;
    h1 = (KMAX > 32 && lane + 32 < k) ? ws.hi[lane + 32] : 0u;
    l1 = (KMAX > 32 && lane + 32 < k) ? ws.lo[lane + 32] : 0u;
    r0 = 0;
    r1 = 0;
    const uint4* his = reinterpret_cast<const uint4*>(ws.hi);
    const int nq = (k + 3) >> 2;
#pragma unroll 2
    for (int j = 0; j < nq; ++j) {
        const uint4 v = his[j];
        r0 += (int)(v.x > h0) + (int)(v.y > h0) + (int)(v.z > h0) + (int)(v.w > h0);
        if (KMAX > 32) r1 += (int)(v.x > h1) + (int)(v.y > h1) + (int)(v.z > h1) + (int)(v.w > h1);
    }
    if (UNIQUE_HI) return;
    int sum = (lane < k ? r0 : 0) + ((KMAX > 32 && lane + 32 < k) ? r1 : 0);
    sum = (int)__reduce_add_sync(kFull, (unsigned)sum);
    if (sum != k * (k - 1) / 2) {
        r0 = 0;
        r1 = 0;
        for (int j = 0; j < k; ++j) {
            const uint32_t vh = ws.hi[j], vl = ws.lo[j];
            r0 += (int)(vh > h0 || (vh == h0 && vl > l0));
            if (KMAX > 32) r1 += (int)(vh > h1 || (vh == h1 && vl > l1));
        }
    }
}

// Loads one half's s scores as stage-1 keys (16-byte loads when the row allows them);
// returns the mask of valid elements. Invalid elements get the key 0.
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
                    key[e] = 0ull;
                    if (base < s) {
                        key[e] = ((u64)KeyTraits<T>::hiWord(toFloat<T>(vals[v]), base + v) << 32) |
                                 KeyTraits<T>::loWord(base + v);
                        valid |= 1u << e;
                    }
                }
            }
            return valid;
        }
    }
#pragma unroll
    for (int e = 0; e < E; ++e) {
        const int idx = e * 32 + lane;
        key[e] = 0ull;
        if (idx < s) {
            key[e] = ((u64)KeyTraits<T>::hiWord(toFloat<T>(p[idx]), idx) << 32) | KeyTraits<T>::loWord(idx);
            valid |= 1u << e;
        }
    }
    return valid;
}

// Drops the valid keys whose high word is below thrHi and subtracts thrHi from the high words.
template <int E>
__device__ __forceinline__ void applyThreshold(u64 (&key)[E], unsigned& valid, uint32_t thrHi) {
#pragma unroll
    for (int e = 0; e < E; ++e) {
        if ((uint32_t)(key[e] >> 32) < thrHi) valid &= ~(1u << e);
        key[e] -= (u64)thrHi << 32;
    }
}

// Stage 1 for one half: the top k of s scores, written to out[0..k) in rank order.
// Pre-filter: when at least k lanes hold a score, the smallest of the lanes' largest keys, T,
// has at least k keys >= T, so every key of the top k is >= T.
template <typename T, int E, int KMAX>
__device__ __forceinline__ void selectHalf(const T* __restrict__ p, int s, int k, bool vecOk,
                                           WarpScratch& ws, Entry* out, int lane) {
    u64 key[E];
    unsigned valid = loadKeys<T, E>(p, s, vecOk, lane, key);
    uint32_t lmax = 0u;   // invalid keys are 0
#pragma unroll
    for (int e = 0; e < E; ++e) lmax = max(lmax, (uint32_t)(key[e] >> 32));
    const uint32_t maxHi = __reduce_max_sync(kFull, lmax);
    const unsigned lanesWithKeys = __popc(__ballot_sync(kFull, valid != 0u));
    uint32_t thrHi = 0u;
    if ((int)lanesWithKeys >= k) {
        thrHi = __reduce_min_sync(kFull, valid != 0u ? lmax : ~0u);
        applyThreshold<E>(key, valid, thrHi);
    }
    const u64 thr = radixSelect<E>(key, valid, k, KeyTraits<T>::kLowBits, startShift(maxHi - thrHi), ws.bins, lane);
    compact<E>(key, valid, thr, k, ws, lane);
    uint32_t h0, l0, h1, l1;
    int r0, r1;
    rankKeys<KMAX, KeyTraits<T>::kUniqueHi>(ws, k, lane, h0, l0, r0, h1, l1, r1);
    if (lane < k) {
        const uint32_t hi = h0 + thrHi;
        out[r0] = Entry{KeyTraits<T>::score(hi), KeyTraits<T>::index(hi, l0)};
    }
    if (KMAX > 32 && lane + 32 < k) {
        const uint32_t hi = h1 + thrHi;
        out[r1] = Entry{KeyTraits<T>::score(hi), KeyTraits<T>::index(hi, l1)};
    }
    __syncwarp();
}

// Whether entry x ranks before entry y: higher score, or equal score and lower index.
__device__ __forceinline__ bool before(const Entry& x, const Entry& y) {
    return x.score > y.score || (x.score == y.score && x.idx < y.idx);
}

// Merges the tile's top m2 (ws.tile, rank order, tile-local indices + base) into out's top m1
// (rank order) and keeps the first k of the union in out. An entry's rank in the union is its rank
// in its own list plus the entries of the other list that rank before it (the lists share no
// index, so no two entries tie).
template <int KMAX>
__device__ __forceinline__ void mergeTile(WarpScratch& ws, Entry* out, int m1, int m2, int base, int k,
                                          int lane) {
    Entry x[2], y[2];
    int rx[2] = {k, k}, ry[2] = {k, k};
#pragma unroll
    for (int h = 0; h < (KMAX > 32 ? 2 : 1); ++h) {
        const int r = lane + 32 * h;
        if (r < m1) {
            x[h] = out[r];
            int c = 0;
            for (int j = 0; j < m2; ++j) c += (int)before(Entry{ws.tile[j].score, ws.tile[j].idx + base}, x[h]);
            rx[h] = r + c;
        }
        if (r < m2) {
            y[h] = Entry{ws.tile[r].score, ws.tile[r].idx + base};
            int c = 0;
            for (int j = 0; j < m1; ++j) c += (int)before(out[j], y[h]);
            ry[h] = r + c;
        }
    }
    __syncwarp();
#pragma unroll
    for (int h = 0; h < (KMAX > 32 ? 2 : 1); ++h) {
        if (rx[h] < k) out[rx[h]] = x[h];
        if (ry[h] < k) out[ry[h]] = y[h];
    }
    __syncwarp();
}

// Stage 1 over s scores of any length up to MSN_PKM_MAX_S: tile by tile (kTile scores each, the
// keys' 10-bit index fields stay tile-local), each tile's top k merged into out.
template <typename T, int E, int KMAX>
__device__ __forceinline__ void selectHalfTiled(const T* __restrict__ p, int s, int k, bool vecOk,
                                                WarpScratch& ws, Entry* out, int lane) {
    if (s <= kTile) {
        selectHalf<T, E, KMAX>(p, s, k, vecOk, ws, out, lane);
        return;
    }
    selectHalf<T, E, KMAX>(p, kTile, k, vecOk, ws, out, lane);
    for (int base = kTile; base < s; base += kTile) {
        const int len = min(kTile, s - base);
        const int kt = min(k, len);
        selectHalf<T, E, KMAX>(p + base, len, kt, vecOk, ws, ws.tile, lane);
        mergeTile<KMAX>(ws, out, k, kt, base, k, lane);
    }
}

// The rank pairs (i, j) with (i+1)(j+1) <= k, row by row (row i holds j < k / (i+1)), packed as
// (i << 8) | j, and the p x (k/p) rectangle corners (cornerJ[p-1] = k/p - 1 when p divides k, else
// -1) of the stage-2 pre-filter. Built once per block by one warp.
struct PairTable {
    uint16_t pairs[kMaxPairs];
    int8_t cornerJ[MSN_PKM_MAX_K];
    int total;
};

__device__ __forceinline__ void buildPairTable(PairTable& t, int k, int lane) {
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
    for (int j = 0; j < len0; ++j) t.pairs[inc0 - len0 + j] = (uint16_t)((lane << 8) | j);
    for (int j = 0; j < len1; ++j) t.pairs[total0 + inc1 - len1 + j] = (uint16_t)(((lane + 32) << 8) | j);
    if (lane == 0) t.total = total0 + total1;
    t.cornerJ[lane] = (int8_t)(lane < k && k % (lane + 1) == 0 ? k / (lane + 1) - 1 : -1);
    t.cornerJ[lane + 32] = (int8_t)(lane + 32 < k && k % (lane + 33) == 0 ? k / (lane + 33) - 1 : -1);
}

// A retrieval block's start: warp 0 builds the pair table and every warp zeroes its histogram
// bins (the caller syncs the block before using either). Returns warp `warp`'s scratch.
__device__ __forceinline__ WarpScratch& startRetrievalBlock(WarpScratch* scratch, PairTable& pairTable, int k,
                                                           int lane, int warp) {
    WarpScratch& ws = scratch[warp];
    if (warp == 0) buildPairTable(pairTable, k, lane);
    ws.bins[lane] = 0u;
    ws.bins[32 + lane] = 0u;
    return ws;
}

// What one lane holds of a query's result: kept candidates number `lane` and `lane + 32` (valid
// when below k), each with its rank in the output (0 = best), softmax weight and slot i*s + j.
struct LaneResult {
    int r0, r1;
    float w0, w1;
    int64_t slot0, slot1;
};

// What a lane reads of the pair table before stage 2: the pair count and its corner columns.
struct PairView {
    int npairs, cj0, cj1;
};
template <int KMAX> __device__ __forceinline__ PairView pairView(const PairTable& pt, int lane) {
    return PairView{pt.total, pt.cornerJ[lane], KMAX > 32 ? pt.cornerJ[lane + 32] : -1};
}

// Stage 2 and the softmax for one query whose stage-1 results (rank order) are in ws.a (rows) and
// ws.b (columns). The whole warp calls it; ws must have zeroed bins (as it is left).
template <int KMAX>
__device__ __forceinline__ LaneResult finishQuery(int s, int k, WarpScratch& ws, const PairTable& pt,
                                                  const PairView& pv, int lane) {
    constexpr int E2 = (pairCount(KMAX) + 31) / 32;
    static_assert(E2 <= 32, "per-lane masks are 32 bits");
    const int npairs = pv.npairs;
    const int cj0 = pv.cj0;
    const int cj1 = pv.cj1;

    // Stage 2: the pruned candidates, scored a_i + b_j in float32.
    // Pre-filter: for every divisor p of k, the p x (k/p) rank rectangle holds k candidates,
    // each scoring at least a_{p-1} + b_{k/p-1} (float addition is monotone), so the best
    // such corner is a lower bound of the k-th candidate score.
    uint32_t corner = 0u;
    if (cj0 >= 0) corner = orderedBits(ws.a[lane].score + ws.b[cj0].score);
    if (KMAX > 32 && cj1 >= 0) corner = max(corner, orderedBits(ws.a[lane + 32].score + ws.b[cj1].score));
    const uint32_t thrHi = __reduce_max_sync(kFull, corner);
    // The best candidate is always (0, 0): the softmax shift.
    const float cmax = ws.a[0].score + ws.b[0].score;
    u64 key[E2];
    unsigned valid = 0u;
#pragma unroll
    for (int e = 0; e < E2; ++e) {
        const int t = lane + 32 * e;
        key[e] = 0ull;
        if (t < npairs) {
            const unsigned pr = pt.pairs[t];
            const Entry ea = ws.a[pr >> 8], eb = ws.b[pr & 255u];
            const float c = ea.score + eb.score;
            const int slot = ea.idx * s + eb.idx;
            key[e] = ((u64)orderedBits(c) << 32) | (u64)(kSlotMask - (uint32_t)slot);
            valid |= 1u << e;
        }
    }
    applyThreshold<E2>(key, valid, thrHi);
    __syncwarp();
    const u64 thr = radixSelect<E2>(key, valid, k, kSlotBits, startShift(orderedBits(cmax) - thrHi), ws.bins, lane);
    compact<E2>(key, valid, thr, k, ws, lane);
    uint32_t h0, l0, h1, l1;
    LaneResult res;
    rankKeys<KMAX, false>(ws, k, lane, h0, l0, res.r0, h1, l1, res.r1);
    float e0 = 0.0f, e1 = 0.0f;
    if (lane < k) e0 = expf(floatFromOrdered(h0 + thrHi) - cmax);
    if (KMAX > 32 && lane + 32 < k) e1 = expf(floatFromOrdered(h1 + thrHi) - cmax);
    float sum = e0 + e1;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(kFull, sum, o);
    res.w0 = e0 / sum;
    res.w1 = e1 / sum;
    res.slot0 = (int64_t)(kSlotMask - (l0 & kSlotMask));
    res.slot1 = (int64_t)(kSlotMask - (l1 & kSlotMask));
    __syncwarp();
    return res;
}

// Both stages and the softmax for one query whose s row and column scores are at rows/cols (global
// memory, or any memory when vecOk is false: the 16-byte streaming loads are global-only). The
// whole warp calls it; ws must have zeroed bins (as it is left).
template <typename T, int E1, int KMAX>
__device__ __forceinline__ LaneResult retrieveQuery(const T* __restrict__ rows, const T* __restrict__ cols, int s,
                                                    int k, bool vecOk, WarpScratch& ws, const PairTable& pt,
                                                    int lane) {
    static_assert(E1 <= 32, "per-lane masks are 32 bits");
    const PairView pv = pairView<KMAX>(pt, lane);
    selectHalfTiled<T, E1, KMAX>(rows, s, k, vecOk, ws, ws.a, lane);
    selectHalfTiled<T, E1, KMAX>(cols, s, k, vecOk, ws, ws.b, lane);
    return finishQuery<KMAX>(s, k, ws, pt, pv, lane);
}

} // namespace pkm
} // namespace msn

#endif // MSN_PKM_DEVICE_CUH
