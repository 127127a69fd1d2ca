// cpu_isa.cc - see cpu_isa.h.
#include "cpu_isa.h"

#include <cstdlib>
#include <cstring>

namespace msn {
namespace {

Isa Resolve() {
  const char* forced = std::getenv("MSN_ORT_OPS_ISA");
  if (forced != nullptr && std::strcmp(forced, "generic") == 0) return Isa::kGeneric;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return Isa::kAvx2;
  }
  return Isa::kGeneric;
}

}  // namespace

Isa ActiveIsa() {
  static const Isa isa = Resolve();  // thread-safe one-time initialisation
  return isa;
}

const char* ActiveIsaName() { return ActiveIsa() == Isa::kAvx2 ? "avx2" : "generic"; }

}  // namespace msn
