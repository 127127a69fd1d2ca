// Small helpers shared by the kernel translation units (not part of the C API).
#ifndef MSN_KERNELS_INTERNAL_CUH
#define MSN_KERNELS_INTERNAL_CUH

#include <stdint.h>
#include <stdlib.h>

namespace msn {

// How the kernels choose between their wide launch shapes and the small-N ones (SparseGather's
// block per row slab, PKMRetrieval's split halves), from MSN_KERNELS_SMALL_N, read at every launch
// so that the test harness can compare the paths (bit for bit, and in time) on the same inputs:
// unset (or any other value) = by N and the SM count, "0" = wide paths only, "1" = small-N paths
// wherever the launch allows them (for measurements).
enum class SmallN { Auto, Off, Always };
inline SmallN smallNMode() {
    const char* v = getenv("MSN_KERNELS_SMALL_N");
    if (v && v[0] != '\0' && v[1] == '\0') {
        if (v[0] == '0') return SmallN::Off;
        if (v[0] == '1') return SmallN::Always;
    }
    return SmallN::Auto;
}

inline bool isAligned(const void* p, unsigned bytes) {
    return (reinterpret_cast<uintptr_t>(p) % bytes) == 0u;
}

} // namespace msn

#endif // MSN_KERNELS_INTERNAL_CUH
