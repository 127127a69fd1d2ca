// sparse_gather_kernel.h - fused weighted gather; plain pointers, no ORT.
#ifndef MSN_SPARSE_GATHER_KERNEL_H_
#define MSN_SPARSE_GATHER_KERNEL_H_

#include <cstdint>

namespace msn {

// kInt8 and kFloat8E4M3: per-row quantized tables with float32 scales (quant_rows.h).
enum class ValueType { kFloat32, kFloat16, kBfloat16, kInt8, kFloat8E4M3 };
enum class WeightType { kFloat32, kFloat16 };

struct SparseGatherArgs {
  const void* values = nullptr;  // [M, D], row-major, element type `value_type`
  ValueType value_type = ValueType::kFloat32;
  int64_t d = 0;
  const int64_t* indices = nullptr;  // [N, K]; every entry already checked to lie in [0, M)
  const void* weights = nullptr;     // [N, K], element type `weight_type`
  WeightType weight_type = WeightType::kFloat32;
  int64_t k = 0;
  float* out = nullptr;  // [N, D]
  const float* scales = nullptr;  // [M], quantized tables only: row r is scales[r] * code
};

// out[n, :] = sum_m weights[n, m] * values[indices[n, m], :] for n in [row_begin, row_end).
// Accumulation is float32, in m order, straight into the output row (no [N, K, D] intermediate);
// float16/bfloat16 rows are widened to float32 on the fly. While one row is accumulated, the
// next row to be read is prefetched into L1 and the one after it into L2 (the rows are random, so
// the hardware prefetchers cannot guess them). K == 0 gives zeros.
//
// Two builds of the inner loop: AVX2+FMA+F16C (8 floats per instruction, fused multiply-add)
// and a baseline x86-64 one (SSE2, separate multiply and add), chosen once per process from the
// CPU (cpu_isa.h). The two can differ in the last bits (fused vs separate rounding).
void SparseGatherRows(const SparseGatherArgs& args, int64_t row_begin, int64_t row_end);

}  // namespace msn

#endif  // MSN_SPARSE_GATHER_KERNEL_H_
