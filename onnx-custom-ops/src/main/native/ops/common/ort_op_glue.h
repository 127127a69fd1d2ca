// ort_op_glue.h - the OrtCustomOp members of every op, written once (OpGlue<Op>), and the list
// of ops the library registers (ops/op_list.cc; registration: register_ops.cc).
//
// An op description class Op (ops/<op>/<op>_op.h) provides:
//   using Spec = op_table::<CamelId>;       // name, arity, optional inputs: msn_op_table.h
//   static ONNXTensorElementDataType InputType(ONNXTensorElementDataType variant, size_t i) noexcept;
//   static ONNXTensorElementDataType OutputType(ONNXTensorElementDataType variant, size_t i) noexcept;
//   static OrtStatus* Create(const OrtApi* table, const OrtKernelInfo* info, const std::string& node,
//                            ONNXTensorElementDataType variant, Op** kernel);   // may throw
//   OrtStatus* Compute(OrtKernelContext* ctx) const;                           // may throw
// and derives KernelBase (for Fail). OpGlue<Op>::Make(variant) is its OrtCustomOp; `variant` is
// the one fact that differs between registrations of the same op (PKMRetrieval is registered
// once per score type, since its output type follows its inputs'), UNDEFINED where there is one.
#ifndef MSN_ORT_OP_GLUE_H
#define MSN_ORT_OP_GLUE_H

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>

#include "msn_op_table.h"
#include "msn_ort_abi.h"
#include "ort_kernel_base.h"

namespace msn {

// An OrtCustomOp plus its variant. `ort` is the first member: ORT's OrtCustomOp* is our MsnOp*.
struct MsnOp {
  OrtCustomOp ort;
  ONNXTensorElementDataType variant;
};

inline const MsnOp* AsMsnOp(const OrtCustomOp* op) { return reinterpret_cast<const MsnOp*>(op); }

// The ops this library registers (ops/op_list.cc), each variant once.
struct OpList {
  const MsnOp* const* ops;
  size_t count;
};
OpList RegisteredOps();

template <class Op>
struct OpGlue {
  using Spec = typename Op::Spec;

  static const char* Name(const OrtCustomOp*) noexcept { return Spec::kName; }
  static const char* CpuProvider(const OrtCustomOp*) noexcept { return nullptr; }
  static size_t InputCount(const OrtCustomOp*) noexcept { return Spec::kNumInputs; }
  static size_t OutputCount(const OrtCustomOp*) noexcept { return Spec::kNumOutputs; }
  static ONNXTensorElementDataType InputType(const OrtCustomOp* op, size_t i) noexcept {
    return Op::InputType(AsMsnOp(op)->variant, i);
  }
  static ONNXTensorElementDataType OutputType(const OrtCustomOp* op, size_t i) noexcept {
    return Op::OutputType(AsMsnOp(op)->variant, i);
  }
  static OrtCustomOpInputOutputCharacteristic InputKind(const OrtCustomOp*, size_t i) noexcept {
    return i < static_cast<size_t>(Spec::kNumInputs) && Spec::kInputOptional[i] ? INPUT_OUTPUT_OPTIONAL
                                                                                : INPUT_OUTPUT_REQUIRED;
  }
  static OrtCustomOpInputOutputCharacteristic OutputKind(const OrtCustomOp*, size_t) noexcept {
    return INPUT_OUTPUT_REQUIRED;
  }
  static OrtMemType DefaultMemory(const OrtCustomOp*, size_t) noexcept { return OrtMemTypeDefault; }
  static int NotVariadic(const OrtCustomOp*) noexcept { return 1; }
  static int StartVersion(const OrtCustomOp*) noexcept { return op_table::kOpsetVersion; }

  static OrtStatus* CreateKernel(const OrtCustomOp* op, const OrtApi* table, const OrtKernelInfo* info,
                                 void** kernel) noexcept {
    ort::Api api(table);
    try {
      std::string node;
      if (OrtStatus* st = ReadNodeName(api, info, &node)) return st;
      Op* created = nullptr;
      if (OrtStatus* st = Op::Create(table, info, node, AsMsnOp(op)->variant, &created)) return st;
      *kernel = created;
      return nullptr;
    } catch (const std::exception& e) {
      return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
    } catch (...) {
      char msg[160];
      std::snprintf(msg, sizeof(msg), "%s: unknown error creating the kernel", Spec::kQualifiedName);
      return api.CreateStatus(ORT_RUNTIME_EXCEPTION, msg);
    }
  }

  static OrtStatus* Compute(void* kernel, OrtKernelContext* ctx) noexcept {
    const Op* op = static_cast<const Op*>(kernel);
    try {
      return op->Compute(ctx);
    } catch (const std::exception& e) {
      return op->Fail(ORT_RUNTIME_EXCEPTION, e.what());
    } catch (...) {
      return op->Fail(ORT_RUNTIME_EXCEPTION, "unknown error");
    }
  }

  static void Destroy(void* kernel) noexcept { delete static_cast<Op*>(kernel); }

  static constexpr MsnOp Make(ONNXTensorElementDataType variant) {
    return MsnOp{OrtCustomOp{
                     MSN_ORT_API_VERSION,
                     nullptr,  // CreateKernel: superseded by CreateKernelV2
                     &Name,
                     &CpuProvider,
                     &InputType,
                     &InputCount,
                     &OutputType,
                     &OutputCount,
                     nullptr,  // KernelCompute: superseded by KernelComputeV2
                     &Destroy,
                     &InputKind,
                     &OutputKind,
                     &DefaultMemory,
                     &NotVariadic,
                     &NotVariadic,
                     &NotVariadic,
                     &NotVariadic,
                     &CreateKernel,
                     &Compute,
                     nullptr,  // InferOutputShapeFn: ORT infers the output element types from the declared types
                     &StartVersion,
                     nullptr,  // GetEndVersion: open-ended
                 },
                 variant};
  }
};

}  // namespace msn

#endif  // MSN_ORT_OP_GLUE_H
