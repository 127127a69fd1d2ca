// msn_ort_abi.h - the part of the ONNX Runtime C ABI that libmsn_ort_ops uses, and nothing else.
//
// No package registry ships ONNX Runtime's headers, and we do not copy them. Every declaration
// below was written by us from facts read in the public onnxruntime_c_api.h (OrtApi and
// OrtCustomOp layouts) and onnxruntime_c_api.cc (the ort_api_1_to_N table, its "End of Version N"
// markers and its static_asserts on slot numbers), cross-checked against the 1.29.0 binary that
// the pom pins. One comment per fact. OrtApi only ever grows at its end (slots are never
// reordered or removed once a version ships), so a slot number learned from any release at or
// after the one that introduced the entry holds for 1.29 and later releases.
//
// The proof that these facts are right is OrtAbiTest (src/test/java): it loads this library into
// the pinned ONNX Runtime and runs both ops; a wrong slot or layout fails or crashes that test.
#ifndef MSN_ORT_ABI_H_
#define MSN_ORT_ABI_H_

#include <cstddef>
#include <cstdint>

// The OrtApi version we ask for. 17 is the lowest version that has every slot we call
// (KernelContext_ParallelFor, slot 274, arrived in version 17 = ONNX Runtime 1.17), so the
// library runs on ONNX Runtime 1.17 or newer; 1.29 (pinned) serves API versions 1..29.
#define MSN_ORT_API_VERSION 17u

// Every ORT_API_CALL is the platform default calling convention on Linux x86-64 (empty macro).
extern "C" {

// Opaque ORT handle types: we only ever pass pointers to them back to ORT.
struct OrtApi;
struct OrtStatus;
struct OrtSessionOptions;
struct OrtCustomOpDomain;
struct OrtKernelInfo;
struct OrtKernelContext;
struct OrtValue;
struct OrtTensorTypeAndShapeInfo;
struct OrtShapeInferContext;

// OrtErrorCode is a C enum (int-sized); only the codes we return or check are listed.
enum OrtErrorCode : int {
  ORT_OK = 0, ORT_FAIL = 1, ORT_INVALID_ARGUMENT = 2, ORT_RUNTIME_EXCEPTION = 6, ORT_INVALID_GRAPH = 10,
};

// ONNXTensorElementDataType is a C enum whose values are onnx.TensorProto.DataType numbers.
enum ONNXTensorElementDataType : int {
  // 0 = undefined; as a custom-op input type it means "any type, checked by the kernel".
  ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED = 0,
  // 1 = float32.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1,
  // 3 = int8 (quantized value tables).
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 = 3,
  // 6 = int32.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 = 6,
  // 7 = int64.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 = 7,
  // 10 = IEEE float16.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 = 10,
  // 11 = float64.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE = 11,
  // 16 = bfloat16.
  ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 = 16,
  // 17 = float8 E4M3FN (quantized value tables).
  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN = 17,
};

// OrtMemType is a C enum; 0 = OrtMemTypeDefault (the execution provider's own memory, CPU here).
enum OrtMemType : int { OrtMemTypeDefault = 0 };

// OrtCustomOpInputOutputCharacteristic is a C enum; 0 = INPUT_OUTPUT_REQUIRED, 1 = INPUT_OUTPUT_OPTIONAL.
enum OrtCustomOpInputOutputCharacteristic : int { INPUT_OUTPUT_REQUIRED = 0, INPUT_OUTPUT_OPTIONAL = 1 };

// OrtApiBase is exactly two function pointers and is frozen forever (it carries no version).
struct OrtApiBase {
  // Slot 0: returns the OrtApi table for a requested version, or nullptr if the runtime is older.
  const OrtApi* (*GetApi)(uint32_t version) noexcept;
  // Slot 1: returns the runtime's version string, e.g. "1.29.0".
  const char* (*GetVersionString)(void) noexcept;
};

// The entry point ORT looks up (dlsym) in a library given to RegisterCustomOpsLibrary; the Java
// binding's SessionOptions.registerCustomOpLibrary(path) goes through it. Our one export.
OrtStatus* RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base);

// OrtCustomOp: a versioned struct that we fill and ORT reads. `version` tells ORT how many of the
// members below exist; ORT reads a member only when `version` is at least the version that added
// it. We declare every member up to version 17 and set version = MSN_ORT_API_VERSION.
struct OrtCustomOp {
  // First member: a uint32_t version (then 4 bytes of padding before the first pointer).
  uint32_t version;
  // Legacy kernel factory; ORT calls it only when CreateKernelV2 is null or version < 16.
  void* (*CreateKernel)(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info);
  // The op type the node must carry (e.g. "PKMRetrieval").
  const char* (*GetName)(const OrtCustomOp* op);
  // Execution provider name; nullptr means the CPU provider.
  const char* (*GetExecutionProviderType)(const OrtCustomOp* op);
  // Element type of input `index` (UNDEFINED = any type).
  ONNXTensorElementDataType (*GetInputType)(const OrtCustomOp* op, size_t index);
  // Number of inputs.
  size_t (*GetInputTypeCount)(const OrtCustomOp* op);
  // Element type of output `index`.
  ONNXTensorElementDataType (*GetOutputType)(const OrtCustomOp* op, size_t index);
  // Number of outputs.
  size_t (*GetOutputTypeCount)(const OrtCustomOp* op);
  // Legacy compute (no status); ORT calls it only when KernelComputeV2 is null or version < 16.
  void (*KernelCompute)(void* op_kernel, OrtKernelContext* context);
  // Destroys what CreateKernel/CreateKernelV2 returned.
  void (*KernelDestroy)(void* op_kernel);
  // Version 8: required/optional/variadic for input `index`.
  OrtCustomOpInputOutputCharacteristic (*GetInputCharacteristic)(const OrtCustomOp* op, size_t index);
  // Version 8: required/optional/variadic for output `index`.
  OrtCustomOpInputOutputCharacteristic (*GetOutputCharacteristic)(const OrtCustomOp* op, size_t index);
  // Version 13: memory type of input `index` (read when version > 12).
  OrtMemType (*GetInputMemoryType)(const OrtCustomOp* op, size_t index);
  // Version 14: minimum arity of a variadic last input.
  int (*GetVariadicInputMinArity)(const OrtCustomOp* op);
  // Version 14: whether a variadic last input is homogeneous.
  int (*GetVariadicInputHomogeneity)(const OrtCustomOp* op);
  // Version 14: minimum arity of a variadic last output.
  int (*GetVariadicOutputMinArity)(const OrtCustomOp* op);
  // Version 14: whether a variadic last output is homogeneous.
  int (*GetVariadicOutputHomogeneity)(const OrtCustomOp* op);
  // Version 16: kernel factory that can fail with a status (used when non-null).
  OrtStatus* (*CreateKernelV2)(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info,
                               void** kernel);
  // Version 16: compute that returns a status, so errors reach the caller (used when non-null).
  OrtStatus* (*KernelComputeV2)(void* op_kernel, OrtKernelContext* context);
  // Version 17: optional type/shape inference hook (may be null).
  OrtStatus* (*InferOutputShapeFn)(const OrtCustomOp* op, OrtShapeInferContext* context);
  // Version 17: first opset version of the custom domain this op exists in.
  int (*GetStartVersion)(const OrtCustomOp* op);
  // Version 17: last opset version of the custom domain this op exists in.
  int (*GetEndVersion)(const OrtCustomOp* op);
};

}  // extern "C"

// Our declarations have the layouts stated above (8-byte pointers on x86-64).
static_assert(sizeof(OrtApiBase) == 2 * sizeof(void*), "OrtApiBase is two function pointers");
static_assert(sizeof(OrtCustomOp) == 8 + 21 * sizeof(void*), "OrtCustomOp v17: version + 21 function pointers");

namespace msn::ort {

// OrtApi is a table of function pointers; an entry's position (slot) never changes once released.
// We read it as an array of untyped function pointers and cast each slot to its real signature.
using AnyFn = void (*)(void);

// Slot 0: OrtStatus* CreateStatus(OrtErrorCode code, const char* msg) - copies msg.
inline constexpr size_t kCreateStatus = 0;
// Slot 26: OrtStatus* CreateCustomOpDomain(const char* domain, OrtCustomOpDomain** out).
inline constexpr size_t kCreateCustomOpDomain = 26;
// Slot 27: OrtStatus* CustomOpDomain_Add(OrtCustomOpDomain*, const OrtCustomOp* op) - op must outlive the domain.
inline constexpr size_t kCustomOpDomainAdd = 27;
// Slot 28: OrtStatus* AddCustomOpDomain(OrtSessionOptions*, OrtCustomOpDomain*) - domain must outlive sessions.
inline constexpr size_t kAddCustomOpDomain = 28;
// Slot 51: OrtStatus* GetTensorMutableData(OrtValue* value, void** out).
inline constexpr size_t kGetTensorMutableData = 51;
// Slot 60: OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo*, ONNXTensorElementDataType* out).
inline constexpr size_t kGetTensorElementType = 60;
// Slot 61: OrtStatus* GetDimensionsCount(const OrtTensorTypeAndShapeInfo*, size_t* out).
inline constexpr size_t kGetDimensionsCount = 61;
// Slot 62: OrtStatus* GetDimensions(const OrtTensorTypeAndShapeInfo*, int64_t* dims, size_t dims_length).
inline constexpr size_t kGetDimensions = 62;
// Slot 65: OrtStatus* GetTensorTypeAndShape(const OrtValue*, OrtTensorTypeAndShapeInfo** out) - caller releases.
inline constexpr size_t kGetTensorTypeAndShape = 65;
// Slot 85: OrtStatus* KernelInfoGetAttribute_float(const OrtKernelInfo*, const char* name, float* out)
//          (the table lists _float, _int64, _string in a row, right before KernelContext_GetInputCount).
inline constexpr size_t kKernelInfoGetAttributeFloat = 85;
// Slot 86: OrtStatus* KernelInfoGetAttribute_int64(const OrtKernelInfo*, const char* name, int64_t* out).
inline constexpr size_t kKernelInfoGetAttributeInt64 = 86;
// Slot 87: OrtStatus* KernelInfoGetAttribute_string(const OrtKernelInfo*, const char* name, char* out,
//          size_t* size); out == nullptr asks for the size including the terminating NUL.
inline constexpr size_t kKernelInfoGetAttributeString = 87;
// Slot 90: OrtStatus* KernelContext_GetInput(const OrtKernelContext*, size_t index, const OrtValue** out).
inline constexpr size_t kKernelContextGetInput = 90;
// Slot 91: OrtStatus* KernelContext_GetOutput(OrtKernelContext*, size_t index, const int64_t* dims,
//          size_t dim_count, OrtValue** out) - allocates the output with that shape.
inline constexpr size_t kKernelContextGetOutput = 91;
// Slot 93: void ReleaseStatus(OrtStatus*).
inline constexpr size_t kReleaseStatus = 93;
// Slot 99: void ReleaseTensorTypeAndShapeInfo(OrtTensorTypeAndShapeInfo*).
inline constexpr size_t kReleaseTensorTypeAndShapeInfo = 99;
// Slot 244 (version 15): OrtStatus* KernelInfo_GetNodeName(const OrtKernelInfo*, char* out, size_t* size);
//          out == nullptr asks for the size including the terminating NUL.
inline constexpr size_t kKernelInfoGetNodeName = 244;
// Slot 274 (version 17): OrtStatus* KernelContext_ParallelFor(const OrtKernelContext*,
//          void (*fn)(void* user, size_t i), size_t total, size_t num_batch, void* user) - runs
//          fn(user, i) for i in [0, total) on the session's intra-op thread pool and returns when
//          all are done; num_batch == 0 lets ORT schedule each i as its own work item.
inline constexpr size_t kKernelContextParallelFor = 274;

// Typed view of the OrtApi table, one method per slot above.
class Api {
 public:
  explicit Api(const OrtApi* table) : slots_(reinterpret_cast<const AnyFn*>(table)) {}

  OrtStatus* CreateStatus(OrtErrorCode code, const char* msg) const {
    return Slot<OrtStatus* (*)(OrtErrorCode, const char*)>(kCreateStatus)(code, msg);
  }
  OrtStatus* CreateCustomOpDomain(const char* domain, OrtCustomOpDomain** out) const {
    return Slot<OrtStatus* (*)(const char*, OrtCustomOpDomain**)>(kCreateCustomOpDomain)(domain, out);
  }
  OrtStatus* CustomOpDomainAdd(OrtCustomOpDomain* domain, const OrtCustomOp* op) const {
    return Slot<OrtStatus* (*)(OrtCustomOpDomain*, const OrtCustomOp*)>(kCustomOpDomainAdd)(domain, op);
  }
  OrtStatus* AddCustomOpDomain(OrtSessionOptions* options, OrtCustomOpDomain* domain) const {
    return Slot<OrtStatus* (*)(OrtSessionOptions*, OrtCustomOpDomain*)>(kAddCustomOpDomain)(options, domain);
  }
  OrtStatus* GetTensorMutableData(OrtValue* value, void** out) const {
    return Slot<OrtStatus* (*)(OrtValue*, void**)>(kGetTensorMutableData)(value, out);
  }
  OrtStatus* GetTensorElementType(const OrtTensorTypeAndShapeInfo* info, ONNXTensorElementDataType* out) const {
    return Slot<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, ONNXTensorElementDataType*)>(
        kGetTensorElementType)(info, out);
  }
  OrtStatus* GetDimensionsCount(const OrtTensorTypeAndShapeInfo* info, size_t* out) const {
    return Slot<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*)>(kGetDimensionsCount)(info, out);
  }
  OrtStatus* GetDimensions(const OrtTensorTypeAndShapeInfo* info, int64_t* dims, size_t n) const {
    return Slot<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t)>(kGetDimensions)(info, dims, n);
  }
  OrtStatus* GetTensorTypeAndShape(const OrtValue* value, OrtTensorTypeAndShapeInfo** out) const {
    return Slot<OrtStatus* (*)(const OrtValue*, OrtTensorTypeAndShapeInfo**)>(kGetTensorTypeAndShape)(value, out);
  }
  OrtStatus* KernelInfoGetAttributeInt64(const OrtKernelInfo* info, const char* name, int64_t* out) const {
    return Slot<OrtStatus* (*)(const OrtKernelInfo*, const char*, int64_t*)>(kKernelInfoGetAttributeInt64)(
        info, name, out);
  }
  OrtStatus* KernelInfoGetAttributeFloat(const OrtKernelInfo* info, const char* name, float* out) const {
    return Slot<OrtStatus* (*)(const OrtKernelInfo*, const char*, float*)>(kKernelInfoGetAttributeFloat)(info, name,
                                                                                                         out);
  }
  OrtStatus* KernelInfoGetAttributeString(const OrtKernelInfo* info, const char* name, char* out,
                                          size_t* size) const {
    return Slot<OrtStatus* (*)(const OrtKernelInfo*, const char*, char*, size_t*)>(kKernelInfoGetAttributeString)(
        info, name, out, size);
  }
  OrtStatus* KernelContextGetInput(const OrtKernelContext* ctx, size_t index, const OrtValue** out) const {
    return Slot<OrtStatus* (*)(const OrtKernelContext*, size_t, const OrtValue**)>(kKernelContextGetInput)(
        ctx, index, out);
  }
  OrtStatus* KernelContextGetOutput(OrtKernelContext* ctx, size_t index, const int64_t* dims, size_t n,
                                    OrtValue** out) const {
    return Slot<OrtStatus* (*)(OrtKernelContext*, size_t, const int64_t*, size_t, OrtValue**)>(
        kKernelContextGetOutput)(ctx, index, dims, n, out);
  }
  void ReleaseStatus(OrtStatus* status) const { Slot<void (*)(OrtStatus*)>(kReleaseStatus)(status); }
  void ReleaseTensorTypeAndShapeInfo(OrtTensorTypeAndShapeInfo* info) const {
    Slot<void (*)(OrtTensorTypeAndShapeInfo*)>(kReleaseTensorTypeAndShapeInfo)(info);
  }
  OrtStatus* KernelInfoGetNodeName(const OrtKernelInfo* info, char* out, size_t* size) const {
    return Slot<OrtStatus* (*)(const OrtKernelInfo*, char*, size_t*)>(kKernelInfoGetNodeName)(info, out, size);
  }
  OrtStatus* KernelContextParallelFor(const OrtKernelContext* ctx, void (*fn)(void*, size_t), size_t total,
                                      size_t num_batch, void* user) const {
    return Slot<OrtStatus* (*)(const OrtKernelContext*, void (*)(void*, size_t), size_t, size_t, void*)>(
        kKernelContextParallelFor)(ctx, fn, total, num_batch, user);
  }

 private:
  template <typename Fn>
  Fn Slot(size_t index) const {
    return reinterpret_cast<Fn>(slots_[index]);
  }
  const AnyFn* slots_;
};

}  // namespace msn::ort

#endif  // MSN_ORT_ABI_H_
