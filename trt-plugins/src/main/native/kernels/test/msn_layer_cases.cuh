// MsnLayer checks of msn_kernels_test.cu (included there, inside its anonymous namespace, after
// the PKMRetrieval helpers). The CPU reference computes the query, the LayerNorms and the scores in
// double (rounded to float32 once), retrieves with referenceQuery, and then checks the kernel:
//   * every kept slot's reference candidate score equals the reference's score of that rank within
//     a float32 accumulation tolerance (so a near-tie may swap two slots, nothing else);
//   * equal reference candidate scores at consecutive ranks come in ascending slot order (the tie
//     rule; the "ties" inputs duplicate key rows so that such exact ties occur);
//   * the weights match the reference where the slots do;
//   * y = x * gate(sum_m w_m V[slot_m + offset]) recomputed in double from the kernel's own slots
//     and weights matches y (and poisoned outputs are all overwritten).
#ifndef MSN_LAYER_CASES_CUH
#define MSN_LAYER_CASES_CUH

struct LayerCase {
    int64_t n;
    int d, dk, s, k, tokens, perToken;
    msn_gate gate;
    msn_dtype xType, valueType;
    bool ties;
};

double gateRef(msn_gate g, double v) {
    return g == MSN_GATE_TANH ? std::tanh(v) : g == MSN_GATE_SIGMOID ? 1.0 / (1.0 + std::exp(-v)) : v;
}

void layerNormRef(std::vector<double>& q, int from, int dk, const std::vector<float>& g, const std::vector<float>& b) {
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < dk; ++i) mean += q[from + i];
    mean /= dk;
    for (int i = 0; i < dk; ++i) var += (q[from + i] - mean) * (q[from + i] - mean);
    var /= dk;
    const double inv = 1.0 / std::sqrt(var + 1e-5);
    for (int i = 0; i < dk; ++i) q[from + i] = (q[from + i] - mean) * inv * g[i] + b[i];
}

// Reference scores (float32-rounded) of query r: a then b, 2s floats.
void referenceScores(const LayerCase& c, const float* x, const std::vector<float>* P, std::vector<float>& ab) {
    std::vector<double> q(2 * c.dk);
    for (int o = 0; o < 2 * c.dk; ++o) {
        double acc = P[1][o];
        for (int i = 0; i < c.d; ++i) acc += (double)P[0][(size_t)o * c.d + i] * x[i];
        q[o] = (float)acc;
    }
    layerNormRef(q, 0, c.dk, P[2], P[3]);
    layerNormRef(q, c.dk, c.dk, P[4], P[5]);
    for (int h = 0; h < 2; ++h)
        for (int j = 0; j < c.s; ++j) {
            double acc = 0.0;
            for (int i = 0; i < c.dk; ++i) acc += (double)P[6 + h][(size_t)j * c.dk + i] * (float)q[h * c.dk + i];
            ab[(size_t)h * c.s + j] = (float)acc;
        }
}

void runLayerCase(const LayerCase& c) {
    ++gCases;
    Rng rng(freshSeed());
    const int64_t rows = (int64_t)c.s * c.s * (c.perToken ? c.tokens : 1);
    // P: 0 Wq [2dk, d], 1 bq, 2..5 LN weight/bias row/col, 6 K_row, 7 K_col
    std::vector<float> P[8];
    P[0].resize((size_t)2 * c.dk * c.d);
    for (auto& v : P[0]) v = (float)(rng.normal() / std::sqrt((double)c.d));
    P[1].resize(2 * c.dk);
    for (auto& v : P[1]) v = (float)(0.1 * rng.normal());
    for (int i = 2; i < 6; ++i) {
        P[i].resize(c.dk);
        for (auto& v : P[i]) v = (float)((i % 2 == 0 ? 1.0 : 0.0) + 0.1 * rng.normal());
    }
    for (int h = 6; h < 8; ++h) {
        P[h].resize((size_t)c.s * c.dk);
        for (auto& v : P[h]) v = (float)rng.normal();
        if (c.ties)   // odd key rows repeat the even ones: exact score ties at distinct indices
            for (int j = 1; j < c.s; j += 2)
                std::copy(P[h].begin() + (size_t)(j - 1) * c.dk, P[h].begin() + (size_t)j * c.dk,
                          P[h].begin() + (size_t)j * c.dk);
    }
    std::vector<float> x((size_t)c.n * c.d), vals((size_t)rows * c.d);
    std::vector<uint8_t> xRaw(x.size() * typeSize(c.xType)), vRaw(vals.size() * typeSize(c.valueType));
    for (size_t i = 0; i < x.size(); ++i) x[i] = roundTo(c.xType, (float)rng.normal(), xRaw.data(), i);
    for (size_t i = 0; i < vals.size(); ++i) vals[i] = roundTo(c.valueType, (float)rng.normal(), vRaw.data(), i);

    DevBuf dx(xRaw.size()), dv(vRaw.size()), dy(x.size() * typeSize(c.xType));
    DevBuf dw((size_t)c.n * c.k * 4), di((size_t)c.n * c.k * 8);
    std::unique_ptr<DevBuf> dp[8];
    for (int i = 0; i < 8; ++i) {
        dp[i].reset(new DevBuf(P[i].size() * 4));
        CK(cudaMemcpy(dp[i]->p, P[i].data(), P[i].size() * 4, cudaMemcpyHostToDevice));
    }
    CK(cudaMemcpy(dx.p, xRaw.data(), xRaw.size(), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dv.p, vRaw.data(), vRaw.size(), cudaMemcpyHostToDevice));
    CK(cudaMemset(dy.p, 0xFF, dy.bytes));
    CK(cudaMemset(dw.p, 0xFF, dw.bytes));
    CK(cudaMemset(di.p, 0xFF, di.bytes));
    const float* f[8];
    for (int i = 0; i < 8; ++i) f[i] = dp[i]->as<float>();
    // every field, in msn_layer_params' declaration order: d, dk, s, k, tokens, per_token, gate,
    // epsilon, wq, bq, the four LayerNorm vectors, k_row, k_col, values, value_type
    const msn_layer_params p{c.d, c.dk, c.s, c.k, c.tokens, c.perToken, c.gate, 1e-5f, f[0], f[1],
                             f[2], f[3], f[4], f[5], f[6], f[7], dv.p, c.valueType};
    const size_t wsBytes = msn_layer_workspace_size(&p, c.n);
    DevBuf ws(wsBytes > 0 ? wsBytes : 16);
    CK(cudaMemset(ws.p, 0xFF, ws.bytes));   // NaN everywhere: nothing may be read before it is written
    const int st = msn_layer(&p, c.n, dx.p, c.xType, dy.p, dw.as<float>(), di.as<int64_t>(), ws.p, wsBytes, 0);
    CK(cudaDeviceSynchronize());
    char label[200];
    std::snprintf(label, sizeof label, "MsnLayer n=%lld d=%d dk=%d s=%d k=%d T=%d per_token=%d gate=%d x=%s v=%s%s",
                  (long long)c.n, c.d, c.dk, c.s, c.k, c.tokens, c.perToken, (int)c.gate, typeName(c.xType),
                  typeName(c.valueType), c.ties ? " ties" : "");
    if (st != MSN_OK) {
        ++gFailures;
        std::printf("FAIL %s: status %s\n", label, msn_status_string(st));
        return;
    }
    std::vector<float> w((size_t)c.n * c.k);
    std::vector<int64_t> idx((size_t)c.n * c.k);
    std::vector<uint8_t> yRaw(dy.bytes);
    CK(cudaMemcpy(w.data(), dw.p, dw.bytes, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(idx.data(), di.p, di.bytes, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(yRaw.data(), dy.p, dy.bytes, cudaMemcpyDeviceToHost));

    std::atomic<int> bad{0}, tieOrder{0}, nearTies{0};
    std::atomic<double> worstY{0.0};
    parallelFor(c.n, [&](int64_t r) {
        std::vector<float> ab((size_t)2 * c.s), cand(c.k);
        std::vector<int64_t> ri(c.k);
        std::vector<double> rw(c.k);
        referenceScores(c, x.data() + r * c.d, P, ab);
        referenceQuery(ab.data(), ab.data() + c.s, c.s, c.k, false, ri.data(), rw.data(), cand.data());
        const int64_t* gi = idx.data() + r * c.k;
        const double tol = 1e-4 * (1.0 + std::fabs(cand[0]));
        bool same = true;
        for (int m = 0; m < c.k; ++m) {
            if (gi[m] < 0 || gi[m] >= (int64_t)c.s * c.s) { ++bad; return; }
            const float cm = ab[gi[m] / c.s] + ab[c.s + gi[m] % c.s];
            if (std::fabs((double)cm - cand[m]) > tol) { ++bad; return; }
            if (m > 0) {
                const float cp = ab[gi[m - 1] / c.s] + ab[c.s + gi[m - 1] % c.s];
                if (cp == cm && gi[m - 1] > gi[m]) ++tieOrder;
            }
            same &= gi[m] == ri[m];
        }
        if (!same) ++nearTies;
        for (int m = 0; same && m < c.k; ++m)
            if (std::fabs(w[r * c.k + m] - rw[m]) > 1e-4) { ++bad; return; }
        const int64_t off = c.perToken ? (r % c.tokens) * (int64_t)c.s * c.s : 0;
        for (int i = 0; i < c.d; ++i) {
            double v = 0.0;
            for (int m = 0; m < c.k; ++m) v += (double)w[r * c.k + m] * vals[(size_t)(gi[m] + off) * c.d + i];
            const double want = x[(size_t)r * c.d + i] * gateRef(c.gate, v);
            const float got = c.xType == MSN_FLOAT32 ? reinterpret_cast<const float*>(yRaw.data())[r * c.d + i]
                                                     : __half2float(reinterpret_cast<const __half*>(yRaw.data())[r * c.d + i]);
            const double err = std::fabs(got - want) / (1.0 + std::fabs(want));
            const double lim = c.xType == MSN_FLOAT32 ? 1e-5 : 2e-3;
            double prev = worstY.load();
            while (err > prev && !worstY.compare_exchange_weak(prev, err)) {}
            if (!(err <= lim)) { ++bad; return; }
        }
    });
    const bool ok = bad.load() == 0 && tieOrder.load() == 0;
    if (!ok) ++gFailures;
    if (!ok || verbose())
        std::printf("%s %s: %d bad queries, %d tie-order violations, %d near-tie swaps, worst y err %.2e\n",
                    ok ? "ok  " : "FAIL", label, bad.load(), tieOrder.load(), nearTies.load(), worstY.load());
}

void layerSuite(bool quick) {
    const std::vector<LayerCase> cases = {
        {64, 16, 8, 8, 4, 4, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT32, false},        // tiny
        {64, 16, 8, 8, 4, 4, 1, MSN_GATE_SIGMOID, MSN_FLOAT32, MSN_FLOAT16, true},      // tiny, per token, ties
        {512, 64, 32, 64, 16, 8, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT32, false},    // small
        {512, 64, 32, 64, 16, 8, 0, MSN_GATE_IDENTITY, MSN_FLOAT16, MSN_BFLOAT16, true},
        // S = 1030: stage 1 in two tiles (pkm_device.cuh), the last shorter than k (also --quick)
        {50, 8, 16, 1030, 33, 1, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT16, true},
        {301, 96, 40, 200, 33, 7, 1, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT32, true},    // odd sizes, k > 32
        {1000, 256, 64, 512, 64, 4, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT16, false},
        {37, 768, 128, 1024, 32, 1, 0, MSN_GATE_SIGMOID, MSN_FLOAT16, MSN_FLOAT32, true}, // > 48 KiB shared
        // More tiles, narrow D keeping the S*S-row value tables small: the xl profile's S and k;
        // S = MSN_PKM_MAX_S with k = 64 (> 128 KiB of shared memory).
        {37, 16, 32, 2048, 32, 1, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT16, false},
        {21, 8, 16, MSN_PKM_MAX_S, 64, 1, 0, MSN_GATE_SIGMOID, MSN_FLOAT16, MSN_FLOAT16, true},
        // paper's widths at a batch of 4 (N = 64: the projection in the most K slices), and a D past
        // what the earlier one-block kernel's shared memory allowed, with an odd dk
        {64, 768, 256, 256, 32, 16, 0, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT16, false},
        {9, 16001, 21, 8, 8, 3, 1, MSN_GATE_TANH, MSN_FLOAT32, MSN_FLOAT32, false},
    };
    for (size_t i = 0; i < cases.size(); ++i)
        if (!quick || i < 5) runLayerCase(cases[i]);
    // Unsupported shapes are refused, not launched.
    msn_layer_params p{};
    p.d = 16, p.dk = 8, p.s = 8, p.k = 9, p.tokens = 1, p.gate = MSN_GATE_TANH, p.epsilon = 1e-5f,
    p.value_type = MSN_FLOAT32;
    ++gCases;
    const bool refused = msn_layer_check(&p, MSN_FLOAT32) == MSN_ERR_UNSUPPORTED;   // k > s
    p.k = 4;
    p.gate = (msn_gate)7;
    const bool refusedGate = msn_layer_check(&p, MSN_FLOAT32) == MSN_ERR_UNSUPPORTED;
    p.gate = MSN_GATE_TANH;
    const bool refusedType = msn_layer_check(&p, MSN_INT32) == MSN_ERR_UNSUPPORTED;
    p.s = MSN_PKM_MAX_S + 1;
    const bool refusedS = msn_layer_check(&p, MSN_FLOAT32) == MSN_ERR_UNSUPPORTED;
    p.s = MSN_PKM_MAX_S;
    const bool acceptedMaxS = msn_layer_check(&p, MSN_FLOAT32) == MSN_OK;
    if (!(refused && refusedGate && refusedType && refusedS && acceptedMaxS)) {
        ++gFailures;
        std::printf("FAIL MsnLayer: msn_layer_check accepted k > S, a bad gate, an int32 x or S > MSN_PKM_MAX_S, "
                    "or refused S = MSN_PKM_MAX_S\n");
    }
    // (the workspace size and its refusals need no GPU: plugins/test/msn_layer_abi_checks.h)
}

// Paper's widths (D = 768, dk = 256, S = 256, k = 32, float32 x, fp16 table): the whole layer and its
// steps (MSN_LAYER_STEPS = 1..4 stops the pipeline after that step: projection, query LayerNorms,
// scores, retrieval), median of 20 launches after 3, L2 not flushed (the weights stay in L2 between
// inferences, as in an engine); the products as float32 TFLOP/s.
// Paper's widths with random weights, device buffers for up to nMax queries.
struct PaperLayer {
    static constexpr int d = 768, dk = 256, s = 256, k = 32;
    const int64_t nMax;
    DevBuf wq, bq, ln, kr, kc, vals, x, y, w, ix;
    msn_layer_params p{};
    size_t wsBytes = 0;
    std::unique_ptr<DevBuf> ws;

    explicit PaperLayer(int64_t n)
        : nMax(n), wq((size_t)2 * dk * d * 4), bq(2 * dk * 4), ln(4 * dk * 4), kr((size_t)s * dk * 4),
          kc((size_t)s * dk * 4), vals((size_t)s * s * d * 2), x(n * d * 4), y(n * d * 4), w(n * k * 4),
          ix(n * k * 8) {
        Rng rng(7);
        std::vector<float> hw((size_t)2 * dk * d), hk((size_t)s * dk);
        for (auto& v : hw) v = (float)(rng.normal() / std::sqrt((double)d));
        for (auto& v : hk) v = (float)rng.normal();
        CK(cudaMemcpy(wq.p, hw.data(), hw.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(kr.p, hk.data(), hk.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(kc.p, hk.data(), hk.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemset(bq.p, 0, bq.bytes));
        std::vector<float> ones(4 * dk, 1.0f);   // LayerNorm weights 1, biases 0
        for (int i = dk; i < 2 * dk; ++i) ones[i] = 0.0f;
        for (int i = 3 * dk; i < 4 * dk; ++i) ones[i] = 0.0f;
        CK(cudaMemcpy(ln.p, ones.data(), ln.bytes, cudaMemcpyHostToDevice));
        fillRandomDevice(x.p, (size_t)n * d, 4, 11, [](void* h, size_t i, Rng& r) { static_cast<float*>(h)[i] = (float)r.normal(); });
        fillRandomDevice(vals.p, (size_t)s * s * d, 2, 12, [](void* h, size_t i, Rng& r) {
            static_cast<__half*>(h)[i] = __float2half((float)r.normal());
        });
        const float* L = ln.as<float>();
        p = msn_layer_params{d, dk, s, k, 16, 0, MSN_GATE_TANH, 1e-5f, wq.as<float>(), bq.as<float>(), L, L + dk,
                             L + 2 * dk, L + 3 * dk, kr.as<float>(), kc.as<float>(), vals.p, MSN_FLOAT16};
        wsBytes = msn_layer_workspace_size(&p, n);
        ws.reset(new DevBuf(wsBytes));
    }

    void run(int64_t n) {
        if (msn_layer(&p, n, x.p, MSN_FLOAT32, y.p, w.as<float>(), ix.as<int64_t>(), ws->p, wsBytes, 0) != MSN_OK)
            std::exit(2);
    }
};

// --profile --layer-only: paper's layer at N = 32,768 and 16, three times each, for a profiler
// (ncu -k regex:tf32x3Gemm, scripts/gpu-kernels.sh with MSN_NCU=1).
void layerProfileRun() {
    PaperLayer L(32768);
    for (int i = 0; i < 3; ++i) {
        L.run(32768);
        L.run(16);
    }
    CK(cudaDeviceSynchronize());
    std::printf("MsnLayer profile launches done\n");
}

void layerTiming(FILE* csv) {
    const int d = PaperLayer::d, dk = PaperLayer::dk, s = PaperLayer::s, k = PaperLayer::k;
    const int64_t nMax = 32768;
    PaperLayer L(nMax);
    const size_t wsBytes = L.wsBytes;
    Timer timer;
    std::printf("\nMsnLayer (paper: D=%d, dk=%d, S=%d, k=%d, float32 x, fp16 table), workspace %.1f MB at N=%lld;\n"
                "us per launch by step (cumulative); projection and score products in float32 TFLOP/s\n",
                d, dk, s, k, wsBytes / 1e6, (long long)nMax);
    std::printf("%7s %9s %9s %9s %9s %9s %9s %9s\n", "N", "proj", "+LN", "+scores", "+retr", "whole", "proj_TF",
                "score_TF");
    for (int64_t n : {16, 1024, 8192, 32768}) {
        double us[5];
        for (int step = 1; step <= 5; ++step) {
            char v[2] = {(char)('0' + step), 0};
            if (step < 5) setenv("MSN_LAYER_STEPS", v, 1);
            else unsetenv("MSN_LAYER_STEPS");
            us[step - 1] = 1e3 * timer.median([&](int) {
                L.run(n);
            }, 3, 20, false);
        }
        const double projTf = 2.0 * n * 2 * dk * d / (us[0] * 1e-6) / 1e12;
        const double scoreTf = 2.0 * n * 2 * s * dk / ((us[2] - us[1]) * 1e-6) / 1e12;
        std::printf("%7lld %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", (long long)n, us[0], us[1], us[2], us[3], us[4],
                    projTf, scoreTf);
        if (csv)
            std::fprintf(csv, "msn_layer,n=%lld,proj_us=%.2f,ln_us=%.2f,scores_us=%.2f,retrieval_us=%.2f,whole_us=%.2f\n",
                         (long long)n, us[0], us[1], us[2], us[3], us[4]);
    }
    unsetenv("MSN_LAYER_STEPS");
}

#endif // MSN_LAYER_CASES_CUH
