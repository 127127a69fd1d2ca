// msn_layer_kernel.cc - see msn_layer_kernel.h.
#include "msn_layer_kernel.h"

#include <cmath>
#include <cstring>

namespace msn {
namespace {

double Dot(const float* w, const float* x, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(w[i]) * static_cast<double>(x[i]);
  return acc;
}

// LayerNorm of q[0, n) in place: biased variance, statistics in double, result rounded to float.
void LayerNormInPlace(float* q, int64_t n, const float* gamma, const float* beta, float eps) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += q[i];
  mean /= static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (q[i] - mean) * (q[i] - mean);
  var /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(var + static_cast<double>(eps));
  for (int64_t i = 0; i < n; ++i) {
    q[i] = static_cast<float>((q[i] - mean) * inv * static_cast<double>(gamma[i]) + static_cast<double>(beta[i]));
  }
}

float Activate(Gate gate, float v) {
  switch (gate) {
    case Gate::kTanh: return std::tanh(v);
    case Gate::kSigmoid: return 1.0f / (1.0f + std::exp(-v));
    case Gate::kIdentity: break;
  }
  return v;
}

int64_t FirstNan(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return i;
  }
  return -1;
}

}  // namespace

bool ParseGate(const char* name, Gate* out) {
  if (std::strcmp(name, "tanh") == 0) {
    *out = Gate::kTanh;
  } else if (std::strcmp(name, "sigmoid") == 0) {
    *out = Gate::kSigmoid;
  } else if (std::strcmp(name, "identity") == 0) {
    *out = Gate::kIdentity;
  } else {
    return false;
  }
  return true;
}

MsnLayerKernel::MsnLayerKernel(const MsnLayerParams& p)
    : p_(p),
      pkm_(p.s, p.k),
      q_(static_cast<size_t>(2 * p.dk)),
      a_(static_cast<size_t>(p.s)),
      b_(static_cast<size_t>(p.s)),
      v_(static_cast<size_t>(p.d)),
      rows_(static_cast<size_t>(p.k)) {}

void MsnLayerKernel::Project(const float* x) {
  const int64_t dk = p_.dk;
  for (int64_t o = 0; o < 2 * dk; ++o) {
    q_[o] = static_cast<float>(Dot(p_.wq + o * p_.d, x, p_.d) + static_cast<double>(p_.bq[o]));
  }
  LayerNormInPlace(q_.data(), dk, p_.ln_row_w, p_.ln_row_b, p_.epsilon);
  LayerNormInPlace(q_.data() + dk, dk, p_.ln_col_w, p_.ln_col_b, p_.epsilon);
}

void MsnLayerKernel::Score(const float* keys, const float* q, float* out) const {
  for (int64_t s = 0; s < p_.s; ++s) out[s] = static_cast<float>(Dot(keys + s * p_.dk, q, p_.dk));
}

int64_t MsnLayerKernel::Run(int64_t r, const float* x, float* y, float* weights, int64_t* slots) {
  Project(x);
  Score(p_.k_row, q_.data(), a_.data());
  Score(p_.k_col, q_.data() + p_.dk, b_.data());
  const int64_t nan_a = FirstNan(a_.data(), p_.s);
  if (nan_a >= 0) return nan_a;
  const int64_t nan_b = FirstNan(b_.data(), p_.s);
  if (nan_b >= 0) return p_.s + nan_b;
  pkm_.Retrieve(a_.data(), b_.data(), weights, slots);

  const int64_t offset = p_.per_token ? (r % p_.tokens) * p_.s * p_.s : 0;
  for (int64_t m = 0; m < p_.k; ++m) rows_[m] = slots[m] + offset;
  SparseGatherArgs g;
  g.values = p_.values;
  g.value_type = p_.value_type;
  g.d = p_.d;
  g.indices = rows_.data();
  g.weights = weights;
  g.weight_type = WeightType::kFloat32;
  g.k = p_.k;
  g.out = v_.data();
  SparseGatherRows(g, 0, 1);
  for (int64_t i = 0; i < p_.d; ++i) y[i] = x[i] * Activate(p_.gate, v_[i]);
  return -1;
}

}  // namespace msn
