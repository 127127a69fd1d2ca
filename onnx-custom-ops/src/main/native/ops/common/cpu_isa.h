// cpu_isa.h - which build of the vectorised inner loops this process uses.
#ifndef MSN_CPU_ISA_H_
#define MSN_CPU_ISA_H_

namespace msn {

// kAvx2: the CPU has AVX2, FMA and F16C (x86-64-v3 level); kGeneric: baseline x86-64 (SSE2).
enum class Isa { kGeneric, kAvx2 };

// Decided once per process from the CPU; MSN_ORT_OPS_ISA=generic in the environment forces the
// baseline build (tests use it to cover both).
Isa ActiveIsa();

// "avx2" or "generic".
const char* ActiveIsaName();

}  // namespace msn

#endif  // MSN_CPU_ISA_H_
