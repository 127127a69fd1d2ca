// pkm_retrieval_op.h - msn.PKMRetrieval for ONNX Runtime: the op description (types, attribute k,
// validation, threading). The arithmetic is pkm_retrieval_kernel.cc; the OrtCustomOp glue
// common/ort_op_glue.h.
//   PKMRetrieval(row_scores [N, S], col_scores [N, S]) -> (weights [N, k], indices int64 [N, k])
#ifndef MSN_ORT_PKM_RETRIEVAL_OP_H
#define MSN_ORT_PKM_RETRIEVAL_OP_H

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "../common/ort_op_glue.h"

namespace msn {

class PkmRetrievalOp : public KernelBase {
 public:
  using Spec = op_table::PkmRetrieval;

  // Registered once per score type (`variant`: float32 or float16); weights take that type.
  static ONNXTensorElementDataType InputType(ONNXTensorElementDataType variant, size_t) noexcept { return variant; }
  static ONNXTensorElementDataType OutputType(ONNXTensorElementDataType variant, size_t index) noexcept {
    return index == Spec::kOutWeights ? variant : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  static OrtStatus* Create(const OrtApi* table, const OrtKernelInfo* info, const std::string& node,
                           ONNXTensorElementDataType variant, PkmRetrievalOp** kernel);

  PkmRetrievalOp(const OrtApi* table, std::string node, int64_t k, ONNXTensorElementDataType type)
      : KernelBase(table, Spec::kQualifiedName, std::move(node)), k_(k), type_(type) {}

  OrtStatus* Compute(OrtKernelContext* ctx) const;

 private:
  struct Job {
    const void* row = nullptr;
    const void* col = nullptr;
    bool half = false;
    int64_t n = 0, s = 0, k = 0, rows_per_chunk = 1;
    void* weights = nullptr;
    int64_t* slots = nullptr;
    std::atomic<int64_t> first_nan{std::numeric_limits<int64_t>::max()};  // row*2S + input*S + pos
    std::atomic<bool> internal_error{false};
  };
  static void RunChunk(void* user, size_t chunk);

  int64_t k_;
  ONNXTensorElementDataType type_;
};

extern const MsnOp kPkmRetrievalFloat32;
extern const MsnOp kPkmRetrievalFloat16;

}  // namespace msn

#endif  // MSN_ORT_PKM_RETRIEVAL_OP_H
