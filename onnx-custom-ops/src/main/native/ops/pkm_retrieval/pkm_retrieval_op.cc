// pkm_retrieval_op.cc - see pkm_retrieval_op.h.
#include "pkm_retrieval_op.h"

#include <algorithm>
#include <vector>

#include "half_float.h"
#include "pkm_retrieval_kernel.h"

namespace msn {

namespace {

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

std::string Input(int index) { return std::string("input '") + PkmRetrievalOp::Spec::kInputNames[index] + "'"; }

}  // namespace

const MsnOp kPkmRetrievalFloat32 = OpGlue<PkmRetrievalOp>::Make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
const MsnOp kPkmRetrievalFloat16 = OpGlue<PkmRetrievalOp>::Make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);

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
  if (OrtStatus* st = ReadInput(ctx, Spec::kInRowScores, &row)) return st;
  if (OrtStatus* st = ReadInput(ctx, Spec::kInColScores, &col)) return st;
  const Tensor* inputs[2] = {&row, &col};
  for (int i = 0; i < 2; ++i) {
    if (inputs[i]->type != type_) {
      return Fail(ORT_INVALID_ARGUMENT, Input(i) + " has element type " + TypeName(inputs[i]->type) +
                                            ", expected " + TypeName(type_));
    }
    if (inputs[i]->dims.size() != 2) {
      return Fail(ORT_INVALID_ARGUMENT, Input(i) + " must have rank 2 [N, S], got shape " +
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
  if (OrtStatus* st = AllocOutput(ctx, Spec::kOutWeights, out_dims, &job.weights)) return st;
  void* slots = nullptr;
  if (OrtStatus* st = AllocOutput(ctx, Spec::kOutIndices, out_dims, &slots)) return st;
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
    return Fail(ORT_INVALID_ARGUMENT, Input(rest < s ? Spec::kInRowScores : Spec::kInColScores) + " holds NaN at " +
                                          At(r, rest % s));
  }
  return nullptr;
}

OrtStatus* PkmRetrievalOp::Create(const OrtApi* table, const OrtKernelInfo* info, const std::string& node,
                                  ONNXTensorElementDataType variant, PkmRetrievalOp** kernel) {
  const ort::Api api(table);
  const KernelBase failer(table, Spec::kQualifiedName, node);
  int64_t k = 0;
  if (OrtStatus* st = api.KernelInfoGetAttributeInt64(info, Spec::kAttrK, &k)) {
    api.ReleaseStatus(st);
    return failer.Fail(ORT_INVALID_GRAPH,
                       std::string("required int attribute '") + Spec::kAttrK + "' is missing or not an int");
  }
  if (k < 1) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute k = " + std::to_string(k) + " must be >= 1 (and <= S)");
  }
  *kernel = new PkmRetrievalOp(table, node, k, variant);
  return nullptr;
}

}  // namespace msn
