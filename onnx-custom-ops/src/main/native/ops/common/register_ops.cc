// register_ops.cc - the library's only export, RegisterCustomOps: one OrtCustomOpDomain named
// after the op table's domain, holding every op of RegisteredOps() (ops/op_list.cc).
#include <exception>
#include <mutex>
#include <string>

#include "msn_op_table.h"
#include "msn_ort_abi.h"
#include "ort_op_glue.h"

namespace msn {
namespace {

// One domain per loaded copy of this library, shared by every session options object that
// registers it. ORT requires a domain to outlive the sessions that use it and never frees it
// itself, so it is deliberately never released (a few hundred bytes per process).
std::mutex g_domain_mutex;
OrtCustomOpDomain* g_domain = nullptr;

OrtStatus* Register(const ort::Api& api, OrtSessionOptions* options) {
  std::lock_guard<std::mutex> lock(g_domain_mutex);
  if (g_domain == nullptr) {
    OrtCustomOpDomain* domain = nullptr;
    if (OrtStatus* st = api.CreateCustomOpDomain(op_table::kDomain, &domain)) return st;
    const OpList list = RegisteredOps();
    for (size_t i = 0; i < list.count; ++i) {
      if (OrtStatus* st = api.CustomOpDomainAdd(domain, &list.ops[i]->ort)) return st;  // leaks `domain`; never expected
    }
    g_domain = domain;
  }
  return api.AddCustomOpDomain(options, g_domain);
}

}  // namespace
}  // namespace msn

extern "C" __attribute__((visibility("default"))) OrtStatus* RegisterCustomOps(OrtSessionOptions* options,
                                                                               const OrtApiBase* api_base) {
  if (api_base == nullptr) return nullptr;  // nothing to report through
  const OrtApi* table = api_base->GetApi(MSN_ORT_API_VERSION);
  if (table == nullptr) {
    // CreateStatus is slot 0 of every API version, so version 1 can still carry the message.
    const OrtApi* v1 = api_base->GetApi(1);
    if (v1 == nullptr) return nullptr;
    const std::string msg = std::string("libmsn_ort_ops needs ONNX Runtime C API version ") +
                            std::to_string(MSN_ORT_API_VERSION) + " (ONNX Runtime >= 1.17); this runtime is " +
                            api_base->GetVersionString();
    return msn::ort::Api(v1).CreateStatus(ORT_FAIL, msg.c_str());
  }
  const msn::ort::Api api(table);
  try {
    return msn::Register(api, options);
  } catch (const std::exception& e) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, e.what());
  } catch (...) {
    return api.CreateStatus(ORT_RUNTIME_EXCEPTION, "libmsn_ort_ops: unknown error registering the msn domain");
  }
}
