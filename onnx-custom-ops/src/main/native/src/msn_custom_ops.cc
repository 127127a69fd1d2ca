// msn_custom_ops.cc - ONNX Runtime glue for the custom domain "msn": op descriptions, kernel
// creation, input validation, threading, and the library's only export, RegisterCustomOps.
// The arithmetic lives in pkm_retrieval_kernel.cc and sparse_gather_kernel.cc.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "half_float.h"
#include "msn_ort_abi.h"
#include "pkm_retrieval_kernel.h"
#include "quant_rows.h"
#include "sparse_gather_kernel.h"

namespace msn {
namespace {

using ort::Api;

constexpr const char* kDomain = "msn";
constexpr const char* kPkmRetrieval = "PKMRetrieval";
constexpr const char* kSparseGather = "SparseGather";

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

// An OrtCustomOp plus the one fact that differs between our registered variants.
struct MsnOp {
  OrtCustomOp ort;
  ONNXTensorElementDataType score_type;  // PKMRetrieval only: float32 or float16
};

const MsnOp* AsMsnOp(const OrtCustomOp* op) { return reinterpret_cast<const MsnOp*>(op); }

// ============================================================================================
// PKMRetrieval(row_scores [N, S], col_scores [N, S]) -> (weights [N, k], indices int64 [N, k])
// ============================================================================================

class PkmRetrievalOp : public KernelBase {
 public:
  PkmRetrievalOp(const OrtApi* table, std::string node, int64_t k, ONNXTensorElementDataType type)
      : KernelBase(table, kPkmRetrieval, std::move(node)), k_(k), type_(type) {}

  OrtStatus* Compute(OrtKernelContext* ctx) const;

 private:
  // Reads the optional 4th input 'scales' of a quantized table and checks the table (once per
  // table: initializers keep their buffers, so the check is cached by address).
  OrtStatus* ReadScales(OrtKernelContext* ctx, const Tensor& values, SparseGatherArgs* a) const;
  mutable std::mutex checked_mutex_;
  mutable const void* checked_values_ = nullptr;
  mutable const void* checked_scales_ = nullptr;

  struct Job {
    const void* row = nullptr;
    const void* col = nullptr;
    bool half = false;
    int64_t n = 0, s = 0, k = 0, rows_per_chunk = 1;
    void* weights = nullptr;
    int64_t* slots = nullptr;
    std::atomic<int64_t> first_nan{std::numeric_limits<int64_t>::max()};  // row*2S + input*S + pos
    std::atomic<bool> internal_error{false};
  };
  static void RunChunk(void* user, size_t chunk);

  int64_t k_;
  ONNXTensorElementDataType type_;
};

// Returns the position of the first NaN in x[0, s), or -1.
int64_t FirstNan(const float* x, int64_t s) {
  bool any = false;
  for (int64_t t = 0; t < s; ++t) any |= (x[t] != x[t]);
  if (!any) return -1;
  for (int64_t t = 0; t < s; ++t) {
    if (x[t] != x[t]) return t;
  }
  return -1;
}

void PkmRetrievalOp::RunChunk(void* user, size_t chunk) {
  Job* job = static_cast<Job*>(user);
  try {
    const int64_t s = job->s;
    const int64_t k = job->k;
    const int64_t begin = static_cast<int64_t>(chunk) * job->rows_per_chunk;
    const int64_t end = std::min(job->n, begin + job->rows_per_chunk);
    PkmRetrievalKernel kernel(s, k);
    std::vector<float> a_buf(job->half ? s : 0), b_buf(job->half ? s : 0), w_buf(job->half ? k : 0);
    for (int64_t r = begin; r < end; ++r) {
      const float* a;
      const float* b;
      if (job->half) {
        const uint16_t* ah = static_cast<const uint16_t*>(job->row) + r * s;
        const uint16_t* bh = static_cast<const uint16_t*>(job->col) + r * s;
        for (int64_t t = 0; t < s; ++t) a_buf[t] = HalfToFloat(ah[t]);
        for (int64_t t = 0; t < s; ++t) b_buf[t] = HalfToFloat(bh[t]);
        a = a_buf.data();
        b = b_buf.data();
      } else {
        a = static_cast<const float*>(job->row) + r * s;
        b = static_cast<const float*>(job->col) + r * s;
      }
      const int64_t nan_a = FirstNan(a, s);
      const int64_t nan_b = nan_a >= 0 ? -1 : FirstNan(b, s);
      if (nan_a >= 0 || nan_b >= 0) {
        RecordMin(job->first_nan, r * 2 * s + (nan_a >= 0 ? nan_a : s + nan_b));
        return;  // later rows of this chunk cannot hold an earlier NaN
      }
      int64_t* slots = job->slots + r * k;
      if (job->half) {
        kernel.Retrieve(a, b, w_buf.data(), slots);
        uint16_t* w = static_cast<uint16_t*>(job->weights) + r * k;
        for (int64_t m = 0; m < k; ++m) w[m] = FloatToHalf(w_buf[m]);
      } else {
        kernel.Retrieve(a, b, static_cast<float*>(job->weights) + r * k, slots);
      }
    }
  } catch (...) {
    job->internal_error.store(true);
  }
}

OrtStatus* PkmRetrievalOp::Compute(OrtKernelContext* ctx) const {
  Tensor row, col;
  if (OrtStatus* st = ReadInput(ctx, 0, &row)) return st;
  if (OrtStatus* st = ReadInput(ctx, 1, &col)) return st;
  const Tensor* inputs[2] = {&row, &col};
  const char* names[2] = {"row_scores", "col_scores"};
  for (int i = 0; i < 2; ++i) {
    if (inputs[i]->type != type_) {
      return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + names[i] + "' has element type " +
                                            TypeName(inputs[i]->type) + ", expected " + TypeName(type_));
    }
    if (inputs[i]->dims.size() != 2) {
      return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + names[i] + "' must have rank 2 [N, S], got shape " +
                                            ShapeString(inputs[i]->dims));
    }
  }
  if (row.dims != col.dims) {
    return Fail(ORT_INVALID_ARGUMENT, "inputs 'row_scores' " + ShapeString(row.dims) + " and 'col_scores' " +
                                          ShapeString(col.dims) + " must have the same shape [N, S]");
  }
  const int64_t n = row.dims[0];
  const int64_t s = row.dims[1];
  if (s > kMaxSubKeys) {
    return Fail(ORT_INVALID_ARGUMENT, "S = " + std::to_string(s) + " (dim 1 of 'row_scores') exceeds the supported " +
                                          std::to_string(kMaxSubKeys) + " (slots i*S+j must fit in 32 bits)");
  }
  if (k_ > s) {
    return Fail(ORT_INVALID_ARGUMENT, "attribute k = " + std::to_string(k_) + " exceeds S = " + std::to_string(s) +
                                          " (dim 1 of 'row_scores'); need 1 <= k <= S");
  }

  const std::vector<int64_t> out_dims = {n, k_};
  Job job;
  job.half = (type_ == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
  job.row = row.data;
  job.col = col.data;
  job.n = n;
  job.s = s;
  job.k = k_;
  if (OrtStatus* st = AllocOutput(ctx, 0, out_dims, &job.weights)) return st;
  void* slots = nullptr;
  if (OrtStatus* st = AllocOutput(ctx, 1, out_dims, &slots)) return st;
  job.slots = static_cast<int64_t*>(slots);
  if (n == 0) return nullptr;

  job.rows_per_chunk = RowsPerChunk(n, 2.0 * static_cast<double>(s) + 16.0 * static_cast<double>(k_));
  const size_t chunks = static_cast<size_t>((n + job.rows_per_chunk - 1) / job.rows_per_chunk);
  if (OrtStatus* st = ParallelFor(ctx, &RunChunk, chunks, &job)) return st;

  if (job.internal_error.load()) return Fail(ORT_RUNTIME_EXCEPTION, "internal error (out of memory?)");
  const int64_t nan_at = job.first_nan.load();
  if (nan_at != std::numeric_limits<int64_t>::max()) {
    const int64_t r = nan_at / (2 * s);
    const int64_t rest = nan_at % (2 * s);
    const char* which = rest < s ? "row_scores" : "col_scores";
    return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + which + "' holds NaN at " + At(r, rest % s));
  }
  return nullptr;
}

OrtStatus* PkmCreateKernel(const OrtCustomOp* op, const OrtApi* table, const OrtKernelInfo* info,
                           void** kernel) noexcept {
  Api api(table);
  try {
    std::string node;
    if (OrtStatus* st = ReadNodeName(api, info, &node)) return st;
    const KernelBase failer(table, kPkmRetrieval, node);
    int64_t k = 0;
    if (OrtStatus* st = api.KernelInfoGetAttributeInt64(info, "k", &k)) {
      api.ReleaseStatus(st);
      return failer.Fail(ORT_INVALID_GRAPH, "required int attribute 'k' is missing or not an int");
    }
    if (k < 1) {
      return failer.Fail(ORT_INVALID_GRAPH, "attribute k = " + std::to_string(k) + " must be >= 1 (and <= S)");
    }
    *kernel = new PkmRetrievalOp(table, node, k, AsMsnOp(op)->score_type);
    return nullptr;
  } catch (const std::exception& e) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, "msn.PKMRetrieval: unknown error creating the kernel");
  }
}

OrtStatus* PkmCompute(void* kernel, OrtKernelContext* ctx) noexcept {
  try {
    return static_cast<const PkmRetrievalOp*>(kernel)->Compute(ctx);
  } catch (const std::exception& e) {
    return static_cast<const PkmRetrievalOp*>(kernel)->Fail(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return static_cast<const PkmRetrievalOp*>(kernel)->Fail(ORT_RUNTIME_EXCEPTION, "unknown error");
  }
}

void PkmDestroy(void* kernel) noexcept { delete static_cast<PkmRetrievalOp*>(kernel); }

const char* PkmName(const OrtCustomOp*) noexcept { return kPkmRetrieval; }
size_t PkmInputCount(const OrtCustomOp*) noexcept { return 2; }
size_t PkmOutputCount(const OrtCustomOp*) noexcept { return 2; }
ONNXTensorElementDataType PkmInputType(const OrtCustomOp* op, size_t) noexcept { return AsMsnOp(op)->score_type; }
ONNXTensorElementDataType PkmOutputType(const OrtCustomOp* op, size_t index) noexcept {
  return index == 0 ? AsMsnOp(op)->score_type : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
}

// ============================================================================================
// SparseGather(values [M, D], indices int64 [N, K], weights [N, K]) -> out float32 [N, D]
// ============================================================================================

class SparseGatherOp : public KernelBase {
 public:
  SparseGatherOp(const OrtApi* table, std::string node) : KernelBase(table, kSparseGather, std::move(node)) {}

  OrtStatus* Compute(OrtKernelContext* ctx) const;

 private:
  // Reads the optional 4th input 'scales' of a quantized table and checks the table (once per
  // table: initializers keep their buffers, so the check is cached by address).
  OrtStatus* ReadScales(OrtKernelContext* ctx, const Tensor& values, SparseGatherArgs* a) const;
  mutable std::mutex checked_mutex_;
  mutable const void* checked_values_ = nullptr;
  mutable const void* checked_scales_ = nullptr;

  struct Job {
    SparseGatherArgs args;
    int64_t n = 0, rows_per_chunk = 1;
    std::atomic<bool> internal_error{false};
  };
  static void RunChunk(void* user, size_t chunk) {
    Job* job = static_cast<Job*>(user);
    try {
      const int64_t begin = static_cast<int64_t>(chunk) * job->rows_per_chunk;
      SparseGatherRows(job->args, begin, std::min(job->n, begin + job->rows_per_chunk));
    } catch (...) {
      job->internal_error.store(true);
    }
  }
};

OrtStatus* SparseGatherOp::Compute(OrtKernelContext* ctx) const {
  Tensor values, indices, weights;
  if (OrtStatus* st = ReadInput(ctx, 0, &values)) return st;
  if (OrtStatus* st = ReadInput(ctx, 1, &indices)) return st;
  if (OrtStatus* st = ReadInput(ctx, 2, &weights)) return st;

  Job job;
  SparseGatherArgs& a = job.args;
  switch (values.type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: a.value_type = ValueType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: a.value_type = ValueType::kFloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: a.value_type = ValueType::kBfloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: a.value_type = ValueType::kInt8; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN: a.value_type = ValueType::kFloat8E4M3; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT, "input 'values' has element type " + TypeName(values.type) +
                                            ", expected float32, float16 or bfloat16 (or a quantized int8 or float8e4m3fn table with 'scales')");
  }
  if (indices.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'indices' has element type " + TypeName(indices.type) +
                                          ", expected int64");
  }
  switch (weights.type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: a.weight_type = WeightType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: a.weight_type = WeightType::kFloat16; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT, "input 'weights' has element type " + TypeName(weights.type) +
                                            ", expected float32 or float16");
  }
  if (values.dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'values' must have rank 2 [M, D], got shape " + ShapeString(values.dims));
  }
  if (indices.dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'indices' must have rank 2 [N, K], got shape " +
                                          ShapeString(indices.dims));
  }
  if (weights.dims != indices.dims) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'weights' has shape " + ShapeString(weights.dims) +
                                          ", expected the shape of 'indices' " + ShapeString(indices.dims));
  }
  const int64_t m_rows = values.dims[0];
  const int64_t n = indices.dims[0];
  const int64_t k = indices.dims[1];
  a.d = values.dims[1];
  a.k = k;
  a.values = values.data;
  a.indices = static_cast<const int64_t*>(indices.data);
  a.weights = weights.data;
  if (OrtStatus* st = ReadScales(ctx, values, &a)) return st;

  // Every index is checked before any row of `values` is read; the first bad one is reported.
  const int64_t total = n * k;
  for (int64_t i = 0; i < total; ++i) {
    const int64_t v = a.indices[i];
    if (v < 0 || v >= m_rows) {
      return Fail(ORT_INVALID_ARGUMENT, "input 'indices' holds " + std::to_string(v) + " at " + At(i / k, i % k) +
                                            "; every index must lie in [0, M) with M = " + std::to_string(m_rows) +
                                            " (dim 0 of 'values')");
    }
  }

  void* out = nullptr;
  if (OrtStatus* st = AllocOutput(ctx, 0, {n, a.d}, &out)) return st;
  a.out = static_cast<float*>(out);
  if (n == 0 || a.d == 0) return nullptr;

  job.n = n;
  job.rows_per_chunk = RowsPerChunk(n, static_cast<double>(std::max<int64_t>(k, 1)) * static_cast<double>(a.d));
  const size_t chunks = static_cast<size_t>((n + job.rows_per_chunk - 1) / job.rows_per_chunk);
  if (OrtStatus* st = ParallelFor(ctx, &RunChunk, chunks, &job)) return st;
  if (job.internal_error.load()) return Fail(ORT_RUNTIME_EXCEPTION, "internal error (out of memory?)");
  return nullptr;
}

OrtStatus* SparseGatherOp::ReadScales(OrtKernelContext* ctx, const Tensor& values, SparseGatherArgs* a) const {
  const bool quantized = a->value_type == ValueType::kInt8 || a->value_type == ValueType::kFloat8E4M3;
  const OrtValue* present = nullptr;
  if (OrtStatus* st = api_.KernelContextGetInput(ctx, 3, &present)) {
    api_.ReleaseStatus(st);  // no fourth input
    present = nullptr;
  }
  if (present == nullptr) {
    if (!quantized) return nullptr;
    return Fail(ORT_INVALID_ARGUMENT, "input 'values' is " + TypeName(values.type) +
                                          " (a quantized table) but input 'scales' (the 4th, float32 [M]) is missing");
  }
  Tensor scales;
  if (OrtStatus* st = ReadInput(ctx, 3, &scales)) return st;
  if (!quantized) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'scales' is given but input 'values' is " + TypeName(values.type) +
                                          "; scales go with int8 or float8e4m3fn tables only");
  }
  if (scales.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'scales' has element type " + TypeName(scales.type) + ", expected float32");
  }
  if (scales.dims.size() != 1 || scales.dims[0] != values.dims[0]) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'scales' has shape " + ShapeString(scales.dims) + ", expected [" +
                                          std::to_string(values.dims[0]) + "] (dim 0 of 'values')");
  }
  a->scales = static_cast<const float*>(scales.data);
  std::lock_guard<std::mutex> lock(checked_mutex_);
  if (checked_values_ != values.data || checked_scales_ != scales.data) {
    const std::string bad = CheckQuantizedTable(a->value_type, values.data, a->scales, values.dims[0], values.dims[1]);
    if (!bad.empty()) return Fail(ORT_INVALID_ARGUMENT, bad);
    checked_values_ = values.data;
    checked_scales_ = scales.data;
  }
  return nullptr;
}

OrtStatus* SparseGatherCreateKernel(const OrtCustomOp*, const OrtApi* table, const OrtKernelInfo* info,
                                    void** kernel) noexcept {
  Api api(table);
  try {
    std::string node;
    if (OrtStatus* st = ReadNodeName(api, info, &node)) return st;
    *kernel = new SparseGatherOp(table, node);
    return nullptr;
  } catch (const std::exception& e) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, "msn.SparseGather: unknown error creating the kernel");
  }
}

OrtStatus* SparseGatherCompute(void* kernel, OrtKernelContext* ctx) noexcept {
  try {
    return static_cast<const SparseGatherOp*>(kernel)->Compute(ctx);
  } catch (const std::exception& e) {
    return static_cast<const SparseGatherOp*>(kernel)->Fail(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return static_cast<const SparseGatherOp*>(kernel)->Fail(ORT_RUNTIME_EXCEPTION, "unknown error");
  }
}

void SparseGatherDestroy(void* kernel) noexcept { delete static_cast<SparseGatherOp*>(kernel); }

const char* SparseGatherName(const OrtCustomOp*) noexcept { return kSparseGather; }
// values, indices, weights, and the optional scales of a quantized table.
size_t SparseGatherInputCount(const OrtCustomOp*) noexcept { return 4; }
OrtCustomOpInputOutputCharacteristic SparseGatherInputCharacteristic(const OrtCustomOp*, size_t index) noexcept {
  return index == 3 ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
}
size_t SparseGatherOutputCount(const OrtCustomOp*) noexcept { return 1; }
// Inputs are declared "any type" so that the kernel, not the graph loader, reports a wrong
// element type, with the node and tensor name.
ONNXTensorElementDataType SparseGatherInputType(const OrtCustomOp*, size_t) noexcept {
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}
ONNXTensorElementDataType SparseGatherOutputType(const OrtCustomOp*, size_t) noexcept {
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}

// ============================================================================================
// Shared OrtCustomOp members and registration.
// ============================================================================================

const char* CpuProvider(const OrtCustomOp*) noexcept { return nullptr; }
OrtCustomOpInputOutputCharacteristic Required(const OrtCustomOp*, size_t) noexcept { return INPUT_OUTPUT_REQUIRED; }
OrtMemType DefaultMemory(const OrtCustomOp*, size_t) noexcept { return OrtMemTypeDefault; }
int NotVariadic(const OrtCustomOp*) noexcept { return 1; }
int SinceVersion1(const OrtCustomOp*) noexcept { return 1; }

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

// ORT keeps pointers to these for as long as the library stays loaded.
MsnOp g_pkm_float32 = {MakeOp(&PkmName, &PkmInputType, &PkmInputCount, &PkmOutputType, &PkmOutputCount,
                              &PkmCreateKernel, &PkmCompute, &PkmDestroy),
                       ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT};
MsnOp g_pkm_float16 = {MakeOp(&PkmName, &PkmInputType, &PkmInputCount, &PkmOutputType, &PkmOutputCount,
                              &PkmCreateKernel, &PkmCompute, &PkmDestroy),
                       ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16};
constexpr OrtCustomOp WithInputCharacteristic(
    OrtCustomOp op, OrtCustomOpInputOutputCharacteristic (*fn)(const OrtCustomOp*, size_t)) {
  op.GetInputCharacteristic = fn;
  return op;
}
MsnOp g_sparse_gather = {
    WithInputCharacteristic(MakeOp(&SparseGatherName, &SparseGatherInputType, &SparseGatherInputCount,
                                   &SparseGatherOutputType, &SparseGatherOutputCount, &SparseGatherCreateKernel,
                                   &SparseGatherCompute, &SparseGatherDestroy),
                            &SparseGatherInputCharacteristic),
    ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED};

// One domain per loaded copy of this library, shared by every session options object that
// registers it. ORT requires a domain to outlive the sessions that use it and never frees it
// itself, so it is deliberately never released (a few hundred bytes per process).
std::mutex g_domain_mutex;
OrtCustomOpDomain* g_domain = nullptr;

OrtStatus* Register(const Api& api, OrtSessionOptions* options) {
  std::lock_guard<std::mutex> lock(g_domain_mutex);
  if (g_domain == nullptr) {
    OrtCustomOpDomain* domain = nullptr;
    if (OrtStatus* st = api.CreateCustomOpDomain(kDomain, &domain)) return st;
    for (const MsnOp* op : {&g_pkm_float32, &g_pkm_float16, &g_sparse_gather}) {
      if (OrtStatus* st = api.CustomOpDomainAdd(domain, &op->ort)) return st;  // leaks `domain`; never expected
    }
    g_domain = domain;
  }
  return api.AddCustomOpDomain(options, g_domain);
}

}  // namespace
}  // namespace msn

extern "C" __attribute__((visibility("default"))) OrtStatus* RegisterCustomOps(OrtSessionOptions* options,
                                                                               const OrtApiBase* api_base) {
  if (api_base == nullptr) return nullptr;  // nothing to report through
  const OrtApi* table = api_base->GetApi(MSN_ORT_API_VERSION);
  if (table == nullptr) {
    // CreateStatus is slot 0 of every API version, so version 1 can still carry the message.
    const OrtApi* v1 = api_base->GetApi(1);
    if (v1 == nullptr) return nullptr;
    const std::string msg = std::string("libmsn_ort_ops needs ONNX Runtime C API version ") +
                            std::to_string(MSN_ORT_API_VERSION) + " (ONNX Runtime >= 1.17); this runtime is " +
                            api_base->GetVersionString();
    return msn::ort::Api(v1).CreateStatus(ORT_FAIL, msg.c_str());
  }
  const msn::ort::Api api(table);
  try {
    return msn::Register(api, options);
  } catch (const std::exception& e) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, "libmsn_ort_ops: unknown error registering the msn domain");
  }
}
