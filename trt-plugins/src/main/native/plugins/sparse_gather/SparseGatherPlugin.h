// SparseGather as a TensorRT IPluginV3 (core, build and runtime capabilities) and its creator.
// The kernel is kernels/sparse_gather.cu; this class holds what is SparseGather's own: shape and
// type rules, the launch. The IPluginV3 glue is common/plugin_glue.h.
#ifndef MSN_SPARSE_GATHER_PLUGIN_H
#define MSN_SPARSE_GATHER_PLUGIN_H

#include "../common/plugin_glue.h"

namespace msn {
namespace trt {

// Inputs: 0 values [M, D] (float32, float16 or bfloat16; or a quantized table: int8 or fp8
// E4M3FN codes), 1 indices [..., K] (int64), 2 weights [..., K] (float32 or float16), and with a
// quantized table only, 3 scales [M] (float32). Output: 0 out [..., D] (the weights' type).
// No attributes. Leading dimensions of indices/weights are flattened into N rows.
class SparseGatherPlugin final : public PluginGlue<SparseGatherPlugin> {
public:
    MSN_PLUGIN_SPEC(SparseGather);
    static constexpr int32_t kMinNbInputs = Spec::kNumRequiredInputs;   // scales only with a quantized table

    SparseGatherPlugin() noexcept;
    SparseGatherPlugin(const SparseGatherPlugin& other) noexcept;
    SparseGatherPlugin& operator=(const SparseGatherPlugin&) = delete;
    ~SparseGatherPlugin() noexcept override = default;

    // PluginV3OneBuild (the rest is PluginGlue's)
    const char* getTimingCacheID() noexcept override { return kName; }

    // PluginV3OneRuntime
    const PluginFieldCollection* getFieldsToSerialize() noexcept override { return &mFields; }

private:
    MSN_PLUGIN_GLUE_HOOKS(SparseGatherPlugin);

    void setNbInputs(int32_t n) const noexcept { mNbInputs = n; }
    bool scaled() const noexcept { return mNbInputs == 4; }

    PluginFieldCollection mFields;   // empty: nothing to serialize
    mutable int32_t mNbInputs = 3;   // 3, or 4 with scales (PluginGlue tells it)
};

class SparseGatherCreator final : public CreatorGlue<SparseGatherPlugin> {
public:
    SparseGatherCreator() noexcept : CreatorGlue(nullptr, SparseGatherPlugin::Spec::kNumAttributes) {}
    PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept override;
};

} // namespace trt
} // namespace msn

#endif // MSN_SPARSE_GATHER_PLUGIN_H
