// Transcendental functions written so the compiler can vectorise loops that call them:
// branch-free code on float/double (every case is computed, then selected), no libm calls.
// Included only by per-capability files; internal linkage (anonymous namespace), see loops.h.
// Error bounds are against the correctly rounded result, measured on random inputs by
// tests/test_elementwise.py; float functions that need it compute in double.
//
// vexp: Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2, then a minimax polynomial
// for e^r (degree 6 for float, 13 for double), scaled by 2^k through the exponent bits.
// Max error about 1 ulp (float) over the finite range; overflow gives +inf, underflow 0.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ember::cpu {
namespace {

inline uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
inline float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}
inline uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return b;
}
inline double double_of(uint64_t b) {
  double x;
  std::memcpy(&x, &b, 8);
  return x;
}

// Round to nearest (ties to even) by adding and subtracting 2^23 (2^52) with x's sign: plain
// adds, so they vectorise on every instruction set (SSE2 has no round instruction, and
// roundf's ties-away-from-zero has no vector form at all). Values that large are integers.
inline float vrint(float x) {
  float c = __builtin_copysignf(8388608.0f, x);
  return __builtin_fabsf(x) < 8388608.0f ? (x + c) - c : x;
}
inline double vrint(double x) {
  double c = __builtin_copysign(4503599627370496.0, x);
  return __builtin_fabs(x) < 4503599627370496.0 ? (x + c) - c : x;
}
template <class T>
inline T vfloor(T x) {
  T r = vrint(x);
  return r > x ? r - T(1) : r;
}

inline float vexp(float x) {
  const float hi = 88.7228394f, lo = -103.972084f;
  float xc = x > hi ? hi : (x < lo ? lo : x);  // NaN passes through and propagates
  // The shifter 1.5 * 2^23 rounds x / ln2 to the nearest integer k and leaves k in the low
  // mantissa bits of the sum: no round or convert instruction needed.
  float sh = xc * 1.44269504088896341f + 12582912.0f;
  float k = sh - 12582912.0f;
  int32_t ki = static_cast<int32_t>(bits_of(sh)) - 0x4B400000;
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
  int32_t k1 = ki >> 1;
  int32_t k2 = ki - k1;
  float y = p * float_of(static_cast<uint32_t>(k1 + 127) << 23) *
            float_of(static_cast<uint32_t>(k2 + 127) << 23);
  y = x > hi ? INFINITY : y;
  return x < lo ? 0.0f : y;
}

inline double vexp(double x) {
  const double hi = 709.782712893384, lo = -745.1332191019412;
  double xc = x > hi ? hi : (x < lo ? lo : x);
  double k = vrint(xc * 1.4426950408889634);
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

// Reinterpretation helpers (memcpy compiles to a register move and vectorises).

// e^x - 1 = 2^k (e^r - 1) + (2^k - 1) with r reduced as in vexp: exact for k = 0, so accurate
// near 0, and 2^k - 1 is exact for the k that matter. Taylor series for e^r - 1 (truncation
// below 1e-9 relative for float, 1e-17 for double). Max error about 1 ulp (float), 2 ulp
// (double). Below -30 (float) / -40 (double) the result rounds to -1.
inline float vexpm1(float x) {
  const float hi = 88.7228394f;
  float xc = x > hi ? hi : (x < -30.0f ? -30.0f : x);
  float k = vrint(xc * 1.44269504088896341f);
  float r = xc - k * 0.693359375f;
  r = r - k * -2.12194440e-4f;
  float p = 1.0f / 40320;
  p = p * r + 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r * r + r;
  // s = 2^(k-1), so that k = 128 (x near the overflow bound) stays representable.
  float s = float_of(static_cast<uint32_t>(static_cast<int32_t>(k) + 126) << 23);
  float y = (p * s + (s - 0.5f)) * 2.0f;
  y = x > hi ? INFINITY : y;
  y = x < -30.0f ? -1.0f : y;
  return x != x ? x : y;
}

inline double vexpm1(double x) {
  const double hi = 709.782712893384;
  double xc = x > hi ? hi : (x < -40.0 ? -40.0 : x);
  double k = vrint(xc * 1.4426950408889634);
  double r = xc - k * 6.93147180369123816490e-01;
  r = r - k * 1.90821492927058770002e-10;
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
  p = p * r * r + r;
  // 2^(k-1) from the exponent bits; k + 2^52 + 2^51 puts k in the low mantissa bits, which
  // avoids a double -> int64 conversion (no vector instruction for it before AVX-512).
  uint64_t kb = bits_of(k + 6755399441055744.0);
  double s = double_of((kb + 1022) << 52);
  double y = (p * s + (s - 0.5)) * 2.0;
  y = x > hi ? INFINITY : y;
  y = x < -40.0 ? -1.0 : y;
  return x != x ? x : y;
}

// log(x) = k ln2 + log(m), m = x / 2^k in [sqrt(1/2), sqrt(2)), log(m) = log((1+s)/(1-s))
// with s = f / (2 + f), f = m - 1, as in fdlibm: an odd series in s. `lm` returns log(m) and
// `kd` the exponent k (for log2). Subnormals are rescaled first. Max error below 1 ulp.
inline float vlog_parts(float x, float& kd) {
  bool sub = x < 1.17549435e-38f;
  uint32_t ix = bits_of(sub ? x * 8388608.0f : x);
  ix += 0x3f800000u - 0x3f3504f3u;
  kd = static_cast<float>(static_cast<int32_t>(ix >> 23) - 0x7f) - (sub ? 23.0f : 0.0f);
  float f = float_of((ix & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
  float s = f / (2.0f + f);
  float z = s * s;
  float w = z * z;
  float t1 = w * (0.40000972152f + w * 0.24279078841f);
  float t2 = z * (0.66666662693f + w * 0.28498786688f);
  float hfsq = 0.5f * f * f;
  return s * (hfsq + t1 + t2) - hfsq + f;
}

inline double vlog_parts(double x, double& kd) {
  bool sub = x < 2.2250738585072014e-308;
  uint64_t ix = bits_of(sub ? x * 18014398509481984.0 : x);  // 2^54
  uint64_t hx = (ix >> 32) + (0x3ff00000u - 0x3fe6a09eu);
  // k as a double without an int64 -> double conversion: 2^52 + e, minus 2^52.
  kd = double_of(0x4330000000000000ull | (hx >> 20)) - 4503599627370496.0 - 1023.0 -
       (sub ? 54.0 : 0.0);
  ix = (((hx & 0x000fffffu) + 0x3fe6a09eu) << 32) | (ix & 0xffffffffu);
  double f = double_of(ix) - 1.0;
  double s = f / (2.0 + f);
  double z = s * s;
  double w = z * z;
  double t1 = w * (3.999999999940941908e-01 +
                   w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  double t2 = z * (6.666666666666735130e-01 +
                   w * (2.857142874366239149e-01 +
                        w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  double hfsq = 0.5 * f * f;
  return s * (hfsq + t1 + t2) - hfsq + f;
}

// The IEEE special cases shared by the log family: negative -> NaN, 0 -> -inf, +inf, NaN.
template <class T>
inline T log_specials(T x, T y) {
  y = x < T(0) ? T(NAN) : y;
  y = x == T(0) ? -T(INFINITY) : y;
  y = x == T(INFINITY) ? x : y;
  return x != x ? x : y;
}

// Max error about 1 ulp: ln2 is split so that k * ln2_hi is exact.
inline float vlog(float x) {
  float kd;
  float lm = vlog_parts(x, kd);
  return log_specials(x, kd * 6.9313812256e-01f + (lm + kd * 9.0580006145e-06f));
}

inline double vlog(double x) {
  double kd;
  double lm = vlog_parts(x, kd);
  return log_specials(x, kd * 6.93147180369123816490e-01 + (lm + kd * 1.90821492927058770002e-10));
}

// k + log(m) / ln2: exact at powers of two; max error about 1.5 ulp.
template <class T>
inline T vlog2(T x) {
  T kd;
  T lm = vlog_parts(x, kd);
  return log_specials(x, kd + lm * T(1.44269504088896340736));
}

// log(u) with u = 1 + x rounded, plus the first-order correction (x - (u - 1)) / u for that
// rounding (Goldberg's trick): accurate near 0, max error about 2 ulp.
template <class T>
inline T vlog1p(T x) {
  T u = T(1) + x;
  T y = vlog(u) + (x - (u - T(1))) / u;
  y = u == T(0) ? -T(INFINITY) : y;
  return x == T(INFINITY) ? x : y;
}

// 1 / (1 + e^-x): about 2 ulp; saturates to 0 and 1 without NaN.
template <class T>
inline T vsigmoid(T x) {
  return T(1) / (T(1) + vexp(-x));
}

// tanh |x| = t / (t + 2) with t = e^{2|x|} - 1 (expm1 keeps it accurate near 0); |x| is
// clamped at 20 where tanh is 1 in double. Max error about 2 ulp.
template <class T>
inline T vtanh(T x) {
  T a = __builtin_fabs(x);
  a = a > T(20) ? T(20) : a;
  T t = vexpm1(a + a);
  return __builtin_copysign(t / (t + T(2)), x);
}

// sin and cos: x = q pi/2 + y with pi/2 in three parts (fdlibm's medium-size reduction,
// exact while |q| < 2^20), then fdlibm's kernels on |y| <= pi/4 and a quadrant select.
// Valid for |x| <= kTrigMax; loops fall back to libm above it (see guarded_unary_loop).
// Max error about 1 ulp (double); float computes in double and rounds once (0.5 ulp).
constexpr double kTrigMax = 8.0e5;

inline double trig_reduce(double x, double& quadrant) {
  double q = vrint(x * 6.36619772367581382433e-01);
  double r = x - q * 1.57079632673412561417e+00;
  double t = r;
  double w = q * 6.07710050630396597660e-11;
  r = t - w;
  w = q * 2.02226624879595063154e-21 - ((t - r) - w);
  t = r;
  double w3 = q * 2.02226624871116645580e-21;
  r = t - w3;
  w = q * 8.47842766036889956997e-32 - ((t - r) - w3);
  quadrant = q - 4.0 * vfloor(q * 0.25);
  return r - w;
}

inline double sin_poly(double y) {
  double z = y * y;
  double r = 8.33333333332248946124e-03 +
             z * (-1.98412698298579493134e-04 +
                  z * (2.75573137070700676789e-06 +
                       z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  return y + z * y * (-1.66666666666666324348e-01 + z * r);
}

inline double cos_poly(double y) {
  double z = y * y;
  double w = z * z;
  double r = z * (4.16666666666666019037e-02 +
                  z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05)) +
             w * w * (-2.75573143513906633035e-07 +
                      z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
  double hz = 0.5 * z;
  double v = 1.0 - hz;
  return v + (((1.0 - v) - hz) + z * r);
}

inline double vsin(double x) {
  double n;
  double y = trig_reduce(x, n);
  double s = sin_poly(y), c = cos_poly(y);
  double v = n == 0.0 ? s : (n == 1.0 ? c : (n == 2.0 ? -s : -c));
  return x == 0.0 ? x : v;  // keeps the sign of -0
}

inline double vcos(double x) {
  double n;
  double y = trig_reduce(x, n);
  double s = sin_poly(y), c = cos_poly(y);
  return n == 0.0 ? c : (n == 1.0 ? -s : (n == 2.0 ? -c : s));
}

inline float vsin(float x) { return static_cast<float>(vsin(static_cast<double>(x))); }
inline float vcos(float x) { return static_cast<float>(vcos(static_cast<double>(x))); }

// erf and erfc of |x| from fdlibm's four rational approximations ([0, 0.84375),
// [0.84375, 1.25), [1.25, 1/0.35), [1/0.35, 28)), all evaluated and then selected. The tail
// exp(-x^2) is split as exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S), z = x with its low 32
// bits cleared (12 for float), so x^2 is never rounded. Max error about 1 ulp in double and
// about 2 ulp in float (the same coefficients rounded to float, as fdlibm's erff).
template <class T>
__attribute__((always_inline)) inline void erf_parts(T x, T& erf_abs, T& erfc_abs) {
  T a = x < T(0) ? -x : x;
  // [0, 0.84375): erf = a + a P(a^2)/Q(a^2)
  T z = a * a;
  T r = T(1.28379167095512558561e-01) +
             z * (T(-3.25042107247001499370e-01) +
                  z * (T(-2.84817495755985104766e-02) +
                       z * (T(-5.77027029648944159157e-03) + z * T(-2.37630166566501626084e-05))));
  T s = T(1.0) + z * (T(3.97917223959155352819e-01) +
                        z * (T(6.50222499887672944485e-02) +
                             z * (T(5.08130628187576562776e-03) +
                                  z * (T(1.32494738004321644526e-04) +
                                       z * T(-3.96022827877536812320e-06)))));
  T y = r / s;
  T erf_a = a + a * y;
  T erfc_a = a < T(0.25) ? T(1.0) - erf_a : T(0.5) - (a * y + (a - T(0.5)));
  // [0.84375, 1.25): erf = erx + P(a - 1)/Q(a - 1)
  const T erx = T(8.45062911510467529297e-01);
  T t = a - T(1.0);
  T p = T(-2.36211856075265944077e-03) +
             t * (T(4.14856118683748331666e-01) +
                  t * (T(-3.72207876035701323847e-01) +
                       t * (T(3.18346619901161753674e-01) +
                            t * (T(-1.10894694282396677476e-01) +
                                 t * (T(3.54783043256182359371e-02) +
                                      t * T(-2.16637559486879084300e-03))))));
  T q = T(1.0) + t * (T(1.06420880400844228286e-01) +
                        t * (T(5.40397917702171048937e-01) +
                             t * (T(7.18286544141962662868e-02) +
                                  t * (T(1.26171219808761642112e-01) +
                                       t * (T(1.36370839120290507362e-02) +
                                            t * T(1.19844998467991074170e-02))))));
  T erf_b = erx + p / q;
  T erfc_b = T(1.0) - erx - p / q;
  // [1.25, 28): erfc = exp(-a^2 - 0.5625 + R(1/a^2)/S(1/a^2)) / a
  T ac = a < T(28.0) ? a : T(28.0);
  T u = T(1.0) / (ac * ac);
  T ra = T(-9.86494403484714822705e-03) +
              u * (T(-6.93858572707181764372e-01) +
                   u * (T(-1.05586262253232909814e+01) +
                        u * (T(-6.23753324503260060396e+01) +
                             u * (T(-1.62396669462573470355e+02) +
                                  u * (T(-1.84605092906711035994e+02) +
                                       u * (T(-8.12874355063065934246e+01) +
                                            u * T(-9.81432934416914548592e+00)))))));
  T sa = T(1.0) + u * (T(1.96512716674392571292e+01) +
                         u * (T(1.37657754143519042600e+02) +
                              u * (T(4.34565877475229228821e+02) +
                                   u * (T(6.45387271733267880336e+02) +
                                        u * (T(4.29008140027567833386e+02) +
                                             u * (T(1.08635005541779435134e+02) +
                                                  u * (T(6.57024977031928170135e+00) +
                                                       u * T(-6.04244152148580987438e-02))))))));
  T rb = T(-9.86494292470009928597e-03) +
              u * (T(-7.99283237680523006574e-01) +
                   u * (T(-1.77579549177547519889e+01) +
                        u * (T(-1.60636384855821916062e+02) +
                             u * (T(-6.37566443368389627722e+02) +
                                  u * (T(-1.02509513161107724954e+03) +
                                       u * T(-4.83519191608651397019e+02))))));
  T sb = T(1.0) + u * (T(3.03380607434824582924e+01) +
                         u * (T(3.25792512996573918826e+02) +
                              u * (T(1.53672958608443695994e+03) +
                                   u * (T(3.19985821950859553908e+03) +
                                        u * (T(2.55305040643316442583e+03) +
                                             u * (T(4.74528541206955367215e+02) +
                                                  u * T(-2.24409524465858183362e+01)))))));
  T rs = ac < T(1.0) / T(0.35) ? ra / sa : rb / sb;
  T zh;
  if constexpr (sizeof(T) == 8) {
    zh = double_of(bits_of(ac) & 0xffffffff00000000ull);
  } else {
    zh = float_of(bits_of(ac) & 0xfffff000u);
  }
  T erfc_c;
  if constexpr (sizeof(T) == 8) {
    erfc_c = vexp(-zh * zh - 0.5625) * vexp((zh - ac) * (zh + ac) + rs) / ac;
  } else {
    // The exponent reaches -800: in float its rounding alone would cost ~50 ulp.
    double e = -double(zh) * double(zh) - 0.5625 + double((zh - ac) * (zh + ac) + rs);
    erfc_c = static_cast<float>(vexp(e) / double(ac));
  }
  erfc_c = a >= T(28.0) ? T(0.0) : erfc_c;
  T erf_c = T(1.0) - erfc_c;
  bool in_a = a < T(0.84375), in_b = a < T(1.25);
  erf_abs = in_a ? erf_a : (in_b ? erf_b : erf_c);
  erfc_abs = in_a ? erfc_a : (in_b ? erfc_b : erfc_c);
}

// Float: fdlibm's rational on [0, 0.84375); above, erfc = t exp(-a^2 + P(t)), t = 1/(1 + a/2)
// (Numerical Recipes 6.2, relative error < 1.2e-7 for all a >= 0), all in float lanes. Two
// divisions instead of the four of the double path: about 2 ulp.
inline void erf_parts(float x, float& erf_abs, float& erfc_abs) {
  float a = x < 0.0f ? -x : x;
  float z = a * a;
  float r = 1.28379167e-01f +
            z * (-3.25042107e-01f + z * (-2.84817495e-02f + z * (-5.77027029e-03f +
                                                               z * -2.37630166e-05f)));
  float s = 1.0f + z * (3.97917224e-01f +
                        z * (6.50222500e-02f +
                             z * (5.08130628e-03f + z * (1.32494738e-04f + z * -3.96022828e-06f))));
  float y = r / s;
  float erf_a = a + a * y;
  float erfc_a = a < 0.25f ? 1.0f - erf_a : 0.5f - (a * y + (a - 0.5f));
  float ac = a < 10.0f ? a : 10.0f;  // erfc(10) < 2^-149 rounds to 0; keeps inf out of h below
  float t = 1.0f / (1.0f + 0.5f * ac);
  float p = -1.26551223f +
            t * (1.00002368f +
                 t * (0.37409196f +
                      t * (0.09678418f +
                           t * (-0.18628806f +
                                t * (0.27886807f +
                                     t * (-1.13520398f +
                                          t * (1.48851587f +
                                               t * (-0.82215223f + t * 0.17087277f))))))));
  // e^(-a^2) = e^(-h^2) e^(-(a - h)(a + h)) with h = a's top 12 bits: h^2 is exact, so the big
  // exponent carries no rounding; the small one carries only a relative 2^-24 of itself.
  float h = float_of(bits_of(ac) & 0xfffff000u);
  float erfc_b = a < 10.0f ? t * vexp(-h * h) * vexp(p - (ac - h) * (ac + h)) : 0.0f;
  bool small = a < 0.84375f;
  erf_abs = small ? erf_a : 1.0f - erfc_b;
  erfc_abs = small ? erfc_a : erfc_b;
}

inline double verf(double x) {
  double e, c;
  erf_parts(x, e, c);
  return x != x ? x : __builtin_copysign(e, x);
}

inline double verfc(double x) {
  double e, c;
  erf_parts(x, e, c);
  return x != x ? x : (x < 0.0 ? 2.0 - c : c);
}

inline float verf(float x) {
  float e, c;
  erf_parts(x, e, c);
  return x != x ? x : __builtin_copysignf(e, x);
}

inline float verfc(float x) {
  float e, c;
  erf_parts(x, e, c);
  return x != x ? x : (x < 0.0f ? 2.0f - c : c);
}

// gelu's erf form, x erfc(-x / sqrt 2) / 2. In float the product x / sqrt 2 is rounded, and in
// the tail erfc's relative error grows as 2b times that rounding (50 ulp at x = -9): b is
// formed in double, and its low part corrects erfc to first order, d ln erfc(b) / db being
// about -(2b + 1/b) for b > 1.
inline float vgelu_erf(float x) {
#if defined(__FMA__)
  // b + lo = -x (c_hi + c_lo) to about 2^-48: the FMA gives the rounding error of -x c_hi.
  const float c_hi = 0.707106769f, c_lo = 1.21016175e-08f;
  float b = -x * c_hi;
  float lo = __builtin_fmaf(-x, c_hi, -b) - x * c_lo;
#else
  double bd = -double(x) * 0.70710678118654752440;
  float b = static_cast<float>(bd);
  float lo = static_cast<float>(bd - double(b));
#endif
  float corr = b > 1.0f ? 1.0f - (2.0f * b + 1.0f / b) * lo : 1.0f;
  return 0.5f * x * verfc(b) * corr;
}

inline double vgelu_erf(double x) { return 0.5 * x * verfc(-x * 0.70710678118654752440); }

// x^y for float in double: e^(y log|x|) carries |y log x| < 2^8 with 2^-45 relative error,
// so rounding to float gives 0.5 ulp. Signs and the C99 special cases (pow(x, 0) = 1,
// pow(1, y) = 1, pow(-1, +-inf) = 1, negative base with non-integer exponent = NaN) are
// selected after. Double pow uses libm (the double-double log it needs is not worth it here).
inline float vpow(float xf, float yf) {
  double x = xf, y = yf;
  double ax = __builtin_fabs(x);
  double lx = vlog(ax);
  double v = vexp(y * lx);
  bool y_int = vfloor(y) == y;
  bool y_odd = y_int && (y - 2.0 * vfloor(y * 0.5)) == 1.0;
  v = x < 0.0 && y_odd ? -v : v;
  v = x < 0.0 && !y_int ? NAN : v;
  v = x == 0.0 && y_odd ? __builtin_copysign(v, x) : v;
  v = ax == 1.0 && (y != y || y == INFINITY || y == -INFINITY) && x == x ? 1.0 : v;
  v = x == 1.0 || y == 0.0 ? 1.0 : v;
  return static_cast<float>(v);
}

}  // namespace
}  // namespace ember::cpu
