// op_glue.h - what every op's ONNX Runtime glue shares: type and shape strings, the Tensor view of
// an input, KernelBase (error messages that name the node, input reading, output allocation, the
// intra-op thread pool), row chunking, the node name, and the OrtCustomOp builder (MakeOp).
// Moved here unchanged from msn_custom_ops.cc so that ops in their own folders (ops/msn_layer/) use
// the same glue; everything is inline and lives in namespace msn::glue.
#ifndef MSN_OP_GLUE_H_
#define MSN_OP_GLUE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "msn_ort_abi.h"

namespace msn::glue {

using ort::Api;

inline constexpr const char* kDomain = "msn";

inline std::string TypeName(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    default: return "onnx type " + std::to_string(static_cast<int>(t));
  }
}

inline std::string ShapeString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

inline std::string At(int64_t row, int64_t col) { return "[" + std::to_string(row) + ", " + std::to_string(col) + "]"; }

struct Tensor {
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<int64_t> dims;
  void* data = nullptr;
};

// What every kernel instance knows: the API table and who it is, for error messages.
class KernelBase {
 public:
  KernelBase(const OrtApi* table, const char* op_type, std::string node_name)
      : api_(table), op_type_(op_type), node_(std::move(node_name)) {}

  // "msn.SparseGather node 'sg0': <what>"
  OrtStatus* Fail(OrtErrorCode code, const std::string& what) const {
    const std::string msg = std::string(kDomain) + "." + op_type_ + " node '" + node_ + "': " + what;
    return api_.CreateStatus(code, msg.c_str());
  }

  OrtStatus* ReadInput(OrtKernelContext* ctx, size_t index, Tensor* out) const {
    const OrtValue* value = nullptr;
    if (OrtStatus* st = api_.KernelContextGetInput(ctx, index, &value)) return st;
    if (value == nullptr) return Fail(ORT_INVALID_ARGUMENT, "input " + std::to_string(index) + " is missing");
    OrtTensorTypeAndShapeInfo* info = nullptr;
    if (OrtStatus* st = api_.GetTensorTypeAndShape(value, &info)) return st;
    size_t rank = 0;
    OrtStatus* st = api_.GetTensorElementType(info, &out->type);
    if (st == nullptr) st = api_.GetDimensionsCount(info, &rank);
    if (st == nullptr) {
      out->dims.assign(rank, 0);
      st = api_.GetDimensions(info, out->dims.data(), rank);
    }
    api_.ReleaseTensorTypeAndShapeInfo(info);
    if (st != nullptr) return st;
    return api_.GetTensorMutableData(const_cast<OrtValue*>(value), &out->data);
  }

  OrtStatus* AllocOutput(OrtKernelContext* ctx, size_t index, const std::vector<int64_t>& dims, void** data) const {
    OrtValue* value = nullptr;
    if (OrtStatus* st = api_.KernelContextGetOutput(ctx, index, dims.data(), dims.size(), &value)) return st;
    return api_.GetTensorMutableData(value, data);
  }

  // Runs fn(user, c) for c in [0, chunks) on ORT's intra-op pool (inline when there is one chunk).
  OrtStatus* ParallelFor(OrtKernelContext* ctx, void (*fn)(void*, size_t), size_t chunks, void* user) const {
    if (chunks == 0) return nullptr;
    if (chunks == 1) {
      fn(user, 0);
      return nullptr;
    }
    return api_.KernelContextParallelFor(ctx, fn, chunks, 0, user);
  }

 protected:
  Api api_;
  const char* op_type_;
  std::string node_;
};

// Splits n rows into chunks of at least ~kChunkWork units of work, and at most kMaxChunks chunks.
inline int64_t RowsPerChunk(int64_t n, double work_per_row) {
  constexpr double kChunkWork = 16384.0;
  constexpr int64_t kMaxChunks = 256;
  int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(kChunkWork / std::max(1.0, work_per_row)));
  if ((n + rows - 1) / rows > kMaxChunks) rows = (n + kMaxChunks - 1) / kMaxChunks;
  return rows;
}

inline void RecordMin(std::atomic<int64_t>& slot, int64_t value) {
  int64_t current = slot.load(std::memory_order_relaxed);
  while (value < current && !slot.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

inline OrtStatus* ReadNodeName(const Api& api, const OrtKernelInfo* info, std::string* name) {
  size_t size = 0;
  if (OrtStatus* st = api.KernelInfoGetNodeName(info, nullptr, &size)) return st;
  std::string buf(size, '\0');
  if (size > 0) {
    if (OrtStatus* st = api.KernelInfoGetNodeName(info, buf.data(), &size)) return st;
    buf.resize(size > 0 ? size - 1 : 0);  // size counts the terminating NUL
  }
  *name = buf.empty() ? std::string("<unnamed>") : buf;
  return nullptr;
}

// An OrtCustomOp plus the one fact that differs between our registered variants.
struct MsnOp {
  OrtCustomOp ort;
  ONNXTensorElementDataType score_type;  // PKMRetrieval only: float32 or float16
};

inline const MsnOp* AsMsnOp(const OrtCustomOp* op) { return reinterpret_cast<const MsnOp*>(op); }

// Shared OrtCustomOp members.

inline const char* CpuProvider(const OrtCustomOp*) noexcept { return nullptr; }
inline OrtCustomOpInputOutputCharacteristic Required(const OrtCustomOp*, size_t) noexcept { return INPUT_OUTPUT_REQUIRED; }
inline OrtMemType DefaultMemory(const OrtCustomOp*, size_t) noexcept { return OrtMemTypeDefault; }
inline int NotVariadic(const OrtCustomOp*) noexcept { return 1; }
inline int SinceVersion1(const OrtCustomOp*) noexcept { return 1; }

constexpr OrtCustomOp MakeOp(const char* (*name)(const OrtCustomOp*),
                             ONNXTensorElementDataType (*input_type)(const OrtCustomOp*, size_t),
                             size_t (*input_count)(const OrtCustomOp*),
                             ONNXTensorElementDataType (*output_type)(const OrtCustomOp*, size_t),
                             size_t (*output_count)(const OrtCustomOp*),
                             OrtStatus* (*create)(const OrtCustomOp*, const OrtApi*, const OrtKernelInfo*, void**),
                             OrtStatus* (*compute)(void*, OrtKernelContext*), void (*destroy)(void*)) {
  return OrtCustomOp{
      MSN_ORT_API_VERSION,
      nullptr,  // CreateKernel: superseded by CreateKernelV2
      name,
      &CpuProvider,
      input_type,
      input_count,
      output_type,
      output_count,
      nullptr,  // KernelCompute: superseded by KernelComputeV2
      destroy,
      &Required,
      &Required,
      &DefaultMemory,
      &NotVariadic,
      &NotVariadic,
      &NotVariadic,
      &NotVariadic,
      create,
      compute,
      nullptr,  // InferOutputShapeFn: ORT infers the output element types from the declared types
      &SinceVersion1,
      nullptr,  // GetEndVersion: open-ended
  };
}

}  // namespace msn::glue

#endif  // MSN_OP_GLUE_H_
