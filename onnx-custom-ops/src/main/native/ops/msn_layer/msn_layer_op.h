// msn_layer_op.h - the ONNX Runtime op msn.MsnLayer (docs/model-contract.md): one whole memory
// layer, from the mixed token to the gated token, plus the retrieval result.
#ifndef MSN_OPS_MSN_LAYER_OP_H_
#define MSN_OPS_MSN_LAYER_OP_H_

#include <array>

#include "msn_ort_abi.h"

namespace msn {

// The registered variants of MsnLayer (x float32 and x float16), to add to the "msn" domain.
// They live as long as the library stays loaded.
std::array<const OrtCustomOp*, 2> MsnLayerOps();

}  // namespace msn

#endif  // MSN_OPS_MSN_LAYER_OP_H_
