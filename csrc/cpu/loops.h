// Inner loops shared by the CPU kernel families. Included only by per-capability files
// (csrc/cpu/*.cpp); everything here sits in an anonymous namespace so that each capability's
// object gets its own copy, compiled with its own instruction set.
//
// A loop receives n elements and a byte stride per argument. The common layouts get loops the
// compiler vectorises (every operand contiguous; one input a broadcast scalar); anything else
// takes the scalar strided loop.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dispatch.h"
#include "core/iter.h"

namespace ember::cpu {
namespace {

using bf16_t = struct bf16_tag {
  uint16_t x;
};
using half_t = struct half_tag {
  uint16_t x;
};

// Value conversions between the C++ types behind each DType (see core/dtype.h).
template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<From, half_t>) {
    return convert<To>(half_to_float(v.x));
  } else if constexpr (std::is_same_v<From, bf16_t>) {
    return convert<To>(bf16_to_float(v.x));
  } else if constexpr (std::is_same_v<To, half_t>) {
    return half_t{float_to_half(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, bf16_t>) {
    return bf16_t{float_to_bf16(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

// Calls f(T{}) with T the C++ type of `dtype`.
template <class F>
inline void visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: f(bool{}); break;
    case DType::Int32: f(int32_t{}); break;
    case DType::Int64: f(int64_t{}); break;
    case DType::Float16: f(half_t{}); break;
    case DType::BFloat16: f(bf16_t{}); break;
    case DType::Float32: f(float{}); break;
    case DType::Float64: f(double{}); break;
  }
}

template <class T>
inline T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// out[i] = op(a[i], b[i]) with T the input type and R the output type. op is a functor whose
// call operator is inlined into the loop; params come from the ElemIter (alpha, beta).
template <class T, class R, class Op>
inline void binary_loop(char** data, const int64_t* s, int64_t n, const Op& op) {
  constexpr int64_t ti = sizeof(T), ro = sizeof(R);
  char* o = data[0];
  const char* a = data[1];
  const char* b = data[2];
  if (s[0] == ro && s[1] == ti && s[2] == ti) {
    R* __restrict out = reinterpret_cast<R*>(o);
    const T* __restrict x = reinterpret_cast<const T*>(a);
    const T* __restrict y = reinterpret_cast<const T*>(b);
    if (o == a || o == b) {  // in place: same index read then written, aliasing is benign
      R* out2 = reinterpret_cast<R*>(o);
      const T* x2 = reinterpret_cast<const T*>(a);
      const T* y2 = reinterpret_cast<const T*>(b);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out2[i] = op(x2[i], y2[i]);
      return;
    }
    for (int64_t i = 0; i < n; ++i) out[i] = op(x[i], y[i]);
  } else if (s[0] == ro && s[1] == ti && s[2] == 0) {
    R* out = reinterpret_cast<R*>(o);
    const T* x = reinterpret_cast<const T*>(a);
    const T y = *reinterpret_cast<const T*>(b);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = op(x[i], y);
  } else if (s[0] == ro && s[1] == 0 && s[2] == ti) {
    R* out = reinterpret_cast<R*>(o);
    const T x = *reinterpret_cast<const T*>(a);
    const T* y = reinterpret_cast<const T*>(b);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = op(x, y[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<R*>(o + i * s[0]) =
          op(*reinterpret_cast<const T*>(a + i * s[1]), *reinterpret_cast<const T*>(b + i * s[2]));
    }
  }
}

// out[i] = op(a[i]).
template <class T, class R, class Op>
inline void unary_loop(char** data, const int64_t* s, int64_t n, const Op& op) {
  constexpr int64_t ti = sizeof(T), ro = sizeof(R);
  if (s[0] == ro && s[1] == ti) {
    R* out = reinterpret_cast<R*>(data[0]);
    const T* x = reinterpret_cast<const T*>(data[1]);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) out[i] = op(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<R*>(data[0] + i * s[0]) =
          op(*reinterpret_cast<const T*>(data[1] + i * s[1]));
    }
  }
}

}  // namespace
}  // namespace ember::cpu
