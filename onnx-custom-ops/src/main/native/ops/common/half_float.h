// half_float.h - float16 / bfloat16 <-> float32 conversions, portable (no F16C needed).
#ifndef MSN_HALF_FLOAT_H_
#define MSN_HALF_FLOAT_H_

#include <cstdint>
#include <cstring>

namespace msn {

inline float BitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t FloatToBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// IEEE binary16 -> binary32, exact for every input (normals, subnormals, zeros, inf, NaN).
// Normals and inf/NaN: move exponent+mantissa into float position and re-bias the exponent by
// adding 112 (127 - 15) in the bit pattern; inf/NaN then get the all-ones exponent. Subnormals:
// an exact int->float conversion times 2^-24. No denormal float is ever an operand, so the result
// does not depend on FTZ/DAZ settings. Branch-free, so a loop of it auto-vectorises.
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t mag = static_cast<uint32_t>(h & 0x7fffu);
  const uint32_t wide = ((mag << 13) + 0x38000000u) | (mag >= 0x7c00u ? 0x7f800000u : 0u);
  const float sub = static_cast<float>(static_cast<int32_t>(mag)) * 5.9604644775390625e-8f;  // 2^-24
  const uint32_t bits = mag < 0x400u ? FloatToBits(sub) : wide;
  return BitsToFloat(bits | sign);
}

// binary32 -> IEEE binary16, round to nearest, ties to even; overflow gives inf, NaN stays NaN.
inline uint16_t FloatToHalf(float f) {
  const uint32_t x = FloatToBits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x0200u : 0u));
  }
  if (ax >= 0x477ff000u) {  // rounds to >= 65520: overflow to inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  if (ax < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    // Adding 0.5 lines the half-subnormal grid up with float's mantissa LSBs, so the FPU's own
    // round-to-nearest-even does the rounding.
    const float r = BitsToFloat(ax) + 0.5f;
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(FloatToBits(r) - FloatToBits(0.5f)));
  }
  // Normal: re-bias the exponent (127 -> 15) and round the 13 dropped mantissa bits to even.
  const uint32_t odd = (ax >> 13) & 1u;
  const uint32_t rounded = ax + 0xc8000fffu + odd;  // -(112 << 23) + 0xfff + odd, modulo 2^32
  return static_cast<uint16_t>(sign | static_cast<uint16_t>(rounded >> 13));
}

// bfloat16 is the top half of a float32: widening is exact.
inline float Bfloat16ToFloat(uint16_t b) { return BitsToFloat(static_cast<uint32_t>(b) << 16); }

}  // namespace msn

#endif  // MSN_HALF_FLOAT_H_
