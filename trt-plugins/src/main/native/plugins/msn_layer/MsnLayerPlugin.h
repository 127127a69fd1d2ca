// MsnLayer as a TensorRT IPluginV3 (core, build and runtime capabilities) and its creator.
// The kernel is kernels/msn_layer.cu; this class holds what is MsnLayer's own: the attributes,
// shape and type rules, the launch. The IPluginV3 glue is common/plugin_glue.h.
#ifndef MSN_MSN_LAYER_PLUGIN_H
#define MSN_MSN_LAYER_PLUGIN_H

#include "../common/plugin_glue.h"

namespace msn {
namespace trt {

// The attributes (docs/model-contract.md, msn.MsnLayer).
struct MsnLayerAttrs {
    int32_t k = 0;
    int32_t gate = MSN_GATE_TANH;   // msn_gate
    float epsilon = 1e-5f;
    int32_t tokens = 1;
    int32_t perToken = 0;
};

// Inputs: 0 x [N, D] (float32 or float16), 1 Wq [2dk, D], 2 bq [2dk], 3..6 LN_qrow/LN_qcol weight and
// bias [dk], 7 K_row [S, dk], 8 K_col [S, dk] (1..8 float32), 9 values [M, D] (float32, float16 or
// bfloat16; M = S*S, or T*S*S with per_token).
// Outputs: 0 y [N, D] (the type of x), 1 weights [N, k] (float32), 2 indices [N, k] (int64).
// Fields: k, tokens, per_token (int), gate (string: tanh, sigmoid, identity), epsilon (float).
class MsnLayerPlugin final : public PluginGlue<MsnLayerPlugin> {
public:
    MSN_PLUGIN_SPEC(MsnLayer);

    explicit MsnLayerPlugin(const MsnLayerAttrs& attrs) noexcept;
    MsnLayerPlugin(const MsnLayerPlugin& other) noexcept;
    MsnLayerPlugin& operator=(const MsnLayerPlugin&) = delete;
    ~MsnLayerPlugin() noexcept override = default;

    // PluginV3OneBuild (the rest is PluginGlue's)
    size_t getWorkspaceSize(const DynamicPluginTensorDesc* in, int32_t nbInputs, const DynamicPluginTensorDesc* out,
                            int32_t nbOutputs) const noexcept override;
    const char* getTimingCacheID() noexcept override { return mMetadata; }
    const char* getMetadataString() noexcept override { return mMetadata; }

    // PluginV3OneRuntime
    const PluginFieldCollection* getFieldsToSerialize() noexcept override { return &mFields; }

private:
    MSN_PLUGIN_GLUE_HOOKS(MsnLayerPlugin);

    bool checkShapes(const Dims64* in) const noexcept;
    // The kernel's sizes and attributes (pointers null) from the input dims: x, Wq and K_row.
    msn_layer_params params(const Dims64& x, const Dims64& wq, const Dims64& keys) const noexcept;

    MsnLayerAttrs mAttrs;
    char mGateName[16];
    char mMetadata[96];
    PluginField mField[Spec::kNumAttributes];  // k, gate, epsilon, tokens, per_token (table order), into mAttrs/mGateName
    PluginFieldCollection mFields;       // pointing at mField
};

class MsnLayerCreator final : public CreatorGlue<MsnLayerPlugin> {
public:
    MsnLayerCreator() noexcept;
    PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept override;
};

} // namespace trt
} // namespace msn

#endif // MSN_MSN_LAYER_PLUGIN_H
