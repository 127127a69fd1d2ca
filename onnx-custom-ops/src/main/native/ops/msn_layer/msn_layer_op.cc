// msn_layer_op.cc - ONNX Runtime glue of msn.MsnLayer: attributes, input checks, threading. The
// arithmetic is msn_layer_kernel.cc; the shared glue is src/op_glue.h.
#include "msn_layer_op.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "half_float.h"
#include "msn_layer_kernel.h"
#include "op_glue.h"

namespace msn {
namespace {

using namespace glue;  // NOLINT: the shared glue (op_glue.h)

constexpr const char* kMsnLayer = "MsnLayer";
constexpr size_t kInputs = 10;
const char* const kInputNames[kInputs] = {"x",        "Wq",         "bq",    "ln_qrow_weight", "ln_qrow_bias",
                                          "ln_qcol_weight", "ln_qcol_bias", "K_row", "K_col", "values"};

struct Attributes {
  int64_t k = 0, tokens = 1;
  bool per_token = false;
  Gate gate = Gate::kTanh;
  float epsilon = 1e-5f;
};

class MsnLayerOp : public KernelBase {
 public:
  MsnLayerOp(const OrtApi* table, std::string node, const Attributes& attrs, ONNXTensorElementDataType x_type)
      : KernelBase(table, kMsnLayer, std::move(node)), attrs_(attrs), x_type_(x_type) {}

  OrtStatus* Compute(OrtKernelContext* ctx) const;

 private:
  struct Job {
    MsnLayerParams params;
    const void* x = nullptr;
    bool half = false;
    int64_t n = 0, rows_per_chunk = 1;
    void* y = nullptr;
    float* weights = nullptr;
    int64_t* slots = nullptr;
    std::atomic<int64_t> first_nan{std::numeric_limits<int64_t>::max()};  // row*2S + position
    std::atomic<bool> internal_error{false};
  };
  static void RunChunk(void* user, size_t chunk);
  OrtStatus* CheckShapes(const Tensor* in, MsnLayerParams* p) const;
  OrtStatus* Expect(const Tensor& t, size_t index, const std::vector<int64_t>& dims) const;

  Attributes attrs_;
  ONNXTensorElementDataType x_type_;
};

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
  return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + kInputNames[index] + "' has shape " +
                                        ShapeString(t.dims) + ", expected " + ShapeString(dims));
}

// Types and shapes of all inputs; fills the sizes and pointers of *p.
OrtStatus* MsnLayerOp::CheckShapes(const Tensor* in, MsnLayerParams* p) const {
  if (in[0].type != x_type_) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' has element type " + TypeName(in[0].type) + ", expected " +
                                          TypeName(x_type_));
  }
  for (size_t i = 1; i < 9; ++i) {
    if (in[i].type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      return Fail(ORT_INVALID_ARGUMENT, std::string("input '") + kInputNames[i] + "' has element type " +
                                            TypeName(in[i].type) + ", expected float32");
    }
  }
  switch (in[9].type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: p->value_type = ValueType::kFloat32; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: p->value_type = ValueType::kFloat16; break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: p->value_type = ValueType::kBfloat16; break;
    default:
      return Fail(ORT_INVALID_ARGUMENT, "input 'values' has element type " + TypeName(in[9].type) +
                                            ", expected float32, float16 or bfloat16");
  }
  if (in[0].dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' must have rank 2 [N, D], got shape " + ShapeString(in[0].dims));
  }
  if (in[1].dims.size() != 2 || in[1].dims[0] % 2 != 0 || in[1].dims[0] < 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'Wq' must have shape [2*dk, D] with dk >= 1, got " +
                                          ShapeString(in[1].dims));
  }
  if (in[7].dims.size() != 2) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'K_row' must have rank 2 [S, dk], got shape " + ShapeString(in[7].dims));
  }
  p->d = in[0].dims[1];
  p->dk = in[1].dims[0] / 2;
  p->s = in[7].dims[0];
  const std::vector<int64_t> half = {p->dk};
  if (OrtStatus* st = Expect(in[1], 1, {2 * p->dk, p->d})) return st;
  if (OrtStatus* st = Expect(in[2], 2, {2 * p->dk})) return st;
  for (size_t i = 3; i < 7; ++i) {
    if (OrtStatus* st = Expect(in[i], i, half)) return st;
  }
  if (OrtStatus* st = Expect(in[7], 7, {p->s, p->dk})) return st;
  if (OrtStatus* st = Expect(in[8], 8, {p->s, p->dk})) return st;
  if (p->s > kMaxSubKeys) {
    return Fail(ORT_INVALID_ARGUMENT, "S = " + std::to_string(p->s) + " (dim 0 of 'K_row') exceeds the supported " +
                                          std::to_string(kMaxSubKeys));
  }
  if (attrs_.k > p->s) {
    return Fail(ORT_INVALID_ARGUMENT, "attribute k = " + std::to_string(attrs_.k) + " exceeds S = " +
                                          std::to_string(p->s) + " (dim 0 of 'K_row'); need 1 <= k <= S");
  }
  const int64_t rows = p->s * p->s * (attrs_.per_token ? attrs_.tokens : 1);
  if (OrtStatus* st = Expect(in[9], 9, {rows, p->d})) return st;
  if (in[0].dims[0] % attrs_.tokens != 0) {
    return Fail(ORT_INVALID_ARGUMENT, "input 'x' has " + std::to_string(in[0].dims[0]) +
                                          " rows, not a multiple of attribute tokens = " +
                                          std::to_string(attrs_.tokens));
  }
  p->k = attrs_.k;
  p->tokens = attrs_.tokens;
  p->per_token = attrs_.per_token;
  p->gate = attrs_.gate;
  p->epsilon = attrs_.epsilon;
  const float* f[9] = {};
  for (size_t i = 1; i < 9; ++i) f[i] = static_cast<const float*>(in[i].data);
  p->wq = f[1];
  p->bq = f[2];
  p->ln_row_w = f[3];
  p->ln_row_b = f[4];
  p->ln_col_w = f[5];
  p->ln_col_b = f[6];
  p->k_row = f[7];
  p->k_col = f[8];
  p->values = in[9].data;
  return nullptr;
}

OrtStatus* MsnLayerOp::Compute(OrtKernelContext* ctx) const {
  Tensor in[kInputs];
  for (size_t i = 0; i < kInputs; ++i) {
    if (OrtStatus* st = ReadInput(ctx, i, &in[i])) return st;
  }
  Job job;
  if (OrtStatus* st = CheckShapes(in, &job.params)) return st;
  const MsnLayerParams& p = job.params;
  job.n = in[0].dims[0];
  job.x = in[0].data;
  job.half = (x_type_ == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
  void* weights = nullptr;
  void* slots = nullptr;
  if (OrtStatus* st = AllocOutput(ctx, 0, {job.n, p.d}, &job.y)) return st;
  if (OrtStatus* st = AllocOutput(ctx, 1, {job.n, p.k}, &weights)) return st;
  if (OrtStatus* st = AllocOutput(ctx, 2, {job.n, p.k}, &slots)) return st;
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

OrtStatus* ReadIntAttr(const Api& api, const KernelBase& failer, const OrtKernelInfo* info, const char* name,
                       bool required, int64_t* out) {
  if (OrtStatus* st = api.KernelInfoGetAttributeInt64(info, name, out)) {
    api.ReleaseStatus(st);
    if (!required) return nullptr;  // *out keeps its default
    return failer.Fail(ORT_INVALID_GRAPH, std::string("required int attribute '") + name + "' is missing or not an int");
  }
  return nullptr;
}

OrtStatus* ReadGate(const Api& api, const KernelBase& failer, const OrtKernelInfo* info, Gate* gate) {
  size_t size = 0;
  OrtStatus* st = api.KernelInfoGetAttributeString(info, "gate", nullptr, &size);
  std::string buf(size, '\0');
  if (st == nullptr && size > 0) st = api.KernelInfoGetAttributeString(info, "gate", buf.data(), &size);
  if (st != nullptr) {
    api.ReleaseStatus(st);
    return failer.Fail(ORT_INVALID_GRAPH, "required string attribute 'gate' is missing or not a string");
  }
  buf.resize(size > 0 ? size - 1 : 0);
  if (!ParseGate(buf.c_str(), gate)) {
    return failer.Fail(ORT_INVALID_GRAPH,
                       "attribute gate = '" + buf + "' is not one of 'tanh', 'sigmoid', 'identity'");
  }
  return nullptr;
}

OrtStatus* ReadAttributes(const Api& api, const KernelBase& failer, const OrtKernelInfo* info, Attributes* a) {
  if (OrtStatus* st = ReadIntAttr(api, failer, info, "k", true, &a->k)) return st;
  if (a->k < 1) return failer.Fail(ORT_INVALID_GRAPH, "attribute k = " + std::to_string(a->k) + " must be >= 1");
  if (OrtStatus* st = ReadIntAttr(api, failer, info, "tokens", true, &a->tokens)) return st;
  if (a->tokens < 1) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute tokens = " + std::to_string(a->tokens) + " must be >= 1");
  }
  int64_t per_token = 0;
  if (OrtStatus* st = ReadIntAttr(api, failer, info, "per_token", false, &per_token)) return st;
  if (per_token != 0 && per_token != 1) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute per_token = " + std::to_string(per_token) + " must be 0 or 1");
  }
  a->per_token = per_token == 1;
  if (OrtStatus* st = ReadGate(api, failer, info, &a->gate)) return st;
  float eps = 1e-5f;
  if (OrtStatus* st = api.KernelInfoGetAttributeFloat(info, "epsilon", &eps)) {
    api.ReleaseStatus(st);
    eps = 1e-5f;  // optional
  }
  if (!(eps > 0.0f) || !std::isfinite(eps)) {
    return failer.Fail(ORT_INVALID_GRAPH, "attribute epsilon = " + std::to_string(eps) + " must be finite and > 0");
  }
  a->epsilon = eps;
  return nullptr;
}

OrtStatus* CreateKernel(const OrtCustomOp* op, const OrtApi* table, const OrtKernelInfo* info, void** kernel) noexcept {
  Api api(table);
  try {
    std::string node;
    if (OrtStatus* st = ReadNodeName(api, info, &node)) return st;
    const KernelBase failer(table, kMsnLayer, node);
    Attributes attrs;
    if (OrtStatus* st = ReadAttributes(api, failer, info, &attrs)) return st;
    *kernel = new MsnLayerOp(table, node, attrs, AsMsnOp(op)->score_type);
    return nullptr;
  } catch (const std::exception& e) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, "msn.MsnLayer: unknown error creating the kernel");
  }
}

OrtStatus* Compute(void* kernel, OrtKernelContext* ctx) noexcept {
  const auto* op = static_cast<const MsnLayerOp*>(kernel);
  try {
    return op->Compute(ctx);
  } catch (const std::exception& e) {
    return op->Fail(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return op->Fail(ORT_RUNTIME_EXCEPTION, "unknown error");
  }
}

void Destroy(void* kernel) noexcept { delete static_cast<MsnLayerOp*>(kernel); }

const char* Name(const OrtCustomOp*) noexcept { return kMsnLayer; }
size_t InputCount(const OrtCustomOp*) noexcept { return kInputs; }
size_t OutputCount(const OrtCustomOp*) noexcept { return 3; }
// x selects the variant; the others are "any type" so that the kernel, not the graph loader,
// reports a wrong element type with the node and tensor name.
ONNXTensorElementDataType InputType(const OrtCustomOp* op, size_t index) noexcept {
  return index == 0 ? AsMsnOp(op)->score_type : ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}
ONNXTensorElementDataType OutputType(const OrtCustomOp* op, size_t index) noexcept {
  switch (index) {
    case 0: return AsMsnOp(op)->score_type;  // y: the type of x
    case 1: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    default: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
}

// MsnOp::score_type holds the type of x here.
MsnOp g_float32 = {MakeOp(&Name, &InputType, &InputCount, &OutputType, &OutputCount, &CreateKernel, &Compute,
                          &Destroy),
                   ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT};
MsnOp g_float16 = {MakeOp(&Name, &InputType, &InputCount, &OutputType, &OutputCount, &CreateKernel, &Compute,
                          &Destroy),
                   ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16};

}  // namespace

std::array<const OrtCustomOp*, 2> MsnLayerOps() { return {&g_float32.ort, &g_float16.ort}; }

}  // namespace msn
