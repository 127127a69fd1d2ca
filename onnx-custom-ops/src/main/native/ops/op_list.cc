// op_list.cc - every op this library registers, one line per registered variant. A new op adds
// its line(s) here (docs/adding-an-op.md); OrtOpTableTest checks that every op of the op table
// runs, so an op missing here fails that test.
#include "common/ort_op_glue.h"
#include "msn_layer/msn_layer_op.h"
#include "pkm_retrieval/pkm_retrieval_op.h"
#include "sparse_gather/sparse_gather_op.h"

namespace msn {

OpList RegisteredOps() {
  static const MsnOp* const kOps[] = {&kPkmRetrievalFloat32, &kPkmRetrievalFloat16, &kSparseGather,
                                      &kMsnLayerFloat32,     &kMsnLayerFloat16};
  return OpList{kOps, sizeof(kOps) / sizeof(kOps[0])};
}

}  // namespace msn
