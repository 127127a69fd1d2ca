// PKMRetrieval as a TensorRT IPluginV3 (core, build and runtime capabilities) and its creator.
// The kernel is kernels/pkm_retrieval.cu; this class is glue: attribute, shapes, types, launch.
#ifndef MSN_PKM_RETRIEVAL_PLUGIN_H
#define MSN_PKM_RETRIEVAL_PLUGIN_H

#include "../common/msn_trt_abi.h"

namespace msn {
namespace trt {

// Inputs: 0 row_scores [..., S], 1 col_scores [..., S] (float32 or float16, the same type).
// Outputs: 0 weights [..., k] (the scores' type), 1 indices [..., k] (int64).
// Attribute: k (int). Leading dimensions are flattened into N queries.
class PkmRetrievalPlugin final : public PluginV3,
                                 public PluginV3OneCore,
                                 public PluginV3OneBuild,
                                 public PluginV3OneRuntime {
public:
    static constexpr const char* kName = "PKMRetrieval";

    explicit PkmRetrievalPlugin(int32_t k) noexcept;
    PkmRetrievalPlugin(const PkmRetrievalPlugin& other) noexcept;
    PkmRetrievalPlugin& operator=(const PkmRetrievalPlugin&) = delete;
    ~PkmRetrievalPlugin() noexcept override = default;

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
    int32_t getNbOutputs() const noexcept override { return 2; }
    const char* getTimingCacheID() noexcept override { return mMetadata; }
    const char* getMetadataString() noexcept override { return mMetadata; }

    // PluginV3OneRuntime
    int32_t onShapeChange(const PluginTensorDesc* in, int32_t nbInputs, const PluginTensorDesc* out,
                          int32_t nbOutputs) noexcept override;
    int32_t enqueue(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs,
                    void* const* outputs, void* workspace, CudaStream stream) noexcept override;
    PluginV3* attachToContext(PluginResourceContext* context) noexcept override;
    const PluginFieldCollection* getFieldsToSerialize() noexcept override;

private:
    bool checkShapes(const Dims64& rows, const Dims64& cols) const noexcept;

    int32_t mK;
    char mMetadata[32];
    PluginField mField;                  // "k", pointing at mK
    PluginFieldCollection mFields;       // pointing at mField
};

class PkmRetrievalCreator final : public PluginCreatorV3One {
public:
    PkmRetrievalCreator() noexcept;
    PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept override;
    const PluginFieldCollection* getFieldNames() noexcept override { return &mFieldNames; }
    const char* getPluginName() const noexcept override { return PkmRetrievalPlugin::kName; }
    const char* getPluginVersion() const noexcept override;
    const char* getPluginNamespace() const noexcept override;

private:
    PluginField mField;
    PluginFieldCollection mFieldNames;
};

} // namespace trt
} // namespace msn

#endif // MSN_PKM_RETRIEVAL_PLUGIN_H
