// Transcendental functions written so the compiler can vectorise loops that call them:
// branch-free polynomial kernels on float/double, no libm calls. Included only by
// per-capability files; internal linkage (anonymous namespace), see loops.h.
//
// vexp: Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2, then a minimax polynomial
// for e^r (degree 6 for float, 11 for double), scaled by 2^k through the exponent bits.
// Max error about 1 ulp (float) over the finite range; overflow gives +inf, underflow 0.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ember::cpu {
namespace {

inline float vexp(float x) {
  const float hi = 88.7228394f, lo = -103.972084f;
  float xc = x > hi ? hi : (x < lo ? lo : x);
  float k = __builtin_roundf(xc * 1.44269504088896341f);
  float r = xc - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^k in two halves so k down to -150 (subnormal results) and up to 128 stay exact.
  int32_t ki = static_cast<int32_t>(k);
  int32_t k1 = ki >> 1;
  int32_t k2 = ki - k1;
  int32_t b1 = (k1 + 127) << 23;
  int32_t b2 = (k2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  float y = p * s1 * s2;
  y = x > hi ? INFINITY : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

inline double vexp(double x) {
  const double hi = 709.782712893384, lo = -745.1332191019412;
  double xc = x > hi ? hi : (x < lo ? lo : x);
  double k = __builtin_round(xc * 1.4426950408889634);
  double r = xc - k * 6.93147180369123816490e-01;
  r = r - k * 1.90821492927058770002e-10;
  // Taylor series to degree 13 on |r| <= 0.347: truncation below 1e-17 relative.
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r * r + r + 1.0;
  int64_t ki = static_cast<int64_t>(k);
  int64_t k1 = ki >> 1;
  int64_t k2 = ki - k1;
  int64_t b1 = (k1 + 1023) << 52;
  int64_t b2 = (k2 + 1023) << 52;
  double s1, s2;
  std::memcpy(&s1, &b1, 8);
  std::memcpy(&s2, &b2, 8);
  double y = p * s1 * s2;
  y = x > hi ? INFINITY : y;
  y = x < lo ? 0.0 : y;
  return x != x ? x : y;
}

}  // namespace
}  // namespace ember::cpu
