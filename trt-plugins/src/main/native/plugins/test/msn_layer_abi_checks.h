// MsnLayer checks of plugin_abi_test.cpp (included there, inside its anonymous namespace, after the
// helpers call/CHECK/ddesc/tdesc/dims/checkCommon/supports): fields, types, shapes, serialization.
#ifndef MSN_LAYER_ABI_CHECKS_H
#define MSN_LAYER_ABI_CHECKS_H

struct LayerFields {
    int32_t k = 4, tokens = 4, perToken = 0;
    float eps = 1e-5f;
    const char* gate = "tanh";
    PluginField f[5];
    PluginFieldCollection fc{5, f};
    const PluginFieldCollection* get() {
        f[0] = PluginField{"k", &k, PluginFieldType::kINT32, 1};
        f[1] = PluginField{"gate", gate, PluginFieldType::kCHAR, (int32_t)std::strlen(gate)};
        f[2] = PluginField{"epsilon", &eps, PluginFieldType::kFLOAT32, 1};
        f[3] = PluginField{"tokens", &tokens, PluginFieldType::kINT32, 1};
        f[4] = PluginField{"per_token", &perToken, PluginFieldType::kINT32, 1};
        return &fc;
    }
};

void* createLayer(void* creator, LayerFields& f, TensorRTPhase phase = TensorRTPhase::kBUILD) {
    return call<void*>(creator, kCreatorCreate, "node", f.get(), phase);
}

// x [N, 16], Wq [16, 16], bq [16], LN [8] x4, K [8, 8] x2, values [64 * tokens, 16]; y, w, i.
std::vector<DynamicPluginTensorDesc> layerIo(int64_t valueRows, DataType x = DataType::kFLOAT) {
    std::vector<DynamicPluginTensorDesc> io = {ddesc(dims({-1, 16}), x), ddesc(dims({16, 16}), DataType::kFLOAT),
                                               ddesc(dims({16}), DataType::kFLOAT)};
    for (int i = 0; i < 4; ++i) io.push_back(ddesc(dims({8}), DataType::kFLOAT));
    io.push_back(ddesc(dims({8, 8}), DataType::kFLOAT));
    io.push_back(ddesc(dims({8, 8}), DataType::kFLOAT));
    io.push_back(ddesc(dims({valueRows, 16}), DataType::kHALF));
    io.push_back(ddesc(dims({-1, 16}), x));
    io.push_back(ddesc(dims({-1, 4}), DataType::kFLOAT));
    io.push_back(ddesc(dims({-1, 4}), DataType::kINT64));
    return io;
}

int32_t configureLayer(void* build, const std::vector<DynamicPluginTensorDesc>& io) {
    return call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 10,
                         (const DynamicPluginTensorDesc*)io.data() + 10, 3);
}

void testMsnLayer(void* creator) {
    const PluginFieldCollection* names = call<const PluginFieldCollection*>(creator, kCreatorFields);
    CHECK(names != nullptr && names->nbFields == 5 && strIs(names->fields[0].name, "k") &&
          strIs(names->fields[1].name, "gate") && names->fields[1].type == PluginFieldType::kCHAR &&
          strIs(names->fields[2].name, "epsilon") && strIs(names->fields[3].name, "tokens") &&
          strIs(names->fields[4].name, "per_token"));
    {
        LayerFields bad;
        bad.gate = "relu";
        CHECK(createLayer(creator, bad) == nullptr);
        bad.gate = "tanh";
        bad.k = 65;
        CHECK(createLayer(creator, bad) == nullptr);
        bad.k = 4;
        bad.tokens = 0;
        CHECK(createLayer(creator, bad) == nullptr);
        bad.tokens = 4;
        bad.perToken = 2;
        CHECK(createLayer(creator, bad) == nullptr);
        CHECK(call<void*>(creator, kCreatorCreate, "node", (const PluginFieldCollection*)nullptr,
                          TensorRTPhase::kBUILD) == nullptr);
    }
    LayerFields fields;
    fields.gate = "sigmoid";
    fields.perToken = 1;
    void* plugin = createLayer(creator, fields);
    CHECK(plugin != nullptr);
    if (!plugin) return;
    void *core, *build, *runtime;
    checkCommon(plugin, "MsnLayer", core, build, runtime);
    CHECK(call<int32_t>(build, kBuildNbOutputs) == 3);
    CHECK(strIs(call<const char*>(build, kBuildMetadata), "k=4 gate=sigmoid eps=1e-05 tokens=4 per_token=1"));

    DataType out[3] = {DataType::kBOOL, DataType::kBOOL, DataType::kBOOL};
    DataType in[10];
    for (auto& t : in) t = DataType::kFLOAT;
    in[0] = DataType::kHALF;
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 3, (const DataType*)in, 10) == 0);
    CHECK(out[0] == DataType::kHALF && out[1] == DataType::kFLOAT && out[2] == DataType::kINT64);
    in[0] = DataType::kINT32;
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 3, (const DataType*)in, 10) != 0);

    FakeImpl impl{gImplSlots};
    FakeBuilder builder{gBuilderSlots, &impl};
    DimsExprs shapes[10] = {};
    shapes[0] = {2, {expr(0x1000), expr(0x2000)}};
    DimsExprs outs[3] = {};
    CHECK(call<int32_t>(build, kBuildOutputShapes, (const DimsExprs*)shapes, 10, (const DimsExprs*)nullptr, 0, outs,
                        3, (void*)&builder) == 0);
    CHECK(outs[0].nbDims == 2 && outs[0].d[0] == expr(0x1000) && outs[0].d[1] == expr(0x2000));
    CHECK(outs[1].nbDims == 2 && outs[1].d[1] == expr(0x7000000 + 4) && outs[2].d[0] == expr(0x1000));

    std::vector<DynamicPluginTensorDesc> io = layerIo(4 * 64);
    for (int pos = 0; pos < 13; ++pos) CHECK(supports(build, pos, io, 10));
    io[9].desc.type = DataType::kBF16;
    CHECK(supports(build, 9, io, 10));
    io[1].desc.type = DataType::kHALF;   // parameters are float32
    CHECK(!supports(build, 1, io, 10));
    io[10].desc.type = DataType::kHALF;  // y follows x (float32 here)
    CHECK(!supports(build, 10, io, 10));
    io[12].desc.type = DataType::kINT32;
    CHECK(!supports(build, 12, io, 10));

    CHECK(configureLayer(build, layerIo(4 * 64)) == 0);
    CHECK(configureLayer(build, layerIo(64)) != 0);   // per_token: values must have T*S*S rows
    std::vector<DynamicPluginTensorDesc> wrongDk = layerIo(4 * 64);
    wrongDk[7] = ddesc(dims({8, 4}), DataType::kFLOAT);
    CHECK(configureLayer(build, wrongDk) != 0);
    std::vector<DynamicPluginTensorDesc> kOverS = layerIo(4 * 4);
    kOverS[7] = ddesc(dims({2, 8}), DataType::kFLOAT);
    kOverS[8] = ddesc(dims({2, 8}), DataType::kFLOAT);
    CHECK(configureLayer(build, kOverS) != 0);   // k = 4 > S = 2
    // S up to MSN_PKM_MAX_S (4096, tiled stage 1) configures, one more does not
    for (int64_t s : {(int64_t)MSN_PKM_MAX_S, (int64_t)MSN_PKM_MAX_S + 1}) {
        std::vector<DynamicPluginTensorDesc> big = layerIo(4 * s * s);
        big[7] = ddesc(dims({s, 8}), DataType::kFLOAT);
        big[8] = ddesc(dims({s, 8}), DataType::kFLOAT);
        CHECK((configureLayer(build, big) == 0) == (s <= MSN_PKM_MAX_S));
    }

    // The workspace: the kernel pipeline's intermediate tensors for the profile's largest N (max dims).
    std::vector<DynamicPluginTensorDesc> ws = layerIo(4 * 64);
    ws[0].max = dims({1000, 16});
    msn_layer_params lp{};
    lp.d = 16, lp.dk = 8, lp.s = 8, lp.k = 4, lp.tokens = 4, lp.per_token = 1, lp.gate = MSN_GATE_SIGMOID;
    lp.epsilon = 1e-5f, lp.value_type = MSN_FLOAT16;
    const size_t want = msn_layer_workspace_size(&lp, 1000);
    CHECK(want >= (size_t)1000 * (16 + 16 + 16) * 4);   // at least q, scores and v of 1000 queries
    CHECK(call<size_t>(build, kBuildWorkspace, (const DynamicPluginTensorDesc*)ws.data(), 10,
                       (const DynamicPluginTensorDesc*)ws.data() + 10, 3) == want);

    // msn_layer_workspace_size at paper's widths: every N up to the one asked fits (smaller N split
    // the projection over more slices of D), at least q, scores and v per query; msn_layer refuses a
    // short or missing workspace before it launches anything (so no GPU is needed here).
    msn_layer_params pp = lp;
    pp.d = 768, pp.dk = 256, pp.s = 256, pp.k = 32, pp.tokens = 16, pp.per_token = 0;
    size_t prev = 0;
    for (int64_t n : {1, 4, 16, 64, 1000, 4096, 16896, 32768}) {
        const size_t b = msn_layer_workspace_size(&pp, n);
        CHECK(b >= prev && b >= (size_t)n * (2 * 256 + 2 * 256 + 768) * 4);
        prev = b;
    }
    CHECK(msn_layer_workspace_size(&pp, 0) == 0);
    pp.per_token = 1;   // plus the slots with their table offsets
    CHECK(msn_layer_workspace_size(&pp, 32768) >= prev + (size_t)32768 * 32 * 8);
    pp.per_token = 0;
    alignas(16) static float dummy[16];
    pp.wq = pp.bq = pp.ln_row_w = pp.ln_row_b = pp.ln_col_w = pp.ln_col_b = pp.k_row = pp.k_col = dummy;
    pp.values = dummy;
    const size_t need = msn_layer_workspace_size(&pp, 8);
    int64_t slots[1];
    CHECK(msn_layer(&pp, 8, dummy, MSN_FLOAT32, dummy, dummy, slots, dummy, need / 2, nullptr) ==
          MSN_ERR_INVALID_ARGUMENT);
    CHECK(msn_layer(&pp, 8, dummy, MSN_FLOAT32, dummy, dummy, slots, nullptr, need, nullptr) ==
          MSN_ERR_INVALID_ARGUMENT);

    const PluginFieldCollection* ser = call<const PluginFieldCollection*>(runtime, kRtSerialize);
    CHECK(ser != nullptr && ser->nbFields == 5 && ser->fields[1].type == PluginFieldType::kCHAR &&
          ser->fields[1].length == 7 && std::strncmp(static_cast<const char*>(ser->fields[1].data), "sigmoid", 7) == 0);
    void* again = call<void*>(creator, kCreatorCreate, "node", ser, TensorRTPhase::kRUNTIME);
    CHECK(again != nullptr);
    if (again) {
        void* b2 = call<void*>(again, kPluginCapability, PluginCapabilityType::kBUILD);
        CHECK(strIs(call<const char*>(b2, kBuildMetadata), "k=4 gate=sigmoid eps=1e-05 tokens=4 per_token=1"));
        destroy(again);
    }
    destroy(plugin);
}

#endif // MSN_LAYER_ABI_CHECKS_H
