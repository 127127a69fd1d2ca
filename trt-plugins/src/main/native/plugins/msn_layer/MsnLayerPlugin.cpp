#include "MsnLayerPlugin.h"

#include "../common/plugin_common.h"

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <new>

namespace msn {
namespace trt {

namespace {
using Spec = MsnLayerPlugin::Spec;
constexpr const char* kFieldK = Spec::kAttrK;
constexpr const char* kFieldGate = Spec::kAttrGate;
constexpr const char* kFieldEpsilon = Spec::kAttrEpsilon;
constexpr const char* kFieldTokens = Spec::kAttrTokens;
constexpr const char* kFieldPerToken = Spec::kAttrPerToken;
// In the table's attribute order (plugin_abi_test's checkAgainstTable compares them one by one).
const PluginField kFieldNames[] = {{kFieldK, nullptr, PluginFieldType::kINT32, 1},
                                   {kFieldGate, nullptr, PluginFieldType::kCHAR, 0},
                                   {kFieldEpsilon, nullptr, PluginFieldType::kFLOAT32, 1},
                                   {kFieldTokens, nullptr, PluginFieldType::kINT32, 1},
                                   {kFieldPerToken, nullptr, PluginFieldType::kINT32, 1}};
static_assert(sizeof(kFieldNames) / sizeof(kFieldNames[0]) == Spec::kNumAttributes,
              "one plugin field per attribute of the op table");

const char* gateName(int32_t gate) {
    switch (gate) {
    case MSN_GATE_SIGMOID: return "sigmoid";
    case MSN_GATE_IDENTITY: return "identity";
    default: return "tanh";
    }
}

// The gate attribute: kCHAR of `length` characters (not necessarily NUL-terminated). Absent: false.
bool findGate(const PluginFieldCollection* fc, int32_t& gate, bool& known) {
    for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i) {
        const PluginField& f = fc->fields[i];
        if (f.name == nullptr || std::strcmp(f.name, kFieldGate) != 0 || f.data == nullptr) continue;
        if (f.type != PluginFieldType::kCHAR) return known = false, true;
        const char* s = static_cast<const char*>(f.data);
        size_t len = (size_t)(f.length > 0 ? f.length : 0);
        while (len > 0 && s[len - 1] == '\0') --len;
        known = true;
        for (int32_t g : {MSN_GATE_TANH, MSN_GATE_SIGMOID, MSN_GATE_IDENTITY}) {
            if (std::strlen(gateName(g)) == len && std::strncmp(s, gateName(g), len) == 0) {
                gate = g;
                return true;
            }
        }
        known = false;
        return true;
    }
    return false;
}

// Unknown (-1) extents pass; b: expected, or -1 for "anything".
bool dimIs(int64_t a, int64_t b) { return a < 0 || b < 0 || a == b; }
} // namespace

MsnLayerPlugin::MsnLayerPlugin(const MsnLayerAttrs& attrs) noexcept
    : mAttrs(attrs),
      mField{{kFieldK, &mAttrs.k, PluginFieldType::kINT32, 1},
             {kFieldGate, mGateName, PluginFieldType::kCHAR, 0},
             {kFieldEpsilon, &mAttrs.epsilon, PluginFieldType::kFLOAT32, 1},
             {kFieldTokens, &mAttrs.tokens, PluginFieldType::kINT32, 1},
             {kFieldPerToken, &mAttrs.perToken, PluginFieldType::kINT32, 1}},
      mFields{Spec::kNumAttributes, mField} {
    std::snprintf(mGateName, sizeof(mGateName), "%s", gateName(mAttrs.gate));
    mField[1].length = (int32_t)std::strlen(mGateName);
    std::snprintf(mMetadata, sizeof(mMetadata), "k=%d gate=%s eps=%g tokens=%d per_token=%d", (int)mAttrs.k,
                  mGateName, (double)mAttrs.epsilon, (int)mAttrs.tokens, (int)mAttrs.perToken);
}

MsnLayerPlugin::MsnLayerPlugin(const MsnLayerPlugin& other) noexcept : MsnLayerPlugin(other.mAttrs) {}

// x [N, D], Wq [2dk, D], bq [2dk], LN [dk] x4, K_row/K_col [S, dk], values [M, D]; k <= S <= MSN_PKM_MAX_S (4096).
bool MsnLayerPlugin::checkShapes(const Dims64* in) const noexcept {
    for (int i = 0; i < kNbInputs; ++i) {
        const int rank = (i >= 2 && i <= 6) ? 1 : 2;
        if (in[i].nbDims != rank) return false;
    }
    const int64_t d = in[0].d[1], twoDk = in[1].d[0], s = in[7].d[0];
    if (!dimIs(in[1].d[1], d) || (twoDk >= 0 && twoDk % 2 != 0) || !dimIs(in[2].d[0], twoDk)) return false;
    const int64_t dk = twoDk < 0 ? -1 : twoDk / 2;
    for (int i = 3; i <= 6; ++i)
        if (!dimIs(in[i].d[0], dk)) return false;
    if (!dimIs(in[7].d[1], dk) || !dimIs(in[8].d[0], s) || !dimIs(in[8].d[1], dk)) return false;
    if (s >= 0 && (s < mAttrs.k || s > MSN_PKM_MAX_S)) return false;
    const int64_t m = s < 0 ? -1 : s * s * (mAttrs.perToken ? mAttrs.tokens : 1);
    return dimIs(in[9].d[0], m) && dimIs(in[9].d[1], d);
}

static_assert(MSN_PKM_MAX_S == 4096, "the messages below name the bound");

int32_t MsnLayerPlugin::configure(const DynamicPluginTensorDesc* in, const DynamicPluginTensorDesc*) noexcept {
    Dims64 dims[kNbInputs];
    for (int i = 0; i < kNbInputs; ++i) dims[i] = in[i].desc.dims;
    if (!checkShapes(dims)) {
        reportError(kName, "expected x [N, D], Wq [2dk, D], bq [2dk], LN weights/biases [dk], K_row/K_col [S, dk] with "
                           "k <= S <= 4096, values [S*S (times tokens with per_token), D]");
        return -1;
    }
    return 0;
}

int32_t MsnLayerPlugin::outputTypes(DataType* outTypes, const DataType* inTypes) const noexcept {
    if (!isFloatOrHalf(inTypes[0])) {
        reportError(kName, "x must be float32 or float16");
        return -1;
    }
    outTypes[0] = inTypes[0];        // y: the type of x
    outTypes[1] = DataType::kFLOAT;  // weights
    outTypes[2] = DataType::kINT64;  // indices: slots i*S + j
    return 0;
}

// y: x's shape; weights and indices: [N, k].
int32_t MsnLayerPlugin::outputShapes(const DimsExprs* inputs, DimsExprs* outputs, ExprBuilder& exprBuilder) noexcept {
    if (inputs[0].nbDims != 2) return -1;
    const DimensionExpr* k = exprBuilder.constant(mAttrs.k);
    if (k == nullptr) return -1;
    outputs[0] = inputs[0];
    for (int32_t o = 1; o < kNbOutputs; ++o) {
        outputs[o] = inputs[0];
        outputs[o].d[1] = k;
    }
    return 0;
}

// Formats and positions are checked by PluginGlue; the types:
bool MsnLayerPlugin::supportsType(int32_t pos, const DynamicPluginTensorDesc* inOut) const noexcept {
    const DataType t = inOut[pos].desc.type;
    if (pos == 0) return isFloatOrHalf(t);
    if (pos < 9) return t == DataType::kFLOAT;
    if (pos == 9) return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16;
    if (pos == kNbInputs) return t == inOut[0].desc.type;   // y
    if (pos == kNbInputs + 1) return t == DataType::kFLOAT;  // weights
    return t == DataType::kINT64;                            // indices
}

int32_t MsnLayerPlugin::shapeChange(const PluginTensorDesc* in, const PluginTensorDesc*) noexcept {
    Dims64 dims[kNbInputs];
    for (int i = 0; i < kNbInputs; ++i) dims[i] = in[i].dims;
    if (!checkShapes(dims) || in[7].dims.d[0] < 0) {
        reportError(kName, "input shapes do not fit MsnLayer (see configure) at run time");
        return -1;
    }
    return 0;
}

msn_layer_params MsnLayerPlugin::params(const Dims64& x, const Dims64& wq, const Dims64& keys) const noexcept {
    msn_layer_params p{};
    p.d = x.d[1];
    p.dk = (int32_t)(wq.d[0] / 2);
    p.s = (int32_t)keys.d[0];
    p.k = mAttrs.k;
    p.tokens = mAttrs.tokens;
    p.per_token = mAttrs.perToken;
    p.gate = (msn_gate)mAttrs.gate;
    p.epsilon = mAttrs.epsilon;
    p.value_type = MSN_FLOAT32;
    return p;
}

// The pipeline's intermediate tensors (kernels/msn_layer.cu) for the profile's largest N.
size_t MsnLayerPlugin::getWorkspaceSize(const DynamicPluginTensorDesc* in, int32_t nbInputs,
                                        const DynamicPluginTensorDesc*, int32_t) const noexcept {
    if (in == nullptr || nbInputs != kNbInputs) return 0;
    const msn_layer_params p = params(in[0].max, in[1].max, in[7].max);
    return msn_layer_workspace_size(&p, in[0].max.d[0]);
}

int32_t MsnLayerPlugin::launch(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc,
                               const void* const* inputs, void* const* outputs, void* workspace,
                               CudaStream stream) noexcept {
    msn_layer_params p = params(inputDesc[0].dims, inputDesc[1].dims, inputDesc[7].dims);
    const float* f[9] = {};
    for (int i = 1; i < 9; ++i) f[i] = static_cast<const float*>(inputs[i]);
    p.wq = f[1];
    p.bq = f[2];
    p.ln_row_w = f[3];
    p.ln_row_b = f[4];
    p.ln_col_w = f[5];
    p.ln_col_b = f[6];
    p.k_row = f[7];
    p.k_col = f[8];
    p.values = inputs[9];
    msn_dtype xType, outType;
    const int64_t n = inputDesc[0].dims.d[0];
    if (n < 0 || !toKernelType(inputDesc[0].type, xType) || !toKernelType(inputDesc[9].type, p.value_type) ||
        !toKernelType(outputDesc[0].type, outType) || outType != xType) {
        reportError(kName, "unsupported shape or type at enqueue");
        return -1;
    }
    // TensorRT gives at least what getWorkspaceSize asked for the profile's largest N
    const size_t workspaceBytes = msn_layer_workspace_size(&p, n);
    const int status = msn_layer(&p, n, inputs[0], xType, outputs[0], static_cast<float*>(outputs[1]),
                                 static_cast<int64_t*>(outputs[2]), workspace, workspaceBytes, stream);
    if (status != MSN_OK) {
        reportError(kName, msn_status_string(status));
        return -1;
    }
    return 0;
}

MsnLayerCreator::MsnLayerCreator() noexcept : CreatorGlue(kFieldNames, Spec::kNumAttributes) {}

PluginV3* MsnLayerCreator::createPlugin(const char*, const PluginFieldCollection* fc, TensorRTPhase) noexcept {
    const char* name = MsnLayerPlugin::kName;
    MsnLayerAttrs a;
    int64_t k = 0, tokens = 0, perToken = 0;
    if (!findIntField(fc, kFieldK, k) || k < 1 || k > MSN_PKM_MAX_K) {
        reportError(name, "attribute k (int) is missing or not in [1, 64]");
        return nullptr;
    }
    if (!findIntField(fc, kFieldTokens, tokens) || tokens < 1 || tokens > (1 << 30)) {
        reportError(name, "attribute tokens (int) is missing or not >= 1");
        return nullptr;
    }
    if (findIntField(fc, kFieldPerToken, perToken) && perToken != 0 && perToken != 1) {
        reportError(name, "attribute per_token must be 0 or 1");
        return nullptr;
    }
    bool known = false;
    if (!findGate(fc, a.gate, known) || !known) {
        reportError(name, "attribute gate (string) is missing or not one of tanh, sigmoid, identity");
        return nullptr;
    }
    if (findFloatField(fc, kFieldEpsilon, a.epsilon) && !(a.epsilon > 0.0f)) {
        reportError(name, "attribute epsilon must be > 0");
        return nullptr;
    }
    a.k = (int32_t)k;
    a.tokens = (int32_t)tokens;
    a.perToken = (int32_t)perToken;
    return new (std::nothrow) MsnLayerPlugin(a);
}

} // namespace trt
} // namespace msn
