// SparseGather as a TensorRT IPluginV3 (core, build and runtime capabilities) and its creator.
// The kernel is kernels/sparse_gather.cu; this class is glue: shapes, types, launch.
#ifndef MSN_SPARSE_GATHER_PLUGIN_H
#define MSN_SPARSE_GATHER_PLUGIN_H

#include "../common/msn_trt_abi.h"

namespace msn {
namespace trt {

// Inputs: 0 values [M, D] (float32, float16 or bfloat16), 1 indices [..., K] (int64),
// 2 weights [..., K] (float32 or float16). Output: 0 out [..., D] (the weights' type).
// No attributes. Leading dimensions of indices/weights are flattened into N rows.
class SparseGatherPlugin final : public PluginV3,
                                 public PluginV3OneCore,
                                 public PluginV3OneBuild,
                                 public PluginV3OneRuntime {
public:
    static constexpr const char* kName = "SparseGather";

    SparseGatherPlugin() noexcept;
    SparseGatherPlugin(const SparseGatherPlugin& other) noexcept;
    SparseGatherPlugin& operator=(const SparseGatherPlugin&) = delete;
    ~SparseGatherPlugin() noexcept override = default;

    // PluginV3
    PluginCapability* getCapabilityInterface(PluginCapabilityType type) noexcept override;
    PluginV3* clone() noexcept override;

    // PluginV3OneCore
    const char* getPluginName() const noexcept override { return kName; }
    const char* getPluginVersion() const noexcept override;
    const char* getPluginNamespace() const noexcept override;

    // PluginV3OneBuild
    int32_t configurePlugin(const DynamicPluginTensorDesc* in, int32_t nbInputs, const DynamicPluginTensorDesc* out,
                            int32_t nbOutputs) noexcept override;
    int32_t getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, const DataType* inputTypes,
                               int32_t nbInputs) const noexcept override;
    int32_t getOutputShapes(const DimsExprs* inputs, int32_t nbInputs, const DimsExprs* shapeInputs,
                            int32_t nbShapeInputs, DimsExprs* outputs, int32_t nbOutputs,
                            ExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(int32_t pos, const DynamicPluginTensorDesc* inOut, int32_t nbInputs,
                                   int32_t nbOutputs) noexcept override;
    int32_t getNbOutputs() const noexcept override { return 1; }
    const char* getTimingCacheID() noexcept override { return kName; }

    // PluginV3OneRuntime
    int32_t onShapeChange(const PluginTensorDesc* in, int32_t nbInputs, const PluginTensorDesc* out,
                          int32_t nbOutputs) noexcept override;
    int32_t enqueue(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs,
                    void* const* outputs, void* workspace, CudaStream stream) noexcept override;
    PluginV3* attachToContext(PluginResourceContext* context) noexcept override;
    const PluginFieldCollection* getFieldsToSerialize() noexcept override { return &mFields; }

private:
    PluginFieldCollection mFields;   // empty: nothing to serialize
};

class SparseGatherCreator final : public PluginCreatorV3One {
public:
    SparseGatherCreator() noexcept : mFieldNames{0, nullptr} {}
    PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept override;
    const PluginFieldCollection* getFieldNames() noexcept override { return &mFieldNames; }
    const char* getPluginName() const noexcept override { return SparseGatherPlugin::kName; }
    const char* getPluginVersion() const noexcept override;
    const char* getPluginNamespace() const noexcept override;

private:
    PluginFieldCollection mFieldNames;
};

} // namespace trt
} // namespace msn

#endif // MSN_SPARSE_GATHER_PLUGIN_H
