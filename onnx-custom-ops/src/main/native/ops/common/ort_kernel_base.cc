// ort_kernel_base.cc - see ort_kernel_base.h.
#include "ort_kernel_base.h"

#include <algorithm>

namespace msn {

using ort::Api;

std::string TypeName(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN: return "float8e4m3fn";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    default: return "onnx type " + std::to_string(static_cast<int>(t));
  }
}

std::string ShapeString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string At(int64_t row, int64_t col) { return "[" + std::to_string(row) + ", " + std::to_string(col) + "]"; }

OrtStatus* KernelBase::Fail(OrtErrorCode code, const std::string& what) const {
  const std::string msg = std::string(op_) + " node '" + node_ + "': " + what;
  return api_.CreateStatus(code, msg.c_str());
}

OrtStatus* KernelBase::ReadInput(OrtKernelContext* ctx, size_t index, Tensor* out) const {
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

OrtStatus* KernelBase::AllocOutput(OrtKernelContext* ctx, size_t index, const std::vector<int64_t>& dims,
                                   void** data) const {
  OrtValue* value = nullptr;
  if (OrtStatus* st = api_.KernelContextGetOutput(ctx, index, dims.data(), dims.size(), &value)) return st;
  return api_.GetTensorMutableData(value, data);
}

OrtStatus* KernelBase::ParallelFor(OrtKernelContext* ctx, void (*fn)(void*, size_t), size_t chunks,
                                   void* user) const {
  if (chunks == 0) return nullptr;
  if (chunks == 1) {
    fn(user, 0);
    return nullptr;
  }
  return api_.KernelContextParallelFor(ctx, fn, chunks, 0, user);
}

int64_t RowsPerChunk(int64_t n, double work_per_row) {
  constexpr double kChunkWork = 16384.0;
  constexpr int64_t kMaxChunks = 256;
  int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(kChunkWork / std::max(1.0, work_per_row)));
  if ((n + rows - 1) / rows > kMaxChunks) rows = (n + kMaxChunks - 1) / kMaxChunks;
  return rows;
}

void RecordMin(std::atomic<int64_t>& slot, int64_t value) {
  int64_t current = slot.load(std::memory_order_relaxed);
  while (value < current && !slot.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

OrtStatus* ReadNodeName(const Api& api, const OrtKernelInfo* info, std::string* name) {
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

}  // namespace msn
