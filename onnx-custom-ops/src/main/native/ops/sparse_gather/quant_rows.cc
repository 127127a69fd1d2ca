// quant_rows.cc - see quant_rows.h.
#include "quant_rows.h"

#include <cmath>
#include <cstring>

#include "half_float.h"

namespace msn {
namespace {

struct E4m3Table {
  float v[256];
  E4m3Table() {
    for (int c = 0; c < 256; ++c) {
      const int exp = (c >> 3) & 0xf;
      const int mant = c & 0x7;
      float x;
      if (exp == 0xf && mant == 0x7) {
        x = std::nanf("");
      } else if (exp == 0) {
        x = static_cast<float>(mant) * 0.001953125f;  // 2^-9
      } else {
        x = std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
      }
      v[c] = (c & 0x80) ? -x : x;
    }
  }
};

const E4m3Table& Table() {
  static const E4m3Table table;
  return table;
}

template <typename Decode>
void GatherImpl(const SparseGatherArgs& a, int64_t begin, int64_t end, Decode decode) {
  const uint8_t* codes = static_cast<const uint8_t*>(a.values);
  const int64_t d = a.d;
  const int64_t k = a.k;
  for (int64_t n = begin; n < end; ++n) {
    float* out = a.out + n * d;
    std::memset(out, 0, static_cast<size_t>(d) * sizeof(float));
    for (int64_t m = 0; m < k; ++m) {
      const int64_t f = n * k + m;
      const int64_t i = a.indices[f];
      const float w = a.weight_type == WeightType::kFloat32 ? static_cast<const float*>(a.weights)[f]
                                                             : HalfToFloat(static_cast<const uint16_t*>(a.weights)[f]);
      const float coeff = w * a.scales[i];
      const uint8_t* row = codes + i * d;
      for (int64_t x = 0; x < d; ++x) out[x] += coeff * decode(row[x]);
    }
  }
}

}  // namespace

float E4m3ToFloat(uint8_t code) { return Table().v[code]; }

void GatherQuantizedRows(const SparseGatherArgs& a, int64_t begin, int64_t end) {
  if (a.value_type == ValueType::kInt8) {
    GatherImpl(a, begin, end, [](uint8_t c) { return static_cast<float>(static_cast<int8_t>(c)); });
  } else {
    const float* t = Table().v;
    GatherImpl(a, begin, end, [t](uint8_t c) { return t[c]; });
  }
}

std::string CheckQuantizedTable(ValueType type, const void* codes, const float* scales, int64_t m, int64_t d) {
  const uint8_t* c = static_cast<const uint8_t*>(codes);
  for (int64_t r = 0; r < m; ++r) {
    const float s = scales[r];
    if (!std::isfinite(s) || s < 0.0f) {
      return "input 'scales' holds " + std::to_string(s) + " at row " + std::to_string(r) +
             "; every scale must be finite and >= 0";
    }
    const uint8_t* row = c + r * d;
    for (int64_t x = 0; x < d; ++x) {
      const uint8_t q = row[x];
      if (type == ValueType::kInt8 && q == 0x80) {
        return "input 'values' holds -128 at [" + std::to_string(r) + ", " + std::to_string(x) +
               "]; int8 codes must lie in [-127, 127]";
      }
      if (type == ValueType::kFloat8E4M3 && (q & 0x7f) == 0x7f) {
        return "input 'values' holds the float8 NaN code at [" + std::to_string(r) + ", " + std::to_string(x) + "]";
      }
      if (s == 0.0f && (q & 0x7f) != 0) {
        return "input 'values' row " + std::to_string(r) +
               " has scale 0 in 'scales' but a nonzero code at column " + std::to_string(x) +
               " (a row of scale 0 must be all zeros)";
      }
    }
  }
  return "";
}

}  // namespace msn
