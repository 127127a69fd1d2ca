// PKMRetrieval as a TensorRT IPluginV3 (core, build and runtime capabilities) and its creator.
// The kernel is kernels/pkm_retrieval.cu; this class holds what is PKM's own: the attribute k,
// shape and type rules, the launch. The IPluginV3 glue is common/plugin_glue.h.
#ifndef MSN_PKM_RETRIEVAL_PLUGIN_H
#define MSN_PKM_RETRIEVAL_PLUGIN_H

#include "../common/plugin_glue.h"

namespace msn {
namespace trt {

// Inputs: 0 row_scores [..., S], 1 col_scores [..., S] (float32 or float16, the same type).
// Outputs: 0 weights [..., k] (the scores' type), 1 indices [..., k] (int64).
// Attribute: k (int). Leading dimensions are flattened into N queries.
class PkmRetrievalPlugin final : public PluginGlue<PkmRetrievalPlugin> {
public:
    MSN_PLUGIN_SPEC(PkmRetrieval);

    explicit PkmRetrievalPlugin(int32_t k) noexcept;
    PkmRetrievalPlugin(const PkmRetrievalPlugin& other) noexcept;
    PkmRetrievalPlugin& operator=(const PkmRetrievalPlugin&) = delete;
    ~PkmRetrievalPlugin() noexcept override = default;

    // PluginV3OneBuild (the rest is PluginGlue's)
    const char* getTimingCacheID() noexcept override { return mMetadata; }
    const char* getMetadataString() noexcept override { return mMetadata; }

    // PluginV3OneRuntime
    const PluginFieldCollection* getFieldsToSerialize() noexcept override { return &mFields; }

private:
    MSN_PLUGIN_GLUE_HOOKS(PkmRetrievalPlugin);

    bool checkShapes(const Dims64& rows, const Dims64& cols) const noexcept;

    int32_t mK;
    char mMetadata[32];
    PluginField mField;                  // "k", pointing at mK
    PluginFieldCollection mFields;       // pointing at mField
};

class PkmRetrievalCreator final : public CreatorGlue<PkmRetrievalPlugin> {
public:
    PkmRetrievalCreator() noexcept;
    PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept override;
};

} // namespace trt
} // namespace msn

#endif // MSN_PKM_RETRIEVAL_PLUGIN_H
