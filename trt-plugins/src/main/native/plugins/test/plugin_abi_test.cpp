// Loads the built plugin library the way TensorRT does (dlopen + dlsym) and drives every vtable
// slot we rely on through raw slot numbers, as listed in msn_trt_abi.h's comments, not
// through our own class declarations: a method declared in the wrong order, a wrong "kind"
// string, a capability at the wrong offset or a wrong enum value fails here.
//
//   msn_plugin_abi_test LIBRARY [--gpu]
//
// Without --gpu it needs no GPU (CI runs it). With --gpu it also enqueues both plugins on the
// GPU and checks that they produce exactly what the kernels produce when called directly.
// Exit status: 0 pass, 1 a check failed, 2 the library could not be loaded.
#include "../common/msn_trt_abi.h"
#include "../../kernels/msn_kernels.h"
#include "msn_op_table.h"   // generated from core's ops.json: what the creators must agree with

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <cstring>
#include <string>
#include <vector>

using namespace msn::trt;

namespace {

int gChecks = 0, gFailed = 0;
#define CHECK(cond)                                                            \
    do {                                                                       \
        ++gChecks;                                                             \
        if (!(cond)) {                                                         \
            ++gFailed;                                                         \
            std::fprintf(stderr, "CHECK failed at line %d: %s\n", __LINE__, #cond); \
        }                                                                      \
    } while (0)

// ---- raw vtable calls (Itanium ABI: `this` is the first argument) ---------------------------
void* const* vtable(const void* obj) { return *static_cast<void* const* const*>(obj); }

template <class R, class... A> R call(const void* obj, int slot, A... args) {
    using Fn = R (*)(const void*, A...);
    return reinterpret_cast<Fn>(vtable(obj)[slot])(obj, args...);
}

// Slots (see the ABI doc). Every object: 0 getAPILanguage, 1 getInterfaceInfo, 3 deleting dtor.
enum : int { kApiLanguage = 0, kInterfaceInfo = 1, kDeletingDtor = 3 };
enum : int { kCreatorCreate = 4, kCreatorFields = 5, kCreatorName = 6, kCreatorVersion = 7, kCreatorNamespace = 8 };
enum : int { kPluginCapability = 4, kPluginClone = 5 };
enum : int { kCoreName = 4, kCoreVersion = 5, kCoreNamespace = 6 };
enum : int {
    kBuildConfigure = 4, kBuildOutputTypes = 5, kBuildOutputShapes = 6, kBuildSupports = 7, kBuildNbOutputs = 8,
    kBuildWorkspace = 9, kBuildValidTactics = 10, kBuildNbTactics = 11, kBuildTimingCacheId = 12,
    kBuildFormatLimit = 13, kBuildMetadata = 14
};
enum : int { kRtSetTactic = 4, kRtShapeChange = 5, kRtEnqueue = 6, kRtAttach = 7, kRtSerialize = 8 };

bool kindIs(const void* obj, const char* kind) {
    const InterfaceInfo info = call<InterfaceInfo>(obj, kInterfaceInfo);
    return info.kind != nullptr && std::strcmp(info.kind, kind) == 0 && info.major == 1 && info.minor == 0;
}
bool strIs(const char* s, const char* want) { return s != nullptr && std::strcmp(s, want) == 0; }
void destroy(void* obj) { call<void>(obj, kDeletingDtor); }

// ---- a stand-in for TensorRT's IExprBuilder: { vptr, mImpl }, mImpl's slot 2 = constant(int64) --
const void* fakeConstant(const void*, int64_t v) { return reinterpret_cast<const void*>(uintptr_t(0x7000000 + v)); }
void fakeDtor(const void*) {}
void* gImplSlots[5] = {reinterpret_cast<void*>(&fakeDtor), reinterpret_cast<void*>(&fakeDtor),
                       reinterpret_cast<void*>(&fakeConstant), nullptr, nullptr};
void* gBuilderSlots[2] = {reinterpret_cast<void*>(&fakeDtor), reinterpret_cast<void*>(&fakeDtor)};
struct FakeImpl { void** vptr; };
struct FakeBuilder { void** vptr; FakeImpl* impl; };
const DimensionExpr* expr(uintptr_t v) { return reinterpret_cast<const DimensionExpr*>(v); }

Dims64 dims(std::initializer_list<int64_t> d) {
    Dims64 r{};
    r.nbDims = (int32_t)d.size();
    int i = 0;
    for (int64_t v : d) r.d[i++] = v;
    return r;
}
PluginTensorDesc tdesc(Dims64 d, DataType t, int32_t format = 0) {
    PluginTensorDesc r{};
    r.dims = d;
    r.type = t;
    r.format = static_cast<TensorFormat>(format);
    r.scale = 1.0f;
    return r;
}
DynamicPluginTensorDesc ddesc(Dims64 d, DataType t, int32_t format = 0) {
    DynamicPluginTensorDesc r{};
    r.desc = tdesc(d, t, format);
    r.min = d;
    r.max = d;
    r.opt = d;
    return r;
}

// Checks shared by both plugins: kinds, capability offsets, core strings.
void checkCommon(void* plugin, const char* name, void*& core, void*& build, void*& runtime) {
    CHECK(call<int32_t>(plugin, kApiLanguage) == 0);
    CHECK(kindIs(plugin, "PLUGIN"));
    core = call<void*>(plugin, kPluginCapability, PluginCapabilityType::kCORE);
    build = call<void*>(plugin, kPluginCapability, PluginCapabilityType::kBUILD);
    runtime = call<void*>(plugin, kPluginCapability, PluginCapabilityType::kRUNTIME);
    const char* base = static_cast<const char*>(plugin);
    CHECK(static_cast<const char*>(core) == base + 8);
    CHECK(static_cast<const char*>(build) == base + 16);
    CHECK(static_cast<const char*>(runtime) == base + 24);
    CHECK(kindIs(core, "PLUGIN_V3ONE_CORE"));
    CHECK(kindIs(build, "PLUGIN_V3ONE_BUILD"));
    CHECK(kindIs(runtime, "PLUGIN_V3ONE_RUNTIME"));
    CHECK(strIs(call<const char*>(core, kCoreName), name));
    CHECK(strIs(call<const char*>(core, kCoreVersion), "1"));
    CHECK(strIs(call<const char*>(core, kCoreNamespace), ""));
    CHECK(call<int32_t>(runtime, kRtSetTactic, 0) == 0);
    CHECK(call<int32_t>(build, kBuildValidTactics, (int32_t*)nullptr, 0) == 0);
    CHECK(call<int32_t>(build, kBuildNbTactics) == 0);
    CHECK(call<int32_t>(build, kBuildFormatLimit) == 100);
    // clone and attachToContext hand out new objects that TensorRT deletes through slot 3.
    void* c1 = call<void*>(plugin, kPluginClone);
    void* c2 = call<void*>(runtime, kRtAttach, (void*)nullptr);
    CHECK(c1 != nullptr && c1 != plugin && kindIs(c1, "PLUGIN"));
    CHECK(c2 != nullptr && c2 != plugin && kindIs(c2, "PLUGIN"));
    if (c1) destroy(c1);
    if (c2) destroy(c2);
}

bool supports(void* build, int pos, const std::vector<DynamicPluginTensorDesc>& io, int nbIn) {
    return call<bool>(build, kBuildSupports, (int32_t)pos, io.data(), (int32_t)nbIn, (int32_t)(io.size() - nbIn));
}

void* createWithK(void* creator, const void* data, PluginFieldType type, TensorRTPhase phase) {
    PluginField f{"k", data, type, 1};
    PluginFieldCollection fc{data ? 1 : 0, data ? &f : nullptr};
    return call<void*>(creator, kCreatorCreate, "node", (const PluginFieldCollection*)&fc, phase);
}

void testPkm(void* creator) {
    const PluginFieldCollection* names = call<const PluginFieldCollection*>(creator, kCreatorFields);
    CHECK(names != nullptr && names->nbFields == 1 && strIs(names->fields[0].name, "k") &&
          names->fields[0].type == PluginFieldType::kINT32 && names->fields[0].length == 1);
    const int32_t k32 = 32, bad0 = 0, bad65 = 65;
    const int64_t k64 = 16;
    CHECK(createWithK(creator, &bad0, PluginFieldType::kINT32, TensorRTPhase::kBUILD) == nullptr);
    CHECK(createWithK(creator, &bad65, PluginFieldType::kINT32, TensorRTPhase::kBUILD) == nullptr);
    CHECK(createWithK(creator, nullptr, PluginFieldType::kINT32, TensorRTPhase::kBUILD) == nullptr);
    void* p64 = createWithK(creator, &k64, PluginFieldType::kINT64, TensorRTPhase::kBUILD);
    CHECK(p64 != nullptr);
    if (p64) destroy(p64);

    void* plugin = createWithK(creator, &k32, PluginFieldType::kINT32, TensorRTPhase::kBUILD);
    CHECK(plugin != nullptr);
    if (!plugin) return;
    void *core, *build, *runtime;
    checkCommon(plugin, "PKMRetrieval", core, build, runtime);
    CHECK(call<int32_t>(build, kBuildNbOutputs) == 2);
    CHECK(strIs(call<const char*>(build, kBuildTimingCacheId), "k=32"));
    CHECK(strIs(call<const char*>(build, kBuildMetadata), "k=32"));

    DataType out[2] = {DataType::kBOOL, DataType::kBOOL};
    DataType inF[2] = {DataType::kFLOAT, DataType::kFLOAT}, inH[2] = {DataType::kHALF, DataType::kHALF},
             inI[2] = {DataType::kINT32, DataType::kINT32};
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 2, (const DataType*)inF, 2) == 0);
    CHECK(out[0] == DataType::kFLOAT && out[1] == DataType::kINT64);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 2, (const DataType*)inH, 2) == 0);
    CHECK(out[0] == DataType::kHALF && out[1] == DataType::kINT64);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 2, (const DataType*)inI, 2) != 0);

    // getOutputShapes: [N, S] -> [N, k] for both outputs, k through the builder's constant().
    FakeImpl impl{gImplSlots};
    FakeBuilder builder{gBuilderSlots, &impl};
    DimsExprs in[2] = {{2, {expr(0x1000), expr(0x2000)}}, {2, {expr(0x1000), expr(0x2000)}}};
    DimsExprs outs[2] = {};
    CHECK(call<int32_t>(build, kBuildOutputShapes, (const DimsExprs*)in, 2, (const DimsExprs*)nullptr, 0, outs, 2,
                        (void*)&builder) == 0);
    for (int o = 0; o < 2; ++o) {
        CHECK(outs[o].nbDims == 2);
        CHECK(outs[o].d[0] == expr(0x1000));
        CHECK(outs[o].d[1] == expr(0x7000000 + 32));
    }
    DimsExprs in3[2] = {{3, {expr(0x10), expr(0x20), expr(0x30)}}, {3, {expr(0x10), expr(0x20), expr(0x30)}}};
    CHECK(call<int32_t>(build, kBuildOutputShapes, (const DimsExprs*)in3, 2, (const DimsExprs*)nullptr, 0, outs, 2,
                        (void*)&builder) == 0);
    CHECK(outs[1].nbDims == 3 && outs[1].d[1] == expr(0x20) && outs[1].d[2] == expr(0x7000000 + 32));

    std::vector<DynamicPluginTensorDesc> io = {ddesc(dims({-1, 256}), DataType::kFLOAT),
                                               ddesc(dims({-1, 256}), DataType::kFLOAT),
                                               ddesc(dims({-1, 32}), DataType::kFLOAT),
                                               ddesc(dims({-1, 32}), DataType::kINT64)};
    CHECK(supports(build, 0, io, 2) && supports(build, 1, io, 2) && supports(build, 2, io, 2) &&
          supports(build, 3, io, 2));
    io[1].desc.type = DataType::kHALF;
    CHECK(!supports(build, 1, io, 2));
    io[3].desc.type = DataType::kINT32;
    CHECK(!supports(build, 3, io, 2));
    io[0].desc.type = DataType::kINT32;
    CHECK(!supports(build, 0, io, 2));
    io[0] = ddesc(dims({-1, 256}), DataType::kHALF, 1);   // not kLINEAR
    CHECK(!supports(build, 0, io, 2));
    io[0] = ddesc(dims({-1, 256}), DataType::kHALF);
    io[1] = ddesc(dims({-1, 256}), DataType::kHALF);
    io[2] = ddesc(dims({-1, 32}), DataType::kHALF);
    io[3] = ddesc(dims({-1, 32}), DataType::kINT64);
    CHECK(supports(build, 0, io, 2) && supports(build, 1, io, 2) && supports(build, 2, io, 2) &&
          supports(build, 3, io, 2));

    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 2,
                        (const DynamicPluginTensorDesc*)io.data() + 2, 2) == 0);
    // S = 2048 (the xl profile) and 4096 configure; one past MSN_PKM_MAX_S does not
    for (int64_t sOk : {(int64_t)2048, (int64_t)MSN_PKM_MAX_S}) {
        std::vector<DynamicPluginTensorDesc> big = {ddesc(dims({-1, sOk}), DataType::kFLOAT),
                                                    ddesc(dims({-1, sOk}), DataType::kFLOAT), io[2], io[3]};
        CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)big.data(), 2,
                            (const DynamicPluginTensorDesc*)big.data() + 2, 2) == 0);
    }
    std::vector<DynamicPluginTensorDesc> tooBig = {ddesc(dims({-1, MSN_PKM_MAX_S + 1}), DataType::kFLOAT),
                                                   ddesc(dims({-1, MSN_PKM_MAX_S + 1}), DataType::kFLOAT), io[2],
                                                   io[3]};
    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)tooBig.data(), 2,
                        (const DynamicPluginTensorDesc*)tooBig.data() + 2, 2) != 0);
    CHECK(call<size_t>(build, kBuildWorkspace, (const DynamicPluginTensorDesc*)io.data(), 2,
                       (const DynamicPluginTensorDesc*)io.data() + 2, 2) == 0);

    PluginTensorDesc ok[4] = {tdesc(dims({8, 256}), DataType::kFLOAT), tdesc(dims({8, 256}), DataType::kFLOAT),
                              tdesc(dims({8, 32}), DataType::kFLOAT), tdesc(dims({8, 32}), DataType::kINT64)};
    CHECK(call<int32_t>(runtime, kRtShapeChange, (const PluginTensorDesc*)ok, 2, (const PluginTensorDesc*)ok + 2, 2) == 0);
    PluginTensorDesc small[4] = {tdesc(dims({8, 16}), DataType::kFLOAT), tdesc(dims({8, 16}), DataType::kFLOAT), ok[2],
                                 ok[3]};
    CHECK(call<int32_t>(runtime, kRtShapeChange, (const PluginTensorDesc*)small, 2, (const PluginTensorDesc*)small + 2,
                        2) != 0);

    // Serialization round trip: the fields come back through createPlugin(kRUNTIME).
    const PluginFieldCollection* ser = call<const PluginFieldCollection*>(runtime, kRtSerialize);
    CHECK(ser != nullptr && ser->nbFields == 1 && strIs(ser->fields[0].name, "k") &&
          ser->fields[0].type == PluginFieldType::kINT32 && ser->fields[0].length == 1 &&
          *static_cast<const int32_t*>(ser->fields[0].data) == 32);
    void* again = call<void*>(creator, kCreatorCreate, "node", ser, TensorRTPhase::kRUNTIME);
    CHECK(again != nullptr);
    if (again) {
        void* b2 = call<void*>(again, kPluginCapability, PluginCapabilityType::kBUILD);
        CHECK(strIs(call<const char*>(b2, kBuildMetadata), "k=32"));
        destroy(again);
    }
    destroy(plugin);
}

// A quantized table (int8 / fp8 codes) comes with a 4th input, scales float32 [M]; a float table
// never does.
void testGatherQuantized(void* build) {
    DataType out[1] = {DataType::kBOOL};
    DataType q8[4] = {DataType::kINT8, DataType::kINT64, DataType::kFLOAT, DataType::kFLOAT};
    DataType qf8[4] = {DataType::kFP8, DataType::kINT64, DataType::kHALF, DataType::kFLOAT};
    DataType halfScales[4] = {DataType::kINT8, DataType::kINT64, DataType::kFLOAT, DataType::kHALF};
    DataType floatTable[4] = {DataType::kFLOAT, DataType::kINT64, DataType::kFLOAT, DataType::kFLOAT};
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)q8, 4) == 0 && out[0] == DataType::kFLOAT);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)qf8, 4) == 0 && out[0] == DataType::kHALF);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)halfScales, 4) != 0);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)floatTable, 4) != 0);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)q8, 3) != 0);   // no scales

    std::vector<DynamicPluginTensorDesc> io = {ddesc(dims({65536, 768}), DataType::kINT8),
                                               ddesc(dims({-1, 32}), DataType::kINT64),
                                               ddesc(dims({-1, 32}), DataType::kFLOAT),
                                               ddesc(dims({65536}), DataType::kFLOAT),
                                               ddesc(dims({-1, 768}), DataType::kFLOAT)};
    for (int pos = 0; pos < 5; ++pos) CHECK(supports(build, pos, io, 4));
    io[0].desc.type = DataType::kFP8;
    CHECK(supports(build, 0, io, 4));
    io[0].desc.type = DataType::kFLOAT;   // a float table takes no scales
    CHECK(!supports(build, 0, io, 4));
    io[0].desc.type = DataType::kINT8;
    io[3].desc.type = DataType::kHALF;    // scales are float32
    CHECK(!supports(build, 3, io, 4));
    io[3].desc.type = DataType::kFLOAT;
    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 4,
                        (const DynamicPluginTensorDesc*)io.data() + 4, 1) == 0);
    io[3] = ddesc(dims({100}), DataType::kFLOAT);   // scales of the wrong length
    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 4,
                        (const DynamicPluginTensorDesc*)io.data() + 4, 1) != 0);
}

void testGather(void* creator) {
    const PluginFieldCollection* names = call<const PluginFieldCollection*>(creator, kCreatorFields);
    CHECK(names != nullptr && names->nbFields == 0);
    void* plugin = call<void*>(creator, kCreatorCreate, "node", names, TensorRTPhase::kBUILD);
    CHECK(plugin != nullptr);
    if (!plugin) return;
    void *core, *build, *runtime;
    checkCommon(plugin, "SparseGather", core, build, runtime);
    CHECK(call<int32_t>(build, kBuildNbOutputs) == 1);

    DataType out[1] = {DataType::kBOOL};
    DataType a[3] = {DataType::kFLOAT, DataType::kINT64, DataType::kFLOAT};
    DataType b[3] = {DataType::kHALF, DataType::kINT64, DataType::kHALF};
    DataType c[3] = {DataType::kBF16, DataType::kINT64, DataType::kFLOAT};
    DataType bad[3] = {DataType::kINT8, DataType::kINT64, DataType::kFLOAT};
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)a, 3) == 0 && out[0] == DataType::kFLOAT);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)b, 3) == 0 && out[0] == DataType::kHALF);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)c, 3) == 0 && out[0] == DataType::kFLOAT);
    CHECK(call<int32_t>(build, kBuildOutputTypes, out, 1, (const DataType*)bad, 3) != 0);

    FakeImpl impl{gImplSlots};
    FakeBuilder builder{gBuilderSlots, &impl};
    DimsExprs in[3] = {{2, {expr(0x100), expr(0x200)}},   // values [M, D]
                       {2, {expr(0x300), expr(0x400)}},   // indices [N, K]
                       {2, {expr(0x300), expr(0x400)}}};  // weights [N, K]
    DimsExprs outs[1] = {};
    CHECK(call<int32_t>(build, kBuildOutputShapes, (const DimsExprs*)in, 3, (const DimsExprs*)nullptr, 0, outs, 1,
                        (void*)&builder) == 0);
    CHECK(outs[0].nbDims == 2 && outs[0].d[0] == expr(0x300) && outs[0].d[1] == expr(0x200));

    std::vector<DynamicPluginTensorDesc> io = {ddesc(dims({65536, 768}), DataType::kHALF),
                                               ddesc(dims({-1, 32}), DataType::kINT64),
                                               ddesc(dims({-1, 32}), DataType::kFLOAT),
                                               ddesc(dims({-1, 768}), DataType::kFLOAT)};
    for (int pos = 0; pos < 4; ++pos) CHECK(supports(build, pos, io, 3));
    io[0].desc.type = DataType::kBF16;
    CHECK(supports(build, 0, io, 3));
    io[0].desc.type = DataType::kINT8;
    CHECK(!supports(build, 0, io, 3));
    io[1].desc.type = DataType::kINT32;
    CHECK(!supports(build, 1, io, 3));
    io[3].desc.type = DataType::kHALF;   // out must follow the weights (float32 here)
    CHECK(!supports(build, 3, io, 3));
    io[0] = ddesc(dims({65536, 768}), DataType::kFLOAT);
    io[1] = ddesc(dims({-1, 32}), DataType::kINT64);
    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 3,
                        (const DynamicPluginTensorDesc*)io.data() + 3, 1) == 0);
    io[2] = ddesc(dims({-1, 16}), DataType::kFLOAT);   // weights shaped unlike indices
    CHECK(call<int32_t>(build, kBuildConfigure, (const DynamicPluginTensorDesc*)io.data(), 3,
                        (const DynamicPluginTensorDesc*)io.data() + 3, 1) != 0);

    testGatherQuantized(build);

    const PluginFieldCollection* ser = call<const PluginFieldCollection*>(runtime, kRtSerialize);
    CHECK(ser != nullptr && ser->nbFields == 0);
    void* again = call<void*>(creator, kCreatorCreate, "node", ser, TensorRTPhase::kRUNTIME);
    CHECK(again != nullptr);
    if (again) destroy(again);
    destroy(plugin);
}

#include "msn_layer_abi_checks.h"

// ---- the op table: one creator per op, with its name, version, namespace and field names ------
bool fieldTypeFits(PluginFieldType t, const char* attributeType) {
    const std::string a = attributeType ? attributeType : "";
    if (a == "int") return t == PluginFieldType::kINT32 || t == PluginFieldType::kINT64;
    if (a == "float") return t == PluginFieldType::kFLOAT32;
    if (a == "string") return t == PluginFieldType::kCHAR;
    if (a == "ints") return t == PluginFieldType::kINT32 || t == PluginFieldType::kINT64;
    if (a == "floats") return t == PluginFieldType::kFLOAT32;
    return false;
}

void checkAgainstTable(void* const* creators, int32_t count) {
    using msn::op_table::kOps;
    CHECK(count == msn::op_table::kNumOps);
    for (const auto& op : kOps) {
        void* creator = nullptr;
        for (int32_t i = 0; creators && i < count; ++i)
            if (strIs(call<const char*>(creators[i], kCreatorName), op.name)) creator = creators[i];
        if (creator == nullptr) {
            std::fprintf(stderr, "op table: no plugin creator named %s (op id %s)\n", op.name, op.id);
            CHECK(creator != nullptr);
            continue;
        }
        CHECK(strIs(call<const char*>(creator, kCreatorVersion), msn::op_table::kPluginVersion));
        CHECK(strIs(call<const char*>(creator, kCreatorNamespace), msn::op_table::kPluginNamespace));
        const PluginFieldCollection* names = call<const PluginFieldCollection*>(creator, kCreatorFields);
        CHECK(names != nullptr && names->nbFields == op.num_attributes);
        for (int32_t f = 0; names && f < names->nbFields && f < op.num_attributes; ++f) {
            const bool same = strIs(names->fields[f].name, op.attribute_names[f]) &&
                              fieldTypeFits(names->fields[f].type, op.attribute_types[f]);
            if (!same)
                std::fprintf(stderr, "op table: %s field %d is '%s', the table says attribute '%s' (%s)\n", op.name,
                             f, names->fields[f].name ? names->fields[f].name : "(null)", op.attribute_names[f],
                             op.attribute_types[f]);
            CHECK(same);
        }
    }
}

// ---- GPU: enqueue through the plugin == the kernel called directly ---------------------------
#define CUDA_OK(x) CHECK((x) == cudaSuccess)

struct Dev {
    void* p = nullptr;
    explicit Dev(size_t b) { CUDA_OK(cudaMalloc(&p, b)); }
    ~Dev() { cudaFree(p); }
};

std::vector<float> randomFloats(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)((seed >> 8) & 0xFFFF) / 65536.0f * 4.0f - 2.0f;
    }
    return v;
}

void testEnqueue(void* pkmCreator, void* gatherCreator) {
    const int32_t k = 32;
    void* pkm = createWithK(pkmCreator, &k, PluginFieldType::kINT32, TensorRTPhase::kRUNTIME);
    void* gather = call<void*>(gatherCreator, kCreatorCreate, "node", (const PluginFieldCollection*)nullptr,
                               TensorRTPhase::kRUNTIME);
    CHECK(pkm != nullptr && gather != nullptr);
    if (!pkm || !gather) return;
    void* pkmRt = call<void*>(pkm, kPluginCapability, PluginCapabilityType::kRUNTIME);
    void* gatherRt = call<void*>(gather, kPluginCapability, PluginCapabilityType::kRUNTIME);

    // PKMRetrieval on [4, 250, 256] (rank 3: N = 1000 queries).
    const int64_t n = 1000, s = 256;
    const std::vector<float> rows = randomFloats(n * s, 1), cols = randomFloats(n * s, 2);
    Dev dRows(n * s * 4), dCols(n * s * 4), w1(n * k * 4), i1(n * k * 8), w2(n * k * 4), i2(n * k * 8);
    CUDA_OK(cudaMemcpy(dRows.p, rows.data(), n * s * 4, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(dCols.p, cols.data(), n * s * 4, cudaMemcpyHostToDevice));
    PluginTensorDesc in[2] = {tdesc(dims({4, 250, s}), DataType::kFLOAT), tdesc(dims({4, 250, s}), DataType::kFLOAT)};
    PluginTensorDesc outs[2] = {tdesc(dims({4, 250, k}), DataType::kFLOAT), tdesc(dims({4, 250, k}), DataType::kINT64)};
    const void* ins[2] = {dRows.p, dCols.p};
    void* outPtrs[2] = {w1.p, i1.p};
    CHECK(call<int32_t>(pkmRt, kRtShapeChange, (const PluginTensorDesc*)in, 2, (const PluginTensorDesc*)outs, 2) == 0);
    CHECK(call<int32_t>(pkmRt, kRtEnqueue, (const PluginTensorDesc*)in, (const PluginTensorDesc*)outs,
                        (const void* const*)ins, (void* const*)outPtrs, (void*)nullptr, (CudaStream) nullptr) == 0);
    CHECK(msn_pkm_retrieval(dRows.p, dCols.p, MSN_FLOAT32, n, s, k, w2.p, MSN_FLOAT32, i2.p, MSN_INT64, nullptr) ==
          MSN_OK);
    CUDA_OK(cudaDeviceSynchronize());
    std::vector<unsigned char> a(n * k * 12), b(n * k * 12);
    CUDA_OK(cudaMemcpy(a.data(), w1.p, n * k * 4, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(a.data() + n * k * 4, i1.p, n * k * 8, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(b.data(), w2.p, n * k * 4, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(b.data() + n * k * 4, i2.p, n * k * 8, cudaMemcpyDeviceToHost));
    CHECK(a == b);

    // SparseGather: values [5000, 768], indices/weights [1000, 32] (the PKM output above).
    const int64_t m = 5000, d = 768;
    const std::vector<float> values = randomFloats(m * d, 3);
    Dev dValues(m * d * 4), o1(n * d * 4), o2(n * d * 4);
    CUDA_OK(cudaMemcpy(dValues.p, values.data(), m * d * 4, cudaMemcpyHostToDevice));
    std::vector<int64_t> idx(n * k);
    for (int64_t e = 0; e < n * k; ++e) idx[e] = (e * 7919) % m;
    CUDA_OK(cudaMemcpy(i1.p, idx.data(), n * k * 8, cudaMemcpyHostToDevice));
    PluginTensorDesc gin[3] = {tdesc(dims({m, d}), DataType::kFLOAT), tdesc(dims({n, k}), DataType::kINT64),
                               tdesc(dims({n, k}), DataType::kFLOAT)};
    PluginTensorDesc gout[1] = {tdesc(dims({n, d}), DataType::kFLOAT)};
    const void* gins[3] = {dValues.p, i1.p, w1.p};
    void* gouts[1] = {o1.p};
    CHECK(call<int32_t>(gatherRt, kRtShapeChange, (const PluginTensorDesc*)gin, 3, (const PluginTensorDesc*)gout, 1) == 0);
    CHECK(call<int32_t>(gatherRt, kRtEnqueue, (const PluginTensorDesc*)gin, (const PluginTensorDesc*)gout,
                        (const void* const*)gins, (void* const*)gouts, (void*)nullptr, (CudaStream) nullptr) == 0);
    CHECK(msn_sparse_gather(dValues.p, MSN_FLOAT32, m, d, i1.p, MSN_INT64, w1.p, MSN_FLOAT32, n, k, o2.p, MSN_FLOAT32,
                            nullptr, nullptr) == MSN_OK);
    CUDA_OK(cudaDeviceSynchronize());
    std::vector<float> r1(n * d), r2(n * d);
    CUDA_OK(cudaMemcpy(r1.data(), o1.p, n * d * 4, cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(r2.data(), o2.p, n * d * 4, cudaMemcpyDeviceToHost));
    CHECK(std::memcmp(r1.data(), r2.data(), n * d * 4) == 0);
    bool finite = true;
    for (float v : r1) finite &= std::isfinite(v);
    CHECK(finite);
    destroy(pkm);
    destroy(gather);
}

void checkExports(const char* lib) {
    const std::string cmd = std::string("nm -D --defined-only '") + lib + "' 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return;
    char line[512];
    std::vector<std::string> names;
    while (std::fgets(line, sizeof(line), p)) {
        std::string s(line);
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        const size_t sp = s.rfind(' ');
        const std::string type = s.size() > 2 && sp != std::string::npos ? s.substr(s.find(' ') + 1, 1) : "";
        if (type == "A") continue;   // version node
        names.push_back(sp == std::string::npos ? s : s.substr(sp + 1));
    }
    if (pclose(p) != 0 || names.empty()) {
        std::printf("(nm not available: exported-symbol check skipped)\n");
        return;
    }
    std::sort(names.begin(), names.end());
    const bool exact = names == std::vector<std::string>{"getCreators", "setLoggerFinder"};
    if (!exact) {
        std::fprintf(stderr, "exported symbols:");
        for (const auto& n : names) std::fprintf(stderr, " %s", n.c_str());
        std::fprintf(stderr, "\n");
    }
    CHECK(exact);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s LIBRARY [--gpu]\n", argv[0]);
        return 2;
    }
    const bool gpu = argc > 2 && std::strcmp(argv[2], "--gpu") == 0;
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen failed: %s\n", dlerror());
        return 2;
    }
    using GetCreators = void* const* (*)(int32_t&);
    using SetLoggerFinder = void (*)(void*);
    auto getCreators = reinterpret_cast<GetCreators>(dlsym(lib, "getCreators"));
    auto setLoggerFinder = reinterpret_cast<SetLoggerFinder>(dlsym(lib, "setLoggerFinder"));
    CHECK(getCreators != nullptr && setLoggerFinder != nullptr);
    if (!getCreators || !setLoggerFinder) return 1;
    checkExports(argv[1]);
    setLoggerFinder(nullptr);
    std::printf("(deliberately bad attributes and shapes follow: the plugins' error lines on stderr are expected)\n");
    std::fflush(stdout);

    int32_t count = -1;
    void* const* creators = getCreators(count);
    CHECK(count == 3 && creators != nullptr);
    void* pkm = nullptr;
    void* gather = nullptr;
    void* layer = nullptr;
    for (int32_t i = 0; creators && i < count; ++i) {
        void* c = creators[i];
        CHECK(call<int32_t>(c, kApiLanguage) == 0);
        CHECK(kindIs(c, "PLUGIN CREATOR_V3ONE"));
        CHECK(strIs(call<const char*>(c, kCreatorVersion), "1"));
        CHECK(strIs(call<const char*>(c, kCreatorNamespace), ""));
        const char* name = call<const char*>(c, kCreatorName);
        if (strIs(name, msn::op_table::PkmRetrieval::kName)) pkm = c;
        if (strIs(name, msn::op_table::SparseGather::kName)) gather = c;
        if (strIs(name, msn::op_table::MsnLayer::kName)) layer = c;
    }
    CHECK(pkm != nullptr && gather != nullptr && layer != nullptr);
    checkAgainstTable(creators, count);
    int32_t again = -1;
    CHECK(getCreators(again) == creators && again == msn::op_table::kNumOps);   // same objects every time
    if (pkm) testPkm(pkm);
    if (gather) testGather(gather);
    if (layer) testMsnLayer(layer);
    if (gpu && pkm && gather) testEnqueue(pkm, gather);
    std::printf("plugin ABI test: %d checks, %d failed%s\n", gChecks, gFailed, gpu ? " (with GPU enqueue)" : "");
    return gFailed == 0 ? 0 : 1;
}
