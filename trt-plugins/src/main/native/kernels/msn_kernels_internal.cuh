// Small helpers shared by the kernel translation units (not part of the C API).
#ifndef MSN_KERNELS_INTERNAL_CUH
#define MSN_KERNELS_INTERNAL_CUH

#include <stdint.h>
#include <stdlib.h>

namespace msn {

// Whether the small-N launch shapes (SparseGather's block per row slab, PKMRetrieval's split
// halves) may be used. MSN_KERNELS_SMALL_N=0 turns them off, so that the test harness can compare
// both paths (bit for bit, and in time) on the same inputs; read at every launch.
inline bool smallNPathsEnabled() {
    const char* v = getenv("MSN_KERNELS_SMALL_N");
    return !(v && v[0] == '0' && v[1] == '\0');
}

inline bool isAligned(const void* p, unsigned bytes) {
    return (reinterpret_cast<uintptr_t>(p) % bytes) == 0u;
}

} // namespace msn

#endif // MSN_KERNELS_INTERNAL_CUH
