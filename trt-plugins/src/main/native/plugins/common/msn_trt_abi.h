// Our own declarations of the small part of TensorRT's plugin interface that this library uses.
//
// TensorRT's C++ headers are not shipped by any registry we use, and we do not copy other
// projects' code. A plugin library meets TensorRT only at the binary level: object layouts,
// vtable slot order, enum values and calling conventions (Itanium C++ ABI, x86_64, LP64).
// Every fact below was read from the public TensorRT 10.6 headers and checked against libnvinfer
// 10.6.0.26 on an H100 (trt-plugins/README.md, "The ABI header"), except the expression
// builder at the end of this file, which we read ourselves from the public TensorRT 10.x
// NvInferRuntime.h / NvInferImpl.h (see the comment there).
//
// How these facts are checked:
//   * here, at compile time: every struct size and field offset, and the one-pointer size of
//     every interface (static_assert below);
//   * plugins/test/plugin_abi_test.cpp, on any machine: loads the built library with dlopen and
//     calls every slot we rely on through raw vtable indices (not through these declarations),
//     so a slot declared in the wrong order fails there;
//   * on a GPU, with the real TensorRT 10.6: parse, build, serialize, reload
//     and run an engine that uses both plugins.
//
// Rules that make the declarations below line up with TensorRT's (Itanium ABI):
//   * virtual functions take slots in declaration order, after those of the primary base;
//   * a virtual destructor takes two slots (complete-object, then deleting);
//   * an inline body still takes a slot, so defaulted virtuals are declared with the same
//     default behaviour;
//   * const / noexcept do not change the calling convention;
//   * a 16-byte trivially copyable struct (InterfaceInfo) is returned in RAX:RDX.
#ifndef MSN_TRT_ABI_H
#define MSN_TRT_ABI_H

#include <cstddef>
#include <cstdint>

struct CUstream_st;   // cudaStream_t is CUstream_st*

namespace msn {
namespace trt {

using CudaStream = CUstream_st*;

// ---- enums (all int32_t) --------------------------------------------------------------------

// DataType, the whole list as of TensorRT 10.6 (0..9).
enum class DataType : int32_t {
    kFLOAT = 0, kHALF = 1, kINT8 = 2, kINT32 = 3, kBOOL = 4,
    kUINT8 = 5, kFP8 = 6, kBF16 = 7, kINT64 = 8, kINT4 = 9,
};

// TensorFormat: only row-major linear memory is used (and accepted) here.
enum class TensorFormat : int32_t { kLINEAR = 0 };

// PluginFieldType, the whole list (0..12). The ONNX parser hands an INT attribute over as
// kINT32 with length 1 and a FLOAT attribute as kFLOAT32 with length 1.
enum class PluginFieldType : int32_t {
    kFLOAT16 = 0, kFLOAT32 = 1, kFLOAT64 = 2, kINT8 = 3, kINT16 = 4,
    kINT32 = 5, kCHAR = 6, kDIMS = 7, kUNKNOWN = 8, kBF16 = 9,
    kINT64 = 10, kFP8 = 11, kINT4 = 12,
};

enum class TensorRTPhase : int32_t { kBUILD = 0, kRUNTIME = 1 };
enum class PluginCapabilityType : int32_t { kCORE = 0, kBUILD = 1, kRUNTIME = 2 };
enum class APILanguage : int32_t { kCPP = 0 };

static_assert(sizeof(DataType) == 4 && sizeof(TensorFormat) == 4 && sizeof(PluginFieldType) == 4 &&
                  sizeof(TensorRTPhase) == 4 && sizeof(PluginCapabilityType) == 4 &&
                  sizeof(APILanguage) == 4,
              "every enum is an int32_t");

// ---- plain structs --------------------------------------------------------------------------

constexpr int kMaxDims = 8;

struct Dims64 {            // TensorRT's Dims (= Dims64 since 10.0)
    int32_t nbDims;
    int64_t d[kMaxDims];
};

struct InterfaceInfo {
    const char* kind;
    int32_t major;
    int32_t minor;
};

struct PluginField {
    const char* name;
    const void* data;
    PluginFieldType type;
    int32_t length;        // in elements, not bytes
};

struct PluginFieldCollection {
    int32_t nbFields;
    const PluginField* fields;
};

struct PluginTensorDesc {
    Dims64 dims;
    DataType type;
    TensorFormat format;
    float scale;
};

struct DynamicPluginTensorDesc {
    PluginTensorDesc desc;  // dims may hold -1 for dimensions only known at run time
    Dims64 min;
    Dims64 max;
    Dims64 opt;
};

class DimensionExpr;       // TensorRT's IDimensionExpr: opaque, only its address is passed on

struct DimsExprs {
    int32_t nbDims;
    const DimensionExpr* d[kMaxDims];
};

class PluginResourceContext;  // opaque (attachToContext's argument, never used)
class LoggerFinder;           // opaque (setLoggerFinder's argument, only stored)

static_assert(sizeof(Dims64) == 72 && offsetof(Dims64, nbDims) == 0 && offsetof(Dims64, d) == 8, "Dims64");
static_assert(sizeof(InterfaceInfo) == 16 && offsetof(InterfaceInfo, kind) == 0 &&
                  offsetof(InterfaceInfo, major) == 8 && offsetof(InterfaceInfo, minor) == 12,
              "InterfaceInfo");
static_assert(sizeof(PluginField) == 24 && offsetof(PluginField, name) == 0 && offsetof(PluginField, data) == 8 &&
                  offsetof(PluginField, type) == 16 && offsetof(PluginField, length) == 20,
              "PluginField");
static_assert(sizeof(PluginFieldCollection) == 16 && offsetof(PluginFieldCollection, nbFields) == 0 &&
                  offsetof(PluginFieldCollection, fields) == 8,
              "PluginFieldCollection");
static_assert(sizeof(PluginTensorDesc) == 88 && offsetof(PluginTensorDesc, dims) == 0 &&
                  offsetof(PluginTensorDesc, type) == 72 && offsetof(PluginTensorDesc, format) == 76 &&
                  offsetof(PluginTensorDesc, scale) == 80,
              "PluginTensorDesc");
static_assert(sizeof(DynamicPluginTensorDesc) == 304 && offsetof(DynamicPluginTensorDesc, desc) == 0 &&
                  offsetof(DynamicPluginTensorDesc, min) == 88 && offsetof(DynamicPluginTensorDesc, max) == 160 &&
                  offsetof(DynamicPluginTensorDesc, opt) == 232,
              "DynamicPluginTensorDesc");
static_assert(sizeof(DimsExprs) == 72 && offsetof(DimsExprs, nbDims) == 0 && offsetof(DimsExprs, d) == 8,
              "DimsExprs");

// ---- interfaces -----------------------------------------------------------------------------
// Slot numbers are the 8-byte vtable entries after the address point.

// TensorRT's IVersionedInterface: 0 getAPILanguage, 1 getInterfaceInfo, 2-3 destructor.
class VersionedInterface {
public:
    virtual APILanguage getAPILanguage() const noexcept { return APILanguage::kCPP; }
    virtual InterfaceInfo getInterfaceInfo() const noexcept = 0;
    virtual ~VersionedInterface() noexcept = default;
};

// IPluginCapability (v_1_0): nothing new.
class PluginCapability : public VersionedInterface {};

// IPluginCreatorInterface (v_1_0): nothing new (re-declares the destructor only).
class PluginCreatorInterface : public VersionedInterface {
public:
    ~PluginCreatorInterface() noexcept override = default;
};

// IPluginV3 (v_1_0): 4 getCapabilityInterface, 5 clone.
class PluginV3 : public VersionedInterface {
public:
    InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"PLUGIN", 1, 0}; }
    virtual PluginCapability* getCapabilityInterface(PluginCapabilityType type) noexcept = 0;
    virtual PluginV3* clone() noexcept = 0;
};

// IPluginV3OneCore (v_1_0): 4 getPluginName, 5 getPluginVersion, 6 getPluginNamespace.
class PluginV3OneCore : public PluginCapability {
public:
    InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"PLUGIN_V3ONE_CORE", 1, 0}; }
    virtual const char* getPluginName() const noexcept = 0;
    virtual const char* getPluginVersion() const noexcept = 0;
    virtual const char* getPluginNamespace() const noexcept = 0;
};

class ExprBuilder;

// IPluginV3OneBuild (v_1_0): 4 configurePlugin, 5 getOutputDataTypes, 6 getOutputShapes,
// 7 supportsFormatCombination, 8 getNbOutputs, 9 getWorkspaceSize [0], 10 getValidTactics [0],
// 11 getNbTactics [0], 12 getTimingCacheID [nullptr], 13 getFormatCombinationLimit [100],
// 14 getMetadataString [nullptr].
class PluginV3OneBuild : public PluginCapability {
public:
    InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"PLUGIN_V3ONE_BUILD", 1, 0}; }
    virtual int32_t configurePlugin(const DynamicPluginTensorDesc* in, int32_t nbInputs,
                                    const DynamicPluginTensorDesc* out, int32_t nbOutputs) noexcept = 0;
    virtual int32_t getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, const DataType* inputTypes,
                                       int32_t nbInputs) const noexcept = 0;
    virtual int32_t getOutputShapes(const DimsExprs* inputs, int32_t nbInputs, const DimsExprs* shapeInputs,
                                    int32_t nbShapeInputs, DimsExprs* outputs, int32_t nbOutputs,
                                    ExprBuilder& exprBuilder) noexcept = 0;
    virtual bool supportsFormatCombination(int32_t pos, const DynamicPluginTensorDesc* inOut, int32_t nbInputs,
                                           int32_t nbOutputs) noexcept = 0;
    virtual int32_t getNbOutputs() const noexcept = 0;
    virtual size_t getWorkspaceSize(const DynamicPluginTensorDesc*, int32_t, const DynamicPluginTensorDesc*,
                                    int32_t) const noexcept {
        return 0;
    }
    virtual int32_t getValidTactics(int32_t*, int32_t) noexcept { return 0; }
    virtual int32_t getNbTactics() noexcept { return 0; }
    virtual const char* getTimingCacheID() noexcept { return nullptr; }
    virtual int32_t getFormatCombinationLimit() noexcept { return 100; }
    virtual const char* getMetadataString() noexcept { return nullptr; }
};

// IPluginV3OneRuntime (v_1_0): 4 setTactic [0], 5 onShapeChange, 6 enqueue, 7 attachToContext,
// 8 getFieldsToSerialize.
class PluginV3OneRuntime : public PluginCapability {
public:
    InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"PLUGIN_V3ONE_RUNTIME", 1, 0}; }
    virtual int32_t setTactic(int32_t) noexcept { return 0; }
    virtual int32_t onShapeChange(const PluginTensorDesc* in, int32_t nbInputs, const PluginTensorDesc* out,
                                  int32_t nbOutputs) noexcept = 0;
    virtual int32_t enqueue(const PluginTensorDesc* inputDesc, const PluginTensorDesc* outputDesc,
                            const void* const* inputs, void* const* outputs, void* workspace,
                            CudaStream stream) noexcept = 0;
    virtual PluginV3* attachToContext(PluginResourceContext* context) noexcept = 0;
    virtual const PluginFieldCollection* getFieldsToSerialize() noexcept = 0;
};

// IPluginCreatorV3One (v_1_0): 4 createPlugin, 5 getFieldNames, 6 getPluginName,
// 7 getPluginVersion, 8 getPluginNamespace. (The kind string has a space, not an underscore.)
class PluginCreatorV3One : public PluginCreatorInterface {
public:
    InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"PLUGIN CREATOR_V3ONE", 1, 0}; }
    virtual PluginV3* createPlugin(const char* name, const PluginFieldCollection* fc, TensorRTPhase phase) noexcept = 0;
    virtual const PluginFieldCollection* getFieldNames() noexcept = 0;
    virtual const char* getPluginName() const noexcept = 0;
    virtual const char* getPluginVersion() const noexcept = 0;
    virtual const char* getPluginNamespace() const noexcept = 0;
};

static_assert(sizeof(VersionedInterface) == 8 && sizeof(PluginCapability) == 8 && sizeof(PluginCreatorInterface) == 8 &&
                  sizeof(PluginV3) == 8 && sizeof(PluginV3OneCore) == 8 && sizeof(PluginV3OneBuild) == 8 &&
                  sizeof(PluginV3OneRuntime) == 8 && sizeof(PluginCreatorV3One) == 8,
              "every interface is one vtable pointer and no data");

// ---- the expression builder (not in trt-plugin-abi.md; read from the public headers) ----------
//
// PKMRetrieval's outputs are [N, k] with k a constant, and a constant dimension can only come
// from the builder that getOutputShapes receives. In TensorRT 10.x (checked in the public
// NvInferRuntime.h and NvInferImpl.h of the 10.x line, the same from 10.0 to 10.16):
//   * IExprBuilder derives from INoCopy, whose only member is a virtual destructor, and adds one
//     data member, `apiv::VExprBuilder* mImpl`; its methods are non-virtual inline wrappers, so
//     IExprBuilder::constant(v) is exactly `mImpl->constant(v)` and the object is
//     { vptr at 0, mImpl at 8 }, 16 bytes.
//   * apiv::VExprBuilder derives from apiv::VRoot (only a virtual destructor: slots 0-1) and
//     declares, in order: 2 constant(int64_t), 3 operation(...), 4 declareSizeTensor(...).
// We declare only what we call: the mImpl member and slot 2. Slots 3 and 4 are left out (they
// come after the one we use, so they do not move it).
class ExprBuilderImpl {   // apiv::VExprBuilder
public:
    virtual ~ExprBuilderImpl() noexcept = default;                       // slots 0-1
    virtual const DimensionExpr* constant(int64_t value) noexcept = 0;   // slot 2
};

class ExprBuilder {       // IExprBuilder: never constructed by us, only received by reference
public:
    const DimensionExpr* constant(int64_t value) noexcept { return mImpl->constant(value); }

protected:
    virtual ~ExprBuilder() noexcept = default;   // INoCopy's virtual destructor: the vptr at 0
    ExprBuilderImpl* mImpl;                      // at offset 8 (the size below leaves no other place)
};

static_assert(sizeof(ExprBuilderImpl) == 8, "VExprBuilder is one vtable pointer");
static_assert(sizeof(ExprBuilder) == 16 && alignof(ExprBuilder) == 8,
              "IExprBuilder is a vtable pointer followed by mImpl (offset 8)");

} // namespace trt
} // namespace msn

#endif // MSN_TRT_ABI_H
