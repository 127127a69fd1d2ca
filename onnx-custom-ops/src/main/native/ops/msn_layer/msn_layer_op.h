// msn_layer_op.h - msn.MsnLayer for ONNX Runtime (docs/model-contract.md): one whole memory layer,
// from the mixed token to the gated token, plus the retrieval result. The op description
// (attributes, input checks, threading); the arithmetic is msn_layer_kernel.cc; the OrtCustomOp
// glue common/ort_op_glue.h.
//   MsnLayer(x [N, D], Wq [2dk, D], bq [2dk], ln_qrow_weight/bias [dk], ln_qcol_weight/bias [dk],
//            K_row [S, dk], K_col [S, dk], values [M, D]) -> (y [N, D], weights float32 [N, k],
//            indices int64 [N, k])
#ifndef MSN_ORT_MSN_LAYER_OP_H
#define MSN_ORT_MSN_LAYER_OP_H

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../common/ort_op_glue.h"
#include "msn_layer_kernel.h"

namespace msn {

class MsnLayerOp : public KernelBase {
 public:
  using Spec = op_table::MsnLayer;

  // The attributes (validated by Create).
  struct Attributes {
    int64_t k = 0, tokens = 1;
    bool per_token = false;
    Gate gate = Gate::kTanh;
    float epsilon = 1e-5f;
  };

  // Registered once per type of x (`variant`: float32 or float16); y takes that type. The other
  // inputs are "any type" so that the kernel, not the graph loader, reports a wrong element type
  // with the node and tensor name.
  static ONNXTensorElementDataType InputType(ONNXTensorElementDataType variant, size_t index) noexcept {
    return index == Spec::kInX ? variant : ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  }
  static ONNXTensorElementDataType OutputType(ONNXTensorElementDataType variant, size_t index) noexcept {
    if (index == Spec::kOutY) return variant;
    return index == Spec::kOutWeights ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  static OrtStatus* Create(const OrtApi* table, const OrtKernelInfo* info, const std::string& node,
                           ONNXTensorElementDataType variant, MsnLayerOp** kernel);

  MsnLayerOp(const OrtApi* table, std::string node, const Attributes& attrs, ONNXTensorElementDataType x_type)
      : KernelBase(table, Spec::kQualifiedName, std::move(node)), attrs_(attrs), x_type_(x_type) {}

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
  OrtStatus* CheckTypes(const Tensor* in, MsnLayerParams* p) const;
  OrtStatus* CheckShapes(const Tensor* in, MsnLayerParams* p) const;
  OrtStatus* Expect(const Tensor& t, size_t index, const std::vector<int64_t>& dims) const;

  Attributes attrs_;
  ONNXTensorElementDataType x_type_;
};

extern const MsnOp kMsnLayerFloat32;
extern const MsnOp kMsnLayerFloat16;

}  // namespace msn

#endif  // MSN_ORT_MSN_LAYER_OP_H
