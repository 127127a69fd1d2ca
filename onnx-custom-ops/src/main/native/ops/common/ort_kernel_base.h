// ort_kernel_base.h - what every ONNX Runtime kernel of this library shares: reading inputs,
// allocating outputs, running chunks on ORT's thread pool, and error messages of the form
// "msn.SparseGather node 'sg0': <what>". The OrtCustomOp trampolines are ort_op_glue.h.
#ifndef MSN_ORT_KERNEL_BASE_H
#define MSN_ORT_KERNEL_BASE_H

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "msn_ort_abi.h"

namespace msn {

std::string TypeName(ONNXTensorElementDataType t);
std::string ShapeString(const std::vector<int64_t>& dims);
std::string At(int64_t row, int64_t col);

struct Tensor {
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<int64_t> dims;
  void* data = nullptr;
};

// What every kernel instance knows: the API table and who it is, for error messages.
class KernelBase {
 public:
  // qualified_op: "<domain>.<op type>" (the op table's kQualifiedName).
  KernelBase(const OrtApi* table, const char* qualified_op, std::string node_name)
      : api_(table), op_(qualified_op), node_(std::move(node_name)) {}

  // "msn.SparseGather node 'sg0': <what>"
  OrtStatus* Fail(OrtErrorCode code, const std::string& what) const;
  OrtStatus* ReadInput(OrtKernelContext* ctx, size_t index, Tensor* out) const;
  OrtStatus* AllocOutput(OrtKernelContext* ctx, size_t index, const std::vector<int64_t>& dims, void** data) const;
  // Runs fn(user, c) for c in [0, chunks) on ORT's intra-op pool (inline when there is one chunk).
  OrtStatus* ParallelFor(OrtKernelContext* ctx, void (*fn)(void*, size_t), size_t chunks, void* user) const;

 protected:
  ort::Api api_;
  const char* op_;
  std::string node_;
};

// Splits n rows into chunks of at least ~16K units of work, and at most 256 chunks.
int64_t RowsPerChunk(int64_t n, double work_per_row);

void RecordMin(std::atomic<int64_t>& slot, int64_t value);

OrtStatus* ReadNodeName(const ort::Api& api, const OrtKernelInfo* info, std::string* name);

}  // namespace msn

#endif  // MSN_ORT_KERNEL_BASE_H
