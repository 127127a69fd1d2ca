// sparse_gather_op.h - msn.SparseGather for ONNX Runtime: the op description (types, index
// validation, threading). The arithmetic is sparse_gather_kernel.cc; the OrtCustomOp glue
// common/ort_op_glue.h.
//   SparseGather(values [M, D], indices int64 [N, K], weights [N, K][, scales float32 [M]])
//     -> out float32 [N, D]
// values int8 / float8e4m3fn: a per-row quantized table, scales required (quant_rows.h).
#ifndef MSN_ORT_SPARSE_GATHER_OP_H
#define MSN_ORT_SPARSE_GATHER_OP_H

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "../common/ort_op_glue.h"
#include "sparse_gather_kernel.h"

namespace msn {

class SparseGatherOp : public KernelBase {
 public:
  using Spec = op_table::SparseGather;

  // Inputs are declared "any type" so that the kernel, not the graph loader, reports a wrong
  // element type, with the node and tensor name.
  static ONNXTensorElementDataType InputType(ONNXTensorElementDataType, size_t) noexcept {
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  }
  static ONNXTensorElementDataType OutputType(ONNXTensorElementDataType, size_t) noexcept {
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  }
  static OrtStatus* Create(const OrtApi* table, const OrtKernelInfo*, const std::string& node,
                           ONNXTensorElementDataType, SparseGatherOp** kernel) {
    *kernel = new SparseGatherOp(table, node);
    return nullptr;
  }

  SparseGatherOp(const OrtApi* table, std::string node) : KernelBase(table, Spec::kQualifiedName, std::move(node)) {}

  OrtStatus* Compute(OrtKernelContext* ctx) const;

 private:
  struct Job {
    SparseGatherArgs args;
    int64_t n = 0, rows_per_chunk = 1;
    std::atomic<bool> internal_error{false};
  };
  static void RunChunk(void* user, size_t chunk);
  OrtStatus* CheckTypes(const Tensor& values, const Tensor& indices, const Tensor& weights, SparseGatherArgs* a) const;
  // Reads the optional input 'scales' of a quantized table and checks the table (once per
  // table: initializers keep their buffers, so the check is cached by address).
  OrtStatus* ReadScales(OrtKernelContext* ctx, const Tensor& values, SparseGatherArgs* a) const;
  mutable std::mutex checked_mutex_;
  mutable const void* checked_values_ = nullptr;
  mutable const void* checked_scales_ = nullptr;
};

extern const MsnOp kSparseGather;

}  // namespace msn

#endif  // MSN_ORT_SPARSE_GATHER_OP_H
