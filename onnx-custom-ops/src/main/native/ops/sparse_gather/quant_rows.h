// quant_rows.h - SparseGather over per-row quantized value tables (int8, float8 E4M3FN), and the
// check of such a table. Plain pointers, no ORT. The rule (docs/model-contract.md, "Quantized
// value tables"): row r of the table stands for scales[r] * code, scales float32 >= 0, int8 codes
// in [-127, 127], E4M3FN codes not NaN, and a row of scale 0 all zero codes.
#ifndef MSN_ORT_QUANT_ROWS_H
#define MSN_ORT_QUANT_ROWS_H

#include <cstdint>
#include <string>

#include "sparse_gather_kernel.h"

namespace msn {

// E4M3FN (1 sign, 4 exponent bits of bias 7, 3 mantissa bits; no infinity; S.1111.111 is NaN) to
// float32, exact: subnormals are m * 2^-9, normals (1 + m/8) * 2^(e-7).
float E4m3ToFloat(uint8_t code);

// out[n, :] = sum_m (weights[n, m] * scales[i]) * float(code[i, :]) with i = indices[n, m], for n in
// [row_begin, row_end); float32 accumulation in m order. args.value_type is kInt8 or kFloat8E4M3
// and args.scales is set.
void GatherQuantizedRows(const SparseGatherArgs& args, int64_t row_begin, int64_t row_end);

// Checks a quantized table [m, d] and its scales [m] against the rule above: "" when it holds,
// else what is wrong, naming the input ('scales' or 'values') and the row.
std::string CheckQuantizedTable(ValueType type, const void* codes, const float* scales, int64_t m, int64_t d);

}  // namespace msn

#endif  // MSN_ORT_QUANT_ROWS_H
