// sparse_gather_op.cc - see sparse_gather_op.h.
#include "sparse_gather_op.h"

#include <algorithm>
#include <vector>

#include "quant_rows.h"

namespace msn {

const MsnOp kSparseGather = OpGlue<SparseGatherOp>::Make(ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED);

void SparseGatherOp::RunChunk(void* user, size_t chunk) {
  Job* job = static_cast<Job*>(user);
  try {
    const int64_t begin = static_cast<int64_t>(chunk) * job->rows_per_chunk;
    SparseGatherRows(job->args, begin, std::min(job->n, begin + job->rows_per_chunk));
  } catch (...) {
    job->internal_error.store(true);
  }
}

OrtStatus* SparseGatherOp::CheckTypes(const Tensor& values, const Tensor& indices, const Tensor& weights,
                                      SparseGatherArgs* a) const {
  switch (values.type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: a->value_type = ValueType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: a->value_type = ValueType::kFloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: a->value_type = ValueType::kBfloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: a->value_type = ValueType::kInt8; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN: a->value_type = ValueType::kFloat8E4M3; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT,
                  "input 'values' has element type " + TypeName(values.type) +
                      ", expected float32, float16 or bfloat16 (or a quantized int8 or float8e4m3fn table with 'scales')");
  }
  if (indices.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'indices' has element type " + TypeName(indices.type) +
                                          ", expected int64");
  }
  switch (weights.type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: a->weight_type = WeightType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: a->weight_type = WeightType::kFloat16; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT, "input 'weights' has element type " + TypeName(weights.type) +
                                            ", expected float32 or float16");
  }
  return nullptr;
}

OrtStatus* SparseGatherOp::Compute(OrtKernelContext* ctx) const {
  Tensor values, indices, weights;
  if (OrtStatus* st = ReadInput(ctx, Spec::kInValues, &values)) return st;
  if (OrtStatus* st = ReadInput(ctx, Spec::kInIndices, &indices)) return st;
  if (OrtStatus* st = ReadInput(ctx, Spec::kInWeights, &weights)) return st;

  Job job;
  SparseGatherArgs& a = job.args;
  if (OrtStatus* st = CheckTypes(values, indices, weights, &a)) return st;
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
  if (OrtStatus* st = api_.KernelContextGetInput(ctx, Spec::kInScales, &present)) {
    api_.ReleaseStatus(st);  // the node has no fourth input
    present = nullptr;
  }
  if (present == nullptr) {
    if (!quantized) return nullptr;
    return Fail(ORT_INVALID_ARGUMENT, "input 'values' is " + TypeName(values.type) +
                                          " (a quantized table) but input 'scales' (the 4th, float32 [M]) is missing");
  }
  Tensor scales;
  if (OrtStatus* st = ReadInput(ctx, Spec::kInScales, &scales)) return st;
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

}  // namespace msn
