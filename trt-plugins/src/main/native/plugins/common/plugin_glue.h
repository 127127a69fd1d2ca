// The IPluginV3 glue every plugin of this library shares, written once:
//   * PluginGlue<Derived>: the plugin base (CRTP). It inherits PluginV3, PluginV3OneCore,
//     PluginV3OneBuild and PluginV3OneRuntime in that order and has no data members, so a
//     plugin derived from it has the layout msn_trt_abi.h describes: PluginV3
//     (primary) at +0, the core, build and runtime capabilities at +8, +16 and +24. It answers
//     getCapabilityInterface, clone, attachToContext, the core strings and getNbOutputs, and
//     rejects null pointers, wrong input/output counts, positions out of range and formats
//     other than kLINEAR before it hands a call to the plugin's own rule (the hooks below).
//   * CreatorGlue<Plugin>: the creator base: name, version, namespace and field names.
//
// A plugin class `P final : public PluginGlue<P>` provides:
//   MSN_PLUGIN_SPEC(<CamelId>);    (public) Spec = op_table::<CamelId> (msn_op_table.h, from
//                                  ops.json), kName = Spec::kName (plugin name = ONNX op type),
//                                  kNbInputs = Spec::kNumInputs, kNbOutputs = Spec::kNumOutputs
//   a copy constructor             (clone, attachToContext)
//   MSN_PLUGIN_GLUE_HOOKS(P);      (private) befriends PluginGlue<P> and declares these hooks:
//   int32_t configure(const DynamicPluginTensorDesc* in, const DynamicPluginTensorDesc* out) noexcept;
//   int32_t outputTypes(DataType* outTypes, const DataType* inTypes) const noexcept;
//   int32_t outputShapes(const DimsExprs* inputs, DimsExprs* outputs, ExprBuilder& exprBuilder) noexcept;
//   bool supportsType(int32_t pos, const DynamicPluginTensorDesc* inOut) const noexcept;
//                                                          (inOut[pos] is kLINEAR; the rule is about types)
//   int32_t shapeChange(const PluginTensorDesc* in, const PluginTensorDesc* out) noexcept;
//   int32_t launch(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs,
//                  void* const* outputs, void* workspace, CudaStream stream) noexcept;
//   const PluginFieldCollection* getFieldsToSerialize() noexcept override;
// and may override the defaulted build virtuals (getTimingCacheID, getMetadataString, ...).
// Each hook gets kNbInputs inputs and kNbOutputs outputs behind non-null pointers. A plugin with
// optional trailing inputs also declares `static constexpr int32_t kMinNbInputs` (< kNbInputs)
// and `void setNbInputs(int32_t) const noexcept`, which the glue calls with the count before each
// hook that TensorRT tells it (enqueue follows onShapeChange, which does).
//
// Only ever overriding (never declaring new virtuals in) the derived class keeps every vtable
// TensorRT reads as msn_trt_abi.h declares it; test/plugin_abi_test.cpp checks it slot by slot.
#ifndef MSN_PLUGIN_GLUE_H
#define MSN_PLUGIN_GLUE_H

#include "msn_trt_abi.h"
#include "plugin_common.h"

#include <cstdint>
#include <new>
#include <type_traits>

// The op-table entry of a plugin and the counts PluginGlue reads (see the top of this file).
#define MSN_PLUGIN_SPEC(Entry)                                 \
    using Spec = ::msn::op_table::Entry;                       \
    static constexpr const char* kName = Spec::kName;          \
    static constexpr int32_t kNbInputs = Spec::kNumInputs;     \
    static constexpr int32_t kNbOutputs = Spec::kNumOutputs

// The hooks PluginGlue<Plugin> calls, declared (private) in Plugin; Plugin's .cpp defines them.
#define MSN_PLUGIN_GLUE_HOOKS(Plugin)                                                                                \
    friend class ::msn::trt::PluginGlue<Plugin>;                                                                     \
    int32_t configure(const DynamicPluginTensorDesc* in, const DynamicPluginTensorDesc* out) noexcept;               \
    int32_t outputTypes(DataType* outTypes, const DataType* inTypes) const noexcept;                                 \
    int32_t outputShapes(const DimsExprs* inputs, DimsExprs* outputs, ExprBuilder& exprBuilder) noexcept;            \
    bool supportsType(int32_t pos, const DynamicPluginTensorDesc* inOut) const noexcept;                             \
    int32_t shapeChange(const PluginTensorDesc* in, const PluginTensorDesc* out) noexcept;                           \
    int32_t launch(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs, \
                   void* const* outputs, void* workspace, CudaStream stream) noexcept

namespace msn {
namespace trt {

// kMinNbInputs when the plugin declares it, else kNbInputs (no optional inputs).
template <class D, class = void>
struct MinNbInputs {
    static constexpr int32_t value = D::kNbInputs;
};
template <class D>
struct MinNbInputs<D, std::void_t<decltype(D::kMinNbInputs)>> {
    static constexpr int32_t value = D::kMinNbInputs;
};

template <class Derived>
class PluginGlue : public PluginV3, public PluginV3OneCore, public PluginV3OneBuild, public PluginV3OneRuntime {
public:
    // PluginV3
    PluginCapability* getCapabilityInterface(PluginCapabilityType type) noexcept final {
        static_assert(sizeof(PluginGlue) == 4 * sizeof(void*),
                      "PluginGlue is four vtable pointers (V3 +0, core +8, build +16, runtime +24) and no data");
        switch (type) {
        case PluginCapabilityType::kCORE: return static_cast<PluginV3OneCore*>(this);
        case PluginCapabilityType::kBUILD: return static_cast<PluginV3OneBuild*>(this);
        case PluginCapabilityType::kRUNTIME: return static_cast<PluginV3OneRuntime*>(this);
        }
        return nullptr;
    }
    PluginV3* clone() noexcept final { return new (std::nothrow) Derived(self()); }

    // PluginV3OneCore
    const char* getPluginName() const noexcept final { return Derived::kName; }
    const char* getPluginVersion() const noexcept final { return kPluginVersion; }
    const char* getPluginNamespace() const noexcept final { return kPluginNamespace; }

    // PluginV3OneBuild
    int32_t configurePlugin(const DynamicPluginTensorDesc* in, int32_t nbInputs, const DynamicPluginTensorDesc* out,
                            int32_t nbOutputs) noexcept final {
        if (in == nullptr || out == nullptr || !counts(nbInputs, nbOutputs)) return -1;
        noteInputs(nbInputs);
        return self().configure(in, out);
    }
    int32_t getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, const DataType* inputTypes,
                               int32_t nbInputs) const noexcept final {
        if (outputTypes == nullptr || inputTypes == nullptr || !counts(nbInputs, nbOutputs)) return -1;
        noteInputs(nbInputs);
        return self().outputTypes(outputTypes, inputTypes);
    }
    int32_t getOutputShapes(const DimsExprs* inputs, int32_t nbInputs, const DimsExprs*, int32_t, DimsExprs* outputs,
                            int32_t nbOutputs, ExprBuilder& exprBuilder) noexcept final {
        if (inputs == nullptr || outputs == nullptr || !counts(nbInputs, nbOutputs)) return -1;
        noteInputs(nbInputs);
        return self().outputShapes(inputs, outputs, exprBuilder);
    }
    bool supportsFormatCombination(int32_t pos, const DynamicPluginTensorDesc* inOut, int32_t nbInputs,
                                   int32_t nbOutputs) noexcept final {
        if (inOut == nullptr || !counts(nbInputs, nbOutputs) || pos < 0 || pos >= nbInputs + nbOutputs) return false;
        if (inOut[pos].desc.format != TensorFormat::kLINEAR) return false;
        noteInputs(nbInputs);
        return self().supportsType(pos, inOut);
    }
    int32_t getNbOutputs() const noexcept final { return Derived::kNbOutputs; }

    // PluginV3OneRuntime
    int32_t onShapeChange(const PluginTensorDesc* in, int32_t nbInputs, const PluginTensorDesc* out,
                          int32_t nbOutputs) noexcept final {
        if (in == nullptr || out == nullptr || !counts(nbInputs, nbOutputs)) return -1;
        noteInputs(nbInputs);
        return self().shapeChange(in, out);
    }
    int32_t enqueue(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc, const void* const* inputs,
                    void* const* outputs, void* workspace, CudaStream stream) noexcept final {
        if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr) return -1;
        return self().launch(inputDesc, outputDesc, inputs, outputs, workspace, stream);
    }
    PluginV3* attachToContext(PluginResourceContext*) noexcept final { return clone(); }

protected:
    PluginGlue() noexcept = default;
    PluginGlue(const PluginGlue&) noexcept = default;
    PluginGlue& operator=(const PluginGlue&) = delete;
    ~PluginGlue() noexcept override = default;

private:
    static bool counts(int32_t nbInputs, int32_t nbOutputs) noexcept {
        return nbInputs >= MinNbInputs<Derived>::value && nbInputs <= Derived::kNbInputs &&
               nbOutputs == Derived::kNbOutputs;
    }
    void noteInputs(int32_t nbInputs) const noexcept {
        if constexpr (MinNbInputs<Derived>::value != Derived::kNbInputs) self().setNbInputs(nbInputs);
    }
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

// The creator of Plugin. The field names TensorRT asks for are a list the derived creator owns
// (or a static one); createPlugin stays with the derived creator.
template <class Plugin>
class CreatorGlue : public PluginCreatorV3One {
public:
    const PluginFieldCollection* getFieldNames() noexcept final { return &mFieldNames; }
    const char* getPluginName() const noexcept final { return Plugin::kName; }
    const char* getPluginVersion() const noexcept final { return kPluginVersion; }
    const char* getPluginNamespace() const noexcept final { return kPluginNamespace; }

protected:
    CreatorGlue(const PluginField* fieldNames, int32_t nbFieldNames) noexcept : mFieldNames{nbFieldNames, fieldNames} {}
    CreatorGlue(const CreatorGlue&) = delete;
    CreatorGlue& operator=(const CreatorGlue&) = delete;
    ~CreatorGlue() noexcept override = default;

private:
    PluginFieldCollection mFieldNames;
};

} // namespace trt
} // namespace msn

#endif // MSN_PLUGIN_GLUE_H
