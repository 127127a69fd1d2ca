// Small helpers shared by the kernel translation units (not part of the C API).
#ifndef MSN_KERNELS_INTERNAL_CUH
#define MSN_KERNELS_INTERNAL_CUH

#include <stdint.h>

namespace msn {

inline bool isAligned(const void* p, unsigned bytes) {
    return (reinterpret_cast<uintptr_t>(p) % bytes) == 0u;
}

} // namespace msn

#endif // MSN_KERNELS_INTERNAL_CUH
