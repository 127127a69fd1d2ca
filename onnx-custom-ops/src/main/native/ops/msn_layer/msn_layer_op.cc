// msn_layer_op.cc - see msn_layer_op.h.
#include "msn_layer_op.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "half_float.h"

namespace msn {

const MsnOp kMsnLayerFloat32 = OpGlue<MsnLayerOp>::Make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
const MsnOp kMsnLayerFloat16 = OpGlue<MsnLayerOp>::Make(ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);

using Spec = MsnLayerOp::Spec;

void MsnLayerOp::RunChunk(void* user, size_t chunk) {
  Job* job = static_cast<Job*>(user);
  try {
    const MsnLayerParams& p = job->params;
    const int64_t begin = static_cast<int64_t>(chunk) * job->rows_per_chunk;
    const int64_t end = std::min(job->n, begin + job->rows_per_chunk);
    MsnLayerKernel kernel(p);
    std::vector<float> x(static_cast<size_t>(p.d)), y(static_cast<size_t>(p.d));
    for (int64_t r = begin; r < end; ++r) {
      if (job->half) {
        const uint16_t* xh = static_cast<const uint16_t*>(job->x) + r * p.d;
        for (int64_t i = 0; i < p.d; ++i) x[i] = HalfToFloat(xh[i]);
      } else {
        const float* xf = static_cast<const float*>(job->x) + r * p.d;
        std::copy(xf, xf + p.d, x.begin());
      }
      const int64_t nan_at = kernel.Run(r, x.data(), y.data(), job->weights + r * p.k, job->slots + r * p.k);
      if (nan_at >= 0) {
        RecordMin(job->first_nan, r * 2 * p.s + nan_at);
        return;  // later rows of this chunk cannot hold an earlier NaN
      }
      if (job->half) {
        uint16_t* yh = static_cast<uint16_t*>(job->y) + r * p.d;
        for (int64_t i = 0; i < p.d; ++i) yh[i] = FloatToHalf(y[i]);
      } else {
        std::copy(y.begin(), y.end(), static_cast<float*>(job->y) + r * p.d);
      }
    }
  } catch (...) {
    job->internal_error.store(true);
  }
}

OrtStatus* MsnLayerOp::Expect(const Tensor& t, size_t index, const std::vector<int64_t>& dims) const {
  if (t.dims == dims) return nullptr;
  return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + Spec::kInputNames[index] + "' has shape " +
                                        ShapeString(t.dims) + ", expected " + ShapeString(dims));
}

// x: the registered variant's type; Wq .. K_col: float32; values: float32, float16 or bfloat16.
OrtStatus* MsnLayerOp::CheckTypes(const Tensor* in, MsnLayerParams* p) const {
  if (in[Spec::kInX].type != x_type_) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' has element type " + TypeName(in[Spec::kInX].type) +
                                          ", expected " + TypeName(x_type_));
  }
  for (size_t i = Spec::kInWq; i <= Spec::kInKCol; ++i) {
    if (in[i].type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + Spec::kInputNames[i] + "' has element type " +
                                            TypeName(in[i].type) + ", expected float32");
    }
  }
  switch (in[Spec::kInValues].type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: p->value_type = ValueType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: p->value_type = ValueType::kFloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: p->value_type = ValueType::kBfloat16; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT, "input 'values' has element type " + TypeName(in[Spec::kInValues].type) +
                                            ", expected float32, float16 or bfloat16");
  }
  return nullptr;
}

// Shapes of all inputs; fills the sizes, attributes and pointers of *p.
OrtStatus* MsnLayerOp::CheckShapes(const Tensor* in, MsnLayerParams* p) const {
  const Tensor& x = in[Spec::kInX];
  const Tensor& wq = in[Spec::kInWq];
  const Tensor& k_row = in[Spec::kInKRow];
  if (x.dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' must have rank 2 [N, D], got shape " + ShapeString(x.dims));
  }
  if (wq.dims.size() != 2 || wq.dims[0] % 2 != 0 || wq.dims[0] < 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'Wq' must have shape [2*dk, D] with dk >= 1, got " +
                                          ShapeString(wq.dims));
  }
  if (k_row.dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'K_row' must have rank 2 [S, dk], got shape " + ShapeString(k_row.dims));
  }
  p->d = x.dims[1];
  p->dk = wq.dims[0] / 2;
  p->s = k_row.dims[0];
  if (OrtStatus* st = Expect(wq, Spec::kInWq, {2 * p->dk, p->d})) return st;
  if (OrtStatus* st = Expect(in[Spec::kInBq], Spec::kInBq, {2 * p->dk})) return st;
  for (size_t i = Spec::kInLnQrowWeight; i <= Spec::kInLnQcolBias; ++i) {
    if (OrtStatus* st = Expect(in[i], i, {p->dk})) return st;
  }
  if (OrtStatus* st = Expect(k_row, Spec::kInKRow, {p->s, p->dk})) return st;
  if (OrtStatus* st = Expect(in[Spec::kInKCol], Spec::kInKCol, {p->s, p->dk})) return st;
  if (p->s > kMaxSubKeys) {
    return Fail(ORT_INVALID_ARGUMENT, "S = " + std::to_string(p->s) + " (dim 0 of 'K_row') exceeds the supported " +
                                          std::to_string(kMaxSubKeys));
  }
  if (attrs_.k > p->s) {
    return Fail(ORT_INVALID_ARGUMENT, "attribute k = " + std::to_string(attrs_.k) + " exceeds S = " +
                                          std::to_string(p->s) + " (dim 0 of 'K_row'); need 1 <= k <= S");
  }
  const int64_t rows = p->s * p->s * (attrs_.per_token ? attrs_.tokens : 1);
  if (OrtStatus* st = Expect(in[Spec::kInValues], Spec::kInValues, {rows, p->d})) return st;
  if (x.dims[0] % attrs_.tokens != 0) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' has " + std::to_string(x.dims[0]) +
                                          " rows, not a multiple of attribute tokens = " +
                                          std::to_string(attrs_.tokens));
  }
  p->k = attrs_.k;
  p->tokens = attrs_.tokens;
  p->per_token = attrs_.per_token;
  p->gate = attrs_.gate;
  p->epsilon = attrs_.epsilon;
  auto f = [in](int i) { return static_cast<const float*>(in[i].data); };
  p->wq = f(Spec::kInWq);
  p->bq = f(Spec::kInBq);
  p->ln_row_w = f(Spec::kInLnQrowWeight);
  p->ln_row_b = f(Spec::kInLnQrowBias);
  p->ln_col_w = f(Spec::kInLnQcolWeight);
  p->ln_col_b = f(Spec::kInLnQcolBias);
  p->k_row = f(Spec::kInKRow);
  p->k_col = f(Spec::kInKCol);
  p->values = in[Spec::kInValues].data;
  return nullptr;
}

OrtStatus* MsnLayerOp::Compute(OrtKernelContext* ctx) const {
  Tensor in[Spec::kNumInputs];
  for (size_t i = 0; i < Spec::kNumInputs; ++i) {
    if (OrtStatus* st = ReadInput(ctx, i, &in[i])) return st;
  }
  Job job;
  if (OrtStatus* st = CheckTypes(in, &job.params)) return st;
  if (OrtStatus* st = CheckShapes(in, &job.params)) return st;
  const MsnLayerParams& p = job.params;
  job.n = in[Spec::kInX].dims[0];
  job.x = in[Spec::kInX].data;
  job.half = (x_type_ == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
  void* weights = nullptr;
  void* slots = nullptr;
  if (OrtStatus* st = AllocOutput(ctx, Spec::kOutY, {job.n, p.d}, &job.y)) return st;
  if (OrtStatus* st = AllocOutput(ctx, Spec::kOutWeights, {job.n, p.k}, &weights)) return st;
  if (OrtStatus* st = AllocOutput(ctx, Spec::kOutIndices, {job.n, p.k}, &slots)) return st;
  job.weights = static_cast<float*>(weights);
  job.slots = static_cast<int64_t*>(slots);
  if (job.n == 0) return nullptr;

  const double work = 2.0 * p.dk * (p.d + 2.0 * p.s) + 16.0 * p.k + static_cast<double>(p.k) * p.d;
  job.rows_per_chunk = RowsPerChunk(job.n, work);
  const size_t chunks = static_cast<size_t>((job.n + job.rows_per_chunk - 1) / job.rows_per_chunk);
  if (OrtStatus* st = ParallelFor(ctx, &RunChunk, chunks, &job)) return st;
  if (job.internal_error.load()) return Fail(ORT_RUNTIME_EXCEPTION, "internal error (out of memory?)");
  const int64_t nan_at = job.first_nan.load();
  if (nan_at != std::numeric_limits<int64_t>::max()) {
    const int64_t r = nan_at / (2 * p.s);
    const int64_t rest = nan_at % (2 * p.s);
    return Fail(ORT_INVALID_ARGUMENT, std::string(rest < p.s ? "row" : "column") + " score " +
                                          std::to_string(rest % p.s) + " of query " + std::to_string(r) +
                                          " is NaN (NaN or infinite values in 'x' row " + std::to_string(r) +
                                          " or in the layer's parameters)");
  }
  return nullptr;
}

// ---- kernel creation: attributes ------------------------------------------------------------

namespace {

// An int attribute; a missing optional one keeps *out. Fails (naming it) when it is outside [lo, hi].
OrtStatus* ReadInt(const ort::Api& api, const KernelBase& failer, const OrtKernelInfo* info, const char* name,
                   bool required, int64_t lo, int64_t hi, int64_t* out) {
  if (OrtStatus* st = api.KernelInfoGetAttributeInt64(info, name, out)) {
    api.ReleaseStatus(st);
    if (!required) return nullptr;
    return failer.Fail(ORT_INVALID_GRAPH, std::string("required int attribute '") + name + "' is missing or not an int");
  }
  if (*out < lo || *out > hi) {
    const std::string range = hi == std::numeric_limits<int64_t>::max()
                                  ? "must be >= " + std::to_string(lo)
                                  : "must be " + std::to_string(lo) + " or " + std::to_string(hi);
    return failer.Fail(ORT_INVALID_GRAPH, std::string("attribute ") + name + " = " + std::to_string(*out) + " " + range);
  }
  return nullptr;
}

OrtStatus* ReadGate(const ort::Api& api, const KernelBase& failer, const OrtKernelInfo* info, Gate* gate) {
  size_t size = 0;
  OrtStatus* st = api.KernelInfoGetAttributeString(info, Spec::kAttrGate, nullptr, &size);
  std::string buf(size, '\0');
  if (st == nullptr && size > 0) st = api.KernelInfoGetAttributeString(info, Spec::kAttrGate, buf.data(), &size);
  if (st != nullptr) {
    api.ReleaseStatus(st);
    return failer.Fail(ORT_INVALID_GRAPH, "required string attribute 'gate' is missing or not a string");
  }
  buf.resize(size > 0 ? size - 1 : 0);
  if (!ParseGate(buf.c_str(), gate)) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute gate = '" + buf + "' is not one of 'tanh', 'sigmoid', 'identity'");
  }
  return nullptr;
}

OrtStatus* ReadEpsilon(const ort::Api& api, const KernelBase& failer, const OrtKernelInfo* info, float* eps) {
  if (OrtStatus* st = api.KernelInfoGetAttributeFloat(info, Spec::kAttrEpsilon, eps)) {
    api.ReleaseStatus(st);  // optional: keeps the contract's default
  }
  if (!(*eps > 0.0f) || !std::isfinite(*eps)) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute epsilon = " + std::to_string(*eps) + " must be finite and > 0");
  }
  return nullptr;
}

}  // namespace

OrtStatus* MsnLayerOp::Create(const OrtApi* table, const OrtKernelInfo* info, const std::string& node,
                              ONNXTensorElementDataType variant, MsnLayerOp** kernel) {
  const ort::Api api(table);
  const KernelBase failer(table, Spec::kQualifiedName, node);
  constexpr int64_t kAny = std::numeric_limits<int64_t>::max();
  Attributes a;
  int64_t per_token = 0;
  if (OrtStatus* st = ReadInt(api, failer, info, Spec::kAttrK, true, 1, kAny, &a.k)) return st;
  if (OrtStatus* st = ReadGate(api, failer, info, &a.gate)) return st;
  if (OrtStatus* st = ReadEpsilon(api, failer, info, &a.epsilon)) return st;
  if (OrtStatus* st = ReadInt(api, failer, info, Spec::kAttrTokens, true, 1, kAny, &a.tokens)) return st;
  if (OrtStatus* st = ReadInt(api, failer, info, Spec::kAttrPerToken, false, 0, 1, &per_token)) return st;
  a.per_token = per_token == 1;
  *kernel = new MsnLayerOp(table, node, a, variant);
  return nullptr;
}

}  // namespace msn
