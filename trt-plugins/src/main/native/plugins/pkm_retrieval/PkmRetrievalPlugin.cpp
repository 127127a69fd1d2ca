#include "PkmRetrievalPlugin.h"

#include "../common/plugin_common.h"

#include <cstdio>
#include <new>

namespace msn {
namespace trt {

namespace {
constexpr const char* kFieldK = PkmRetrievalPlugin::Spec::kAttrK;
const PluginField kFieldNames[] = {{kFieldK, nullptr, PluginFieldType::kINT32, 1}};
static_assert(sizeof(kFieldNames) / sizeof(kFieldNames[0]) == PkmRetrievalPlugin::Spec::kNumAttributes,
              "one plugin field per attribute of the op table");
} // namespace

PkmRetrievalPlugin::PkmRetrievalPlugin(int32_t k) noexcept
    : mK(k), mField{kFieldK, &mK, PluginFieldType::kINT32, 1}, mFields{1, &mField} {
    std::snprintf(mMetadata, sizeof(mMetadata), "k=%d", (int)mK);
}

PkmRetrievalPlugin::PkmRetrievalPlugin(const PkmRetrievalPlugin& other) noexcept
    : PkmRetrievalPlugin(other.mK) {}

// Both score tensors have the same shape [..., S] with 1 <= k <= S <= MSN_PKM_MAX_S.
bool PkmRetrievalPlugin::checkShapes(const Dims64& rows, const Dims64& cols) const noexcept {
    if (rows.nbDims < 1 || rows.nbDims > kMaxDims || rows.nbDims != cols.nbDims) return false;
    for (int i = 0; i < rows.nbDims; ++i)
        if (rows.d[i] != cols.d[i]) return false;
    const int64_t s = rows.d[rows.nbDims - 1];
    return s < 0 || (s >= mK && s <= MSN_PKM_MAX_S);   // negative: not known yet
}

int32_t PkmRetrievalPlugin::configure(const DynamicPluginTensorDesc* in, const DynamicPluginTensorDesc*) noexcept {
    if (!checkShapes(in[0].desc.dims, in[1].desc.dims)) {
        reportError(kName, "row_scores and col_scores must have the same shape [..., S], k <= S <= 4096");
        return -1;
    }
    const Dims64& maxDims = in[0].max;
    if (maxDims.nbDims >= 1 && maxDims.nbDims == in[0].desc.dims.nbDims &&
        maxDims.d[maxDims.nbDims - 1] > MSN_PKM_MAX_S) {
        reportError(kName, "S may exceed 4096 in this optimization profile");
        return -1;
    }
    return 0;
}

int32_t PkmRetrievalPlugin::outputTypes(DataType* outTypes, const DataType* inTypes) const noexcept {
    if (!isFloatOrHalf(inTypes[0])) {
        reportError(kName, "scores must be float32 or float16");
        return -1;
    }
    outTypes[0] = inTypes[0];        // weights: the scores' type
    outTypes[1] = DataType::kINT64;  // indices: slots i*S + j
    return 0;
}

// [..., S] -> [..., k] for both outputs. k is a constant, so it needs the builder.
int32_t PkmRetrievalPlugin::outputShapes(const DimsExprs* inputs, DimsExprs* outputs,
                                         ExprBuilder& exprBuilder) noexcept {
    const int32_t rank = inputs[0].nbDims;
    if (rank < 1 || rank > kMaxDims || inputs[1].nbDims != rank) return -1;
    const DimensionExpr* k = exprBuilder.constant(mK);
    if (k == nullptr) return -1;
    for (int32_t o = 0; o < kNbOutputs; ++o) {
        outputs[o] = inputs[0];
        outputs[o].d[rank - 1] = k;
    }
    return 0;
}

// Formats and positions are checked by PluginGlue; the types:
bool PkmRetrievalPlugin::supportsType(int32_t pos, const DynamicPluginTensorDesc* inOut) const noexcept {
    const DataType t = inOut[pos].desc.type;
    switch (pos) {
    case 0: return isFloatOrHalf(t);
    case 1:                                   // col_scores, like row_scores
    case 2: return t == inOut[0].desc.type;   // weights, in the scores' type
    default: return t == DataType::kINT64;    // indices
    }
}

int32_t PkmRetrievalPlugin::shapeChange(const PluginTensorDesc* in, const PluginTensorDesc*) noexcept {
    if (!checkShapes(in[0].dims, in[1].dims) || in[0].dims.d[in[0].dims.nbDims - 1] < 0) {
        reportError(kName, "row_scores and col_scores must have the same shape [..., S], k <= S <= 4096");
        return -1;
    }
    return 0;
}

int32_t PkmRetrievalPlugin::launch(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc,
                                   const void* const* inputs, void* const* outputs, void*, CudaStream stream) noexcept {
    const Dims64& dims = inputDesc[0].dims;
    if (dims.nbDims < 1 || dims.nbDims > kMaxDims) return -1;
    const int64_t s = dims.d[dims.nbDims - 1];
    const int64_t n = volume(dims, 0, dims.nbDims - 1);
    msn_dtype scoreType, weightType, indexType;
    if (n < 0 || s < 1 || s > MSN_PKM_MAX_S || !toKernelType(inputDesc[0].type, scoreType) ||
        !toKernelType(outputDesc[0].type, weightType) || !toKernelType(outputDesc[1].type, indexType)) {
        reportError(kName, "unsupported shape or type at enqueue");
        return -1;
    }
    const int status = msn_pkm_retrieval(inputs[0], inputs[1], scoreType, n, (int32_t)s, mK, outputs[0], weightType,
                                         outputs[1], indexType, stream);
    if (status != MSN_OK) {
        reportError(kName, msn_status_string(status));
        return -1;
    }
    return 0;
}

PkmRetrievalCreator::PkmRetrievalCreator() noexcept
    : CreatorGlue(kFieldNames, PkmRetrievalPlugin::Spec::kNumAttributes) {}

PluginV3* PkmRetrievalCreator::createPlugin(const char*, const PluginFieldCollection* fc, TensorRTPhase) noexcept {
    int64_t k = 0;
    if (!findIntField(fc, kFieldK, k)) {
        reportError(PkmRetrievalPlugin::kName, "attribute k (int) is missing");
        return nullptr;
    }
    if (k < 1 || k > MSN_PKM_MAX_K) {
        reportError(PkmRetrievalPlugin::kName, "attribute k must be in [1, 64]");
        return nullptr;
    }
    return new (std::nothrow) PkmRetrievalPlugin((int32_t)k);
}

} // namespace trt
} // namespace msn
