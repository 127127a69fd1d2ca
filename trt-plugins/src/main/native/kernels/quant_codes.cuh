// One-byte codes of quantized value tables (docs/model-contract.md, "Quantized value tables"),
// decoded to float32 exactly: int8 codes in [-127, 127], and OCP FP8 E4M3FN (1 sign bit, 4
// exponent bits of bias 7, 3 mantissa bits; subnormals m * 2^-9; no infinity; S.1111.111 NaN).
// The tables are checked when they are made (exporter) and loaded (ORT kernel); the GPU kernel
// decodes what it is given.
#ifndef MSN_QUANT_CODES_CUH
#define MSN_QUANT_CODES_CUH

#include <stdint.h>

namespace msn {

// An E4M3FN code as a distinct element type (the kernels' VT), one byte.
struct E4m3Code {
    unsigned char bits;
};
static_assert(sizeof(E4m3Code) == 1, "E4m3Code is one byte");

__device__ __forceinline__ float int8CodeToFloat(unsigned byte) {
    return static_cast<float>(static_cast<int8_t>(static_cast<unsigned char>(byte)));
}

// Normals: the float32 bit pattern with exponent e - 7 + 127 = e + 120 and the 3 mantissa bits on
// top of float's 23; subnormals: m * 2^-9 (exact).
__device__ __forceinline__ float e4m3CodeToFloat(unsigned byte) {
    const unsigned sign = (byte & 0x80u) << 24;
    const unsigned e = (byte >> 3) & 0xfu;
    const unsigned m = byte & 0x7u;
    float v = e == 0 ? static_cast<float>(m) * 0.001953125f : __uint_as_float(((e + 120u) << 23) | (m << 20));
    if (e == 0xfu && m == 0x7u) v = __uint_as_float(0x7fc00000u);
    return __uint_as_float(__float_as_uint(v) | sign);
}

} // namespace msn

#endif // MSN_QUANT_CODES_CUH
