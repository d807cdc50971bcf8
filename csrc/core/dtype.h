// Element types and the conversions every kernel family shares.
//
// Everything here is constexpr or `static inline`, so each translation unit (including the
// per-capability kernel objects) gets its own copy: no symbol compiled with AVX-512 flags
// can be chosen by the linker for a baseline caller.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ember {

// The order is the promotion lattice within each category (bool < ints < floats).
enum class DType : int8_t { Bool = 0, Int32, Int64, Float16, BFloat16, Float32, Float64 };
constexpr int kNumDTypes = 7;

static constexpr size_t kItemSize[kNumDTypes] = {1, 4, 8, 2, 2, 4, 8};
static constexpr const char* kDTypeName[kNumDTypes] = {
    "bool", "int32", "int64", "float16", "bfloat16", "float32", "float64"};

static inline constexpr size_t itemsize(DType t) { return kItemSize[static_cast<int>(t)]; }
static inline constexpr const char* dtype_name(DType t) {
  return kDTypeName[static_cast<int>(t)];
}
static inline constexpr bool is_floating(DType t) { return t >= DType::Float16; }
static inline constexpr bool is_integral(DType t) {
  return t == DType::Int32 || t == DType::Int64;
}
// float16/bfloat16 are storage types: arithmetic on them runs in float32.
static inline constexpr DType compute_dtype(DType t) {
  return (t == DType::Float16 || t == DType::BFloat16) ? DType::Float32 : t;
}

// PyTorch's promotion of two tensor dtypes: the higher category wins; within floats the wider;
// float16 with bfloat16 gives float32.
static inline constexpr DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::Float16 && b == DType::BFloat16) ||
      (a == DType::BFloat16 && b == DType::Float16))
    return DType::Float32;
  return a > b ? a : b;
}

// IEEE binary16 <-> binary32, round to nearest even; NaN and infinities preserved.
static inline float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: renormalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static inline uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  }
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow
  if (absx < 0x38800000u) {  // subnormal or zero in half
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t e = absx >> 23;
    uint32_t m = (absx & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e;  // 14..24
    uint32_t half_m = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_m & 1u))) ++half_m;
    return static_cast<uint16_t>(sign | half_m);
  }
  uint32_t r = absx - 0x38000000u;  // rebias exponent 127 -> 15
  uint32_t lsb = (r >> 13) & 1u;
  r += 0xfffu + lsb;  // round to nearest even
  return static_cast<uint16_t>(sign | (r >> 13));
}

static inline float bf16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static inline uint16_t float_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  x += 0x7fffu + ((x >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace ember
