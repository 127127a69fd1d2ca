// MsnLayer: one whole memory layer, as a short pipeline of kernels on the caller's stream, with the
// intermediate tensors in a workspace the caller provides (msn_layer_workspace_size):
//   1. projection partials P[c] = X Wq^T over the c-th slice of D (float32-accurate products on the
//      tensor cores, below); one slice for large N, up to kMaxSplits for small N so that the GPU has
//      enough blocks;
//   2. q = sum_c P[c] + bq, LayerNorm of each half (one warp per query half, float32, two passes),
//      written over P[0];
//   3. scores a = q_row K_row^T, b = q_col K_col^T (the same product kernel, both halves in one
//      launch);
//   4. PKMRetrieval on (a, b) into the op's weights and indices (pkm_retrieval.cu);
//   5. v = SparseGather of the kept rows (sparse_gather.cu; per-token offsets added first), then
//      y = x * gate(v).
//
// The products (steps 1 and 3) run on the tensor cores at float32 accuracy: each float32 operand is
// split into a TF32 head and tail, a = a_hi + a_lo with a_hi = tf32(a), a_lo = tf32(a - a_hi), and
// a*b = a_lo*b_hi + a_hi*b_lo + a_hi*b_hi (the a_lo*b_lo term, ~2^-22 relative, is dropped) with
// mma.sync m16n8k8 TF32 into float32 accumulators. Each 32-wide slice of K is accumulated in fresh
// accumulators and then added (IEEE float32 add) into the running sums, so the tensor cores'
// internal accumulation only ever spans 12 MMAs; the running sum over K is a chain of K/32 adds.
// Tiles pass from global to shared memory through registers, one tile ahead. Measured on an H100
// (docs/performance.md, ninth and tenth GPU sessions) this reaches about 43 TFLOP/s of
// float32-accurate work at N = 32,768, bound by shared-memory fragment traffic, not by global
// memory or the splits: a four-stage cp.async pipeline was no faster (41 TFLOP/s), and splitting
// each tile once into head and tail arrays (twice the shared-memory bytes per MMA) was slower
// (30.5 TFLOP/s); neither is kept. SCORING_NOTES.md has what would go faster (wgmma).
#include "msn_kernels.h"
#include "msn_kernels_internal.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace msn {
namespace {

// ---- float32-accurate products on TF32 tensor cores -----------------------------------------------
// C[m, j] = sum_{i in slice} A[m, i] * B[j, i]: A [m, lda] float32 or float16 rows, B [n, ldb] float32
// rows (both K-contiguous), C float32 [m, ldc]. Grid: x over 64-row tiles of m, y over 128-column
// tiles of n, z over (half h, K slice c) = h * splits + c. 8 warps, each a 32 x 32 tile.
constexpr int kBM = 64, kBN = 128, kBK = 32, kPad = 36, kGemmThreads = 256;
constexpr int kMaxSplits = 8;
constexpr int kTargetBlocks = 264;   // about two blocks per SM of an H100; fixed, so that the workspace
                                     // size depends on N only
constexpr size_t kGemmSmem = 2u * (kBM + kBN) * kPad * sizeof(float);   // 55,296 bytes

struct GemmArgs {
    const void* a[2];
    const float* b[2];
    float* c;
    int64_t m, lda, ldb, ldc, cStride;
    int n, k, splits, kPerSplit;
    int vecA, vecB;   // rows may be read 16 bytes at a time
};

__device__ __forceinline__ uint32_t toTf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}

__device__ __forceinline__ void splitTf32(float x, uint32_t& hi, uint32_t& lo) {
    hi = toTf32(x);
    lo = toTf32(x - __uint_as_float(hi));
}

__device__ __forceinline__ void mmaTf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// E consecutive elements of a row from column col (zero past kEnd or past the last row).
template <int E, bool HALF>
__device__ __forceinline__ void loadRow(const void* base, int64_t row, int64_t ld, bool rowOk, int col, int kEnd,
                                        bool vec, float (&r)[E]) {
    if (!rowOk) {
#pragma unroll
        for (int i = 0; i < E; ++i) r[i] = 0.0f;
        return;
    }
    if (HALF) {
        const __half* p = static_cast<const __half*>(base) + row * ld + col;
        if (vec && col + E <= kEnd) {
#pragma unroll
            for (int v = 0; v < E / 8; ++v) {
                const uint4 u = reinterpret_cast<const uint4*>(p)[v];
                const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const float2 f = __half22float2(h[j]);
                    r[v * 8 + 2 * j] = f.x;
                    r[v * 8 + 2 * j + 1] = f.y;
                }
            }
            return;
        }
#pragma unroll
        for (int i = 0; i < E; ++i) r[i] = col + i < kEnd ? __half2float(p[i]) : 0.0f;
    } else {
        const float* p = static_cast<const float*>(base) + row * ld + col;
        if (vec && col + E <= kEnd) {
#pragma unroll
            for (int v = 0; v < E / 4; ++v) {
                const float4 u = reinterpret_cast<const float4*>(p)[v];
                r[4 * v] = u.x;
                r[4 * v + 1] = u.y;
                r[4 * v + 2] = u.z;
                r[4 * v + 3] = u.w;
            }
            return;
        }
#pragma unroll
        for (int i = 0; i < E; ++i) r[i] = col + i < kEnd ? p[i] : 0.0f;
    }
}

template <int E>
__device__ __forceinline__ void storeRow(float* s, const float (&r)[E]) {
#pragma unroll
    for (int v = 0; v < E / 4; ++v)
        reinterpret_cast<float4*>(s)[v] = make_float4(r[4 * v], r[4 * v + 1], r[4 * v + 2], r[4 * v + 3]);
}

// A warp's 32 x 32 tile of accumulators: 2 x 4 MMA tiles of 4 floats per thread.
__device__ __forceinline__ void zeroTile(float (&t)[2][4][4]) {
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) t[i][j][e] = 0.0f;
}

// One 32-wide K tile from shared memory into this warp's 32 x 32 tile of fresh accumulators, then
// into the running sums (see the top of the file).
__device__ __forceinline__ void mmaTile(const float* as, const float* bs, float (&acc)[2][4][4], int wm, int wn, int gq,
                                        int tq) {
    float part[2][4][4];
    zeroTile(part);
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 8) {
        uint32_t ah[2][4], al[2][4], bh[4][2], bl[4][2];
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
            const float* r0 = as + (wm + mt * 16 + gq) * kPad + kk + tq;
            splitTf32(r0[0], ah[mt][0], al[mt][0]);
            splitTf32(r0[8 * kPad], ah[mt][1], al[mt][1]);
            splitTf32(r0[4], ah[mt][2], al[mt][2]);
            splitTf32(r0[8 * kPad + 4], ah[mt][3], al[mt][3]);
        }
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
            const float* c0 = bs + (wn + nt * 8 + gq) * kPad + kk + tq;
            splitTf32(c0[0], bh[nt][0], bl[nt][0]);
            splitTf32(c0[4], bh[nt][1], bl[nt][1]);
        }
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
#pragma unroll
            for (int nt = 0; nt < 4; ++nt) {
                mmaTf32(part[mt][nt], al[mt], bh[nt]);
                mmaTf32(part[mt][nt], ah[mt], bl[nt]);
                mmaTf32(part[mt][nt], ah[mt], bh[nt]);
            }
    }
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) acc[i][j][e] += part[i][j][e];
}

// This warp's 32 x 32 tile of C (fragment layout of mma m16n8k8: rows gq and gq + 8, columns 2tq, 2tq + 1).
__device__ __forceinline__ void storeTile(const GemmArgs& g, int z, int64_t m0, int n0, const float (&acc)[2][4][4],
                                          int wm, int wn, int gq, int tq) {
    float* C = g.c + (int64_t)z * g.cStride;
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
            const int col = n0 + wn + nt * 8 + 2 * tq;
#pragma unroll
            for (int half = 0; half < 2; ++half) {
                const int64_t row = m0 + wm + mt * 16 + gq + half * 8;
                if (row >= g.m) continue;
                float* out = C + row * g.ldc;
                if (col < g.n) out[col] = acc[mt][nt][2 * half];
                if (col + 1 < g.n) out[col + 1] = acc[mt][nt][2 * half + 1];
            }
        }
}

// Any shapes and alignments; A float32 or float16.
template <bool HALF_A>
__global__ void __launch_bounds__(kGemmThreads, 2) tf32x3Gemm(GemmArgs g) {
    extern __shared__ float4 gemmSmem[];
    float* As = reinterpret_cast<float*>(gemmSmem);   // [2][kBM][kPad]
    float* Bs = As + 2 * kBM * kPad;                  // [2][kBN][kPad]
    const int z = blockIdx.z;
    const int h = z / g.splits;
    const int kBegin = (z - h * g.splits) * g.kPerSplit;
    const int kEnd = min(g.k, kBegin + g.kPerSplit);
    const void* A = h ? g.a[1] : g.a[0];   // (a dynamic index would copy the arrays to local memory)
    const float* B = h ? g.b[1] : g.b[0];
    const int64_t m0 = (int64_t)blockIdx.x * kBM;
    const int n0 = blockIdx.y * kBN;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const int wm = (warp & 1) * 32, wn = (warp >> 1) * 32;
    // this thread's share of a tile load: 8 elements of an A row, 16 of a B row
    const int ra = tid >> 2, ca = (tid & 3) * 8, rb = tid >> 1, cb = (tid & 1) * 16;
    const bool aOk = m0 + ra < g.m, bOk = n0 + rb < g.n;

    float acc[2][4][4];
    zeroTile(acc);

    const int tiles = kEnd > kBegin ? (kEnd - kBegin + kBK - 1) / kBK : 0;
    float pa[8], pb[16];
    if (tiles > 0) {
        loadRow<8, HALF_A>(A, m0 + ra, g.lda, aOk, kBegin + ca, kEnd, g.vecA, pa);
        loadRow<16, false>(B, n0 + rb, g.ldb, bOk, kBegin + cb, kEnd, g.vecB, pb);
        storeRow(As + ra * kPad + ca, pa);
        storeRow(Bs + rb * kPad + cb, pb);
    }
    __syncthreads();
    for (int t = 0; t < tiles; ++t) {
        const int buf = t & 1;
        if (t + 1 < tiles) {
            const int k0 = kBegin + (t + 1) * kBK;
            loadRow<8, HALF_A>(A, m0 + ra, g.lda, aOk, k0 + ca, kEnd, g.vecA, pa);
            loadRow<16, false>(B, n0 + rb, g.ldb, bOk, k0 + cb, kEnd, g.vecB, pb);
        }
        mmaTile(As + buf * kBM * kPad, Bs + buf * kBN * kPad, acc, wm, wn, gq, tq);
        if (t + 1 < tiles) {
            storeRow(As + (buf ^ 1) * kBM * kPad + ra * kPad + ca, pa);
            storeRow(Bs + (buf ^ 1) * kBN * kPad + rb * kPad + cb, pb);
        }
        __syncthreads();
    }
    storeTile(g, z, m0, n0, acc, wm, wn, gq, tq);
}

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <bool HALF_A>
cudaError_t launchGemm(const GemmArgs& g, int halves, cudaStream_t stream) {
    const dim3 grid((unsigned)((g.m + kBM - 1) / kBM), (unsigned)((g.n + kBN - 1) / kBN), (unsigned)(halves * g.splits));
    // The shared-memory opt-in is per device, so at every launch (cheap, and allowed while a stream
    // is being captured).
    const cudaError_t err =
        cudaFuncSetAttribute(tf32x3Gemm<HALF_A>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)kGemmSmem);
    if (err != cudaSuccess) return err;
    tf32x3Gemm<HALF_A><<<grid, kGemmThreads, kGemmSmem, stream>>>(g);
    return cudaGetLastError();
}

// ---- step 2: q = sum of the partials + bq, LayerNorm of each half, over partial 0 ------------------

struct QueryArgs {
    float* part;          // [splits][n][2dk]; the normed query is written over partial 0
    int64_t partStride;   // n * 2dk
    int splits;
    int64_t n;
    int dk;
    float epsilon;
    const float* bq;
    const float* gamma[2];
    const float* beta[2];
};

__global__ void finishQueryKernel(QueryArgs a) {
    const int lane = threadIdx.x & 31;
    const int64_t w = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (w >= 2 * a.n) return;
    const int64_t r = w >> 1;
    const int h = (int)(w & 1);
    float* q = a.part + r * 2 * a.dk + h * a.dk;
    const float* bias = a.bq + h * a.dk;
    float sum = 0.0f;
    for (int i = lane; i < a.dk; i += 32) {
        float v = q[i];
        for (int c = 1; c < a.splits; ++c) v += q[c * a.partStride + i];
        v += bias[i];
        q[i] = v;
        sum += v;
    }
    const float mean = warpSum(sum) / (float)a.dk;
    float sq = 0.0f;
    for (int i = lane; i < a.dk; i += 32) {
        const float c = q[i] - mean;
        sq = fmaf(c, c, sq);
    }
    const float inv = rsqrtf(warpSum(sq) / (float)a.dk + a.epsilon);
    const float* gm = h ? a.gamma[1] : a.gamma[0];
    const float* bt = h ? a.beta[1] : a.beta[0];
    for (int i = lane; i < a.dk; i += 32) q[i] = (q[i] - mean) * inv * gm[i] + bt[i];
}

// ---- step 5: per-token offsets, and y = x * gate(v) ------------------------------------------------
__global__ void offsetSlotsKernel(const int64_t* slots, int64_t* rows, int64_t total, int k, int tokens,
                                  int64_t slotsPerTable) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (int64_t)gridDim.x * blockDim.x)
        rows[e] = slots[e] + ((e / k) % tokens) * slotsPerTable;
}

__device__ __forceinline__ float activate(msn_gate g, float v) {
    switch (g) {
    case MSN_GATE_TANH: return tanhf(v);
    case MSN_GATE_SIGMOID: return 1.0f / (1.0f + expf(-v));
    default: return v;
    }
}

template <bool HALF>
__global__ void gateKernel(const void* x, const float* v, void* y, int64_t total, msn_gate gate) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (int64_t)gridDim.x * blockDim.x) {
        if (HALF) {
            const float xv = __half2float(static_cast<const __half*>(x)[e]);
            static_cast<__half*>(y)[e] = __float2half_rn(xv * activate(gate, v[e]));
        } else {
            static_cast<float*>(y)[e] = static_cast<const float*>(x)[e] * activate(gate, v[e]);
        }
    }
}

// ---- the plan: K slices and workspace layout, from the sizes alone ---------------------------------
constexpr size_t kAlign = 256;

size_t alignUp(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

int projectionSplits(const msn_layer_params& p, int64_t n) {
    const int64_t tiles = (n + kBM - 1) / kBM * ((2 * (int64_t)p.dk + kBN - 1) / kBN);
    const int64_t kTiles = (p.d + kBK - 1) / kBK;
    int64_t s = (kTargetBlocks + tiles - 1) / tiles;
    if (s > kMaxSplits) s = kMaxSplits;
    if (s > kTiles) s = kTiles;
    return s < 1 ? 1 : (int)s;
}

struct Plan {
    int splits, kPerSplit;
    size_t part, scores, v, rows, total;   // byte offsets into the workspace, and its size
};

Plan makePlan(const msn_layer_params& p, int64_t n) {
    Plan pl;
    pl.splits = projectionSplits(p, n);
    const int64_t kTiles = (p.d + kBK - 1) / kBK;
    pl.kPerSplit = (int)((kTiles + pl.splits - 1) / pl.splits * kBK);
    pl.splits = (int)((p.d + pl.kPerSplit - 1) / pl.kPerSplit);   // no empty slice
    size_t at = 0;
    pl.part = at;
    at += alignUp((size_t)pl.splits * (size_t)n * 2u * (size_t)p.dk * sizeof(float));
    pl.scores = at;
    at += alignUp(2u * (size_t)n * (size_t)p.s * sizeof(float));
    pl.v = at;
    at += alignUp((size_t)n * (size_t)p.d * sizeof(float));
    pl.rows = at;
    if (p.per_token) at += alignUp((size_t)n * (size_t)p.k * sizeof(int64_t));
    pl.total = at;
    return pl;
}

int elementwiseGrid(int64_t total) {
    const int64_t blocks = (total + 255) / 256;
    return (int)(blocks < 4096 ? (blocks < 1 ? 1 : blocks) : 4096);
}

bool rowsVectorizable(const void* base, int64_t ld, int elementBytes) {
    return isAligned(base, 16) && (ld * elementBytes) % 16 == 0;
}

// MSN_LAYER_STEPS = 1..4 stops msn_layer after that step (the harness times the steps this way);
// unset, or anything else, runs the whole layer.
int stepsToRun() {
    const char* v = getenv("MSN_LAYER_STEPS");
    return v && v[0] >= '1' && v[0] <= '4' && v[1] == '\0' ? v[0] - '0' : 5;
}

} // namespace
} // namespace msn

extern "C" int msn_layer_check(const msn_layer_params* p, msn_dtype xType) {
    if (p == nullptr) return MSN_ERR_INVALID_ARGUMENT;
    if (p->d < 1 || p->d > (1 << 30) || p->dk < 1 || p->tokens < 1 || (p->per_token != 0 && p->per_token != 1))
        return MSN_ERR_UNSUPPORTED;
    if (msn_pkm_retrieval_check(p->s, p->k, MSN_FLOAT32, MSN_FLOAT32, MSN_INT64) != MSN_OK) return MSN_ERR_UNSUPPORTED;
    if (p->gate != MSN_GATE_TANH && p->gate != MSN_GATE_SIGMOID && p->gate != MSN_GATE_IDENTITY) return MSN_ERR_UNSUPPORTED;
    if (!(p->epsilon > 0.0f)) return MSN_ERR_UNSUPPORTED;
    if (xType != MSN_FLOAT32 && xType != MSN_FLOAT16) return MSN_ERR_UNSUPPORTED;
    if (p->value_type != MSN_FLOAT32 && p->value_type != MSN_FLOAT16 && p->value_type != MSN_BFLOAT16)
        return MSN_ERR_UNSUPPORTED;
    return MSN_OK;
}

extern "C" size_t msn_layer_workspace_size(const msn_layer_params* p, int64_t n) {
    if (p == nullptr || n <= 0 || msn_layer_check(p, MSN_FLOAT32) != MSN_OK) return 0;
    // The K slices multiply as N shrinks, so a smaller N can need more: the most that any N up to n
    // needs. Past kTargetBlocks 64-row tiles there is one slice and the need grows with N.
    size_t most = msn::makePlan(*p, n).total;
    const int64_t sliced = (int64_t)msn::kBM * msn::kTargetBlocks;
    for (int64_t m = 1; m < n && m <= sliced; m = m < msn::kBM ? m + 1 : m + msn::kBM) {
        const size_t t = msn::makePlan(*p, m).total;
        if (t > most) most = t;
    }
    return most;
}

extern "C" int msn_layer(const msn_layer_params* p, int64_t n, const void* x, msn_dtype xType, void* y,
                         float* weights, int64_t* indices, void* workspace, size_t workspace_bytes,
                         cudaStream_t stream) {
    const int check = msn_layer_check(p, xType);
    if (check != MSN_OK) return check;
    if (n < 0) return MSN_ERR_INVALID_ARGUMENT;
    if (n == 0) return MSN_OK;
    if (!x || !y || !weights || !indices || !p->wq || !p->bq || !p->ln_row_w || !p->ln_row_b || !p->ln_col_w ||
        !p->ln_col_b || !p->k_row || !p->k_col || !p->values || !workspace)
        return MSN_ERR_INVALID_ARGUMENT;
    const msn::Plan pl = msn::makePlan(*p, n);
    if (workspace_bytes < pl.total || !msn::isAligned(workspace, 16)) return MSN_ERR_INVALID_ARGUMENT;
    char* ws = static_cast<char*>(workspace);
    float* part = reinterpret_cast<float*>(ws + pl.part);
    float* scores = reinterpret_cast<float*>(ws + pl.scores);
    float* v = reinterpret_cast<float*>(ws + pl.v);
    const bool half = xType == MSN_FLOAT16;
    const int steps = msn::stepsToRun();
    const int64_t qWidth = 2 * (int64_t)p->dk;

    // 1. projection partials
    msn::GemmArgs g{};
    g.a[0] = g.a[1] = x;
    g.b[0] = g.b[1] = p->wq;
    g.c = part;
    g.m = n;
    g.lda = p->d;
    g.ldb = p->d;
    g.ldc = qWidth;
    g.cStride = n * qWidth;
    g.n = (int)qWidth;
    g.k = (int)p->d;
    g.splits = pl.splits;
    g.kPerSplit = pl.kPerSplit;
    g.vecA = msn::rowsVectorizable(x, p->d, half ? 2 : 4);
    g.vecB = msn::rowsVectorizable(p->wq, p->d, 4);
    cudaError_t err = half ? msn::launchGemm<true>(g, 1, stream) : msn::launchGemm<false>(g, 1, stream);
    if (err != cudaSuccess) return MSN_ERR_LAUNCH;
    if (steps == 1) return MSN_OK;

    // 2. q, LayerNorms
    msn::QueryArgs q{part, n * qWidth, pl.splits, n, p->dk, p->epsilon, p->bq,
                     {p->ln_row_w, p->ln_col_w}, {p->ln_row_b, p->ln_col_b}};
    const int64_t warps = 2 * n;
    msn::finishQueryKernel<<<(unsigned)((warps * 32 + 255) / 256), 256, 0, stream>>>(q);
    if (cudaGetLastError() != cudaSuccess) return MSN_ERR_LAUNCH;
    if (steps == 2) return MSN_OK;

    // 3. scores of both halves: a = scores[0:n], b = scores[n:2n]
    msn::GemmArgs s{};
    s.a[0] = part;
    s.a[1] = part + p->dk;
    s.b[0] = p->k_row;
    s.b[1] = p->k_col;
    s.c = scores;
    s.m = n;
    s.lda = qWidth;
    s.ldb = p->dk;
    s.ldc = p->s;
    s.cStride = n * (int64_t)p->s;
    s.n = p->s;
    s.k = p->dk;
    s.splits = 1;
    s.kPerSplit = (p->dk + msn::kBK - 1) / msn::kBK * msn::kBK;
    s.vecA = msn::rowsVectorizable(part, qWidth, 4) && msn::rowsVectorizable(part + p->dk, qWidth, 4);
    s.vecB = msn::rowsVectorizable(p->k_row, p->dk, 4) && msn::rowsVectorizable(p->k_col, p->dk, 4);
    err = msn::launchGemm<false>(s, 2, stream);
    if (err != cudaSuccess) return MSN_ERR_LAUNCH;
    if (steps == 3) return MSN_OK;

    // 4. retrieval into the op's outputs
    int st = msn_pkm_retrieval(scores, scores + n * (int64_t)p->s, MSN_FLOAT32, n, p->s, p->k, weights, MSN_FLOAT32,
                               indices, MSN_INT64, stream);
    if (st != MSN_OK || steps == 4) return st;

    // 5. gather the kept rows (with each token's table offset), then the gate
    const int64_t slotsPerTable = (int64_t)p->s * p->s;
    const int64_t tableRows = slotsPerTable * (p->per_token ? p->tokens : 1);
    const int64_t* rows = indices;
    if (p->per_token) {
        int64_t* shifted = reinterpret_cast<int64_t*>(ws + pl.rows);
        const int64_t total = n * p->k;
        msn::offsetSlotsKernel<<<msn::elementwiseGrid(total), 256, 0, stream>>>(indices, shifted, total, p->k,
                                                                                p->tokens, slotsPerTable);
        if (cudaGetLastError() != cudaSuccess) return MSN_ERR_LAUNCH;
        rows = shifted;
    }
    st = msn_sparse_gather(p->values, p->value_type, tableRows, p->d, rows, MSN_INT64, weights, MSN_FLOAT32, n, p->k,
                           v, MSN_FLOAT32, nullptr, stream);
    if (st != MSN_OK) return st;
    const int64_t total = n * p->d;
    if (half) msn::gateKernel<true><<<msn::elementwiseGrid(total), 256, 0, stream>>>(x, v, y, total, p->gate);
    else msn::gateKernel<false><<<msn::elementwiseGrid(total), 256, 0, stream>>>(x, v, y, total, p->gate);
    return cudaGetLastError() == cudaSuccess ? MSN_OK : MSN_ERR_LAUNCH;
}
