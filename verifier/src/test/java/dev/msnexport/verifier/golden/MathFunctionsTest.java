package dev.msnexport.verifier.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The golden model's special functions against values computed elsewhere. */
class MathFunctionsTest {
  @Test
  void erfAgainstKnownValues() {
    // reference values: Python's math.erf (correctly rounded libm)
    assertEquals(0.0, MathFunctions.erf(0), 0);
    assertEquals(0.5204998778130465, MathFunctions.erf(0.5), 1e-15);
    assertEquals(0.8427007929497149, MathFunctions.erf(1), 1e-15);
    assertEquals(0.9953222650189527, MathFunctions.erf(2), 1e-15);
    assertEquals(0.9999779095030014, MathFunctions.erf(3), 1e-15);
    assertEquals(0.9999999845827421, MathFunctions.erf(4), 1e-15);
    assertEquals(-0.9661051464753108, MathFunctions.erf(-1.5), 1e-15);
    assertEquals(0.9995930479825550, MathFunctions.erf(2.5), 1e-15);
    assertEquals(0.9996142945182758, MathFunctions.erf(2.51), 1e-15);
    assertEquals(
        0.9953222650189527,
        MathFunctions.erf(2.0000001) - 1.0e-7 * 2 / Math.sqrt(Math.PI) * Math.exp(-4),
        1e-13);
    assertEquals(1.0, MathFunctions.erf(10), 0);
  }
}
