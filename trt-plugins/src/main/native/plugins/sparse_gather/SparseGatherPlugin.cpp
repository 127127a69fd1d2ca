#include "SparseGatherPlugin.h"

#include "../common/plugin_common.h"

#include <new>

namespace msn {
namespace trt {

namespace {
bool isQuantizedType(DataType t) { return t == DataType::kINT8 || t == DataType::kFP8; }
bool isValueType(DataType t) {
    return t == DataType::kFLOAT || t == DataType::kHALF || t == DataType::kBF16 || isQuantizedType(t);
}

// values [M, D]; indices and weights alike [..., K]. Unknown (-1) extents pass.
bool checkShapes(const Dims64& values, const Dims64& indices, const Dims64& weights) {
    if (values.nbDims != 2 || indices.nbDims < 1 || indices.nbDims > kMaxDims || weights.nbDims != indices.nbDims)
        return false;
    for (int i = 0; i < indices.nbDims; ++i)
        if (indices.d[i] >= 0 && weights.d[i] >= 0 && indices.d[i] != weights.d[i]) return false;
    return true;
}
} // namespace

SparseGatherPlugin::SparseGatherPlugin() noexcept : mFields{0, nullptr} {}

SparseGatherPlugin::SparseGatherPlugin(const SparseGatherPlugin& other) noexcept : SparseGatherPlugin() {
    mNbInputs = other.mNbInputs;
}

namespace {
// scales [M]: one per row of values [M, D]. Unknown (-1) extents pass.
bool checkScales(const Dims64& values, const Dims64& scales) {
    return scales.nbDims == 1 && (scales.d[0] < 0 || values.d[0] < 0 || scales.d[0] == values.d[0]);
}
} // namespace

int32_t SparseGatherPlugin::configure(const DynamicPluginTensorDesc* in, const DynamicPluginTensorDesc*) noexcept {
    if (!checkShapes(in[0].desc.dims, in[1].desc.dims, in[2].desc.dims)) {
        reportError(kName, "expected values [M, D], indices [..., K], weights [..., K]");
        return -1;
    }
    if (scaled() && !checkScales(in[0].desc.dims, in[3].desc.dims)) {
        reportError(kName, "input 'scales' must be [M], one float32 per row of 'values' [M, D]");
        return -1;
    }
    return 0;
}

int32_t SparseGatherPlugin::outputTypes(DataType* outTypes, const DataType* inTypes) const noexcept {
    if (!isValueType(inTypes[0]) || !isFloatOrHalf(inTypes[2])) {
        reportError(kName, "values must be float32/float16/bfloat16/int8/fp8 and weights float32/float16");
        return -1;
    }
    if (isQuantizedType(inTypes[0]) != scaled() || (scaled() && inTypes[3] != DataType::kFLOAT)) {
        reportError(kName, "an int8/fp8 'values' table needs the 4th input 'scales' (float32 [M]), a float one none");
        return -1;
    }
    outTypes[0] = inTypes[2];   // out: the weights' type
    return 0;
}

// out = indices' leading dimensions followed by D (values' second dimension).
int32_t SparseGatherPlugin::outputShapes(const DimsExprs* inputs, DimsExprs* outputs, ExprBuilder&) noexcept {
    const int32_t rank = inputs[1].nbDims;
    if (inputs[0].nbDims != 2 || rank < 1 || rank > kMaxDims) return -1;
    outputs[0] = inputs[1];
    outputs[0].d[rank - 1] = inputs[0].d[1];
    return 0;
}

// Formats and positions are checked by PluginGlue; the types:
bool SparseGatherPlugin::supportsType(int32_t pos, const DynamicPluginTensorDesc* inOut) const noexcept {
    const DataType t = inOut[pos].desc.type;
    switch (pos) {
    case 0: return isValueType(t) && isQuantizedType(t) == scaled();
    case 1: return t == DataType::kINT64;
    case 2: return isFloatOrHalf(t);
    case 3:
        if (scaled()) return t == DataType::kFLOAT;   // scales
        return t == inOut[2].desc.type;             // out, in the weights' type
    default: return t == inOut[2].desc.type;       // out, in the weights' type
    }
}

int32_t SparseGatherPlugin::shapeChange(const PluginTensorDesc* in, const PluginTensorDesc*) noexcept {
    if (!checkShapes(in[0].dims, in[1].dims, in[2].dims)) {
        reportError(kName, "expected values [M, D], indices [..., K], weights [..., K]");
        return -1;
    }
    if (scaled() && !checkScales(in[0].dims, in[3].dims)) {
        reportError(kName, "input 'scales' must be [M], one float32 per row of 'values' [M, D]");
        return -1;
    }
    return 0;
}

int32_t SparseGatherPlugin::launch(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc,
                                   const void* const* inputs, void* const* outputs, void*, CudaStream stream) noexcept {
    const Dims64& values = inputDesc[0].dims;
    const Dims64& indices = inputDesc[1].dims;
    if (values.nbDims != 2 || indices.nbDims < 1 || indices.nbDims > kMaxDims) return -1;
    const int64_t m = values.d[0], d = values.d[1];
    const int64_t k = indices.d[indices.nbDims - 1];
    const int64_t n = volume(indices, 0, indices.nbDims - 1);
    msn_dtype valueType, indexType, weightType, outType;
    if (n < 0 || !toKernelType(inputDesc[0].type, valueType) || !toKernelType(inputDesc[1].type, indexType) ||
        !toKernelType(inputDesc[2].type, weightType) || !toKernelType(outputDesc[0].type, outType)) {
        reportError(kName, "unsupported shape or type at enqueue");
        return -1;
    }
    // Out-of-range indices contribute zero; no flag is kept (nobody would read it here).
    const float* scales = scaled() ? static_cast<const float*>(inputs[3]) : nullptr;
    const int status = msn_sparse_gather_scaled(inputs[0], valueType, scales, m, d, inputs[1], indexType, inputs[2],
                                                weightType, n, k, outputs[0], outType, nullptr, stream);
    if (status != MSN_OK) {
        reportError(kName, msn_status_string(status));
        return -1;
    }
    return 0;
}

PluginV3* SparseGatherCreator::createPlugin(const char*, const PluginFieldCollection*, TensorRTPhase) noexcept {
    return new (std::nothrow) SparseGatherPlugin();
}

} // namespace trt
} // namespace msn
