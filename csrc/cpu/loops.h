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
#include <algorithm>
#include <cstring>
#include <type_traits>

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

// unary_loop for functions whose vector code is valid only for |x| <= limit (sin, cos):
// blocks of 256 whose largest |x| is within the limit take the vector code, others the scalar
// `slow` one (libm). Reading a whole block before writing it keeps in-place calls correct.
template <class T, class Op, class Slow>
inline void guarded_unary_loop(char** data, const int64_t* s, int64_t n, const Op& op,
                               const Slow& slow, double limit) {
  constexpr int64_t ti = sizeof(T);
  if (s[0] != ti || s[1] != ti) {
    for (int64_t i = 0; i < n; ++i) {
      T x = *reinterpret_cast<const T*>(data[1] + i * s[1]);
      *reinterpret_cast<T*>(data[0] + i * s[0]) = slow(x);
    }
    return;
  }
  T* out = reinterpret_cast<T*>(data[0]);
  const T* x = reinterpret_cast<const T*>(data[1]);
  for (int64_t b = 0; b < n; b += 256) {
    int64_t m = n - b < 256 ? n - b : 256;
    T big = 0;
#pragma omp simd reduction(max : big)
    for (int64_t i = 0; i < m; ++i) big = std::max(big, std::abs(x[b + i]));
    if (big <= limit) {  // NaN compares false: a block with NaN takes the scalar path
#pragma omp simd
      for (int64_t i = 0; i < m; ++i) out[b + i] = op(x[b + i]);
    } else {
      for (int64_t i = 0; i < m; ++i) out[b + i] = slow(x[b + i]);
    }
  }
}

// Reads element i of a contiguous operand, or its one value when broadcast (stride 0).
template <class T>
struct Contig {
  const T* p;
  T operator()(int64_t i) const { return p[i]; }
};
template <class T>
struct Splat {
  T v;
  T operator()(int64_t) const { return v; }
};

template <class R, class Op, class RA, class RB, class RC>
inline void ternary_run(R* __restrict out, int64_t n, const Op& op, RA ra, RB rb, RC rc) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = op(ra(i), rb(i), rc(i));
}

// Picks a Contig or Splat reader for the third, second, first input in turn; false when a
// stride is neither the item size nor zero.
template <class C, class R, class Op, class RA, class RB>
inline bool ternary_pick_c(R* out, int64_t n, const Op& op, RA ra, RB rb, const char* p,
                           int64_t s) {
  if (s == static_cast<int64_t>(sizeof(C)))
    ternary_run(out, n, op, ra, rb, Contig<C>{reinterpret_cast<const C*>(p)});
  else if (s == 0)
    ternary_run(out, n, op, ra, rb, Splat<C>{load<C>(p)});
  else
    return false;
  return true;
}

template <class B, class C, class R, class Op, class RA>
inline bool ternary_pick_b(R* out, int64_t n, const Op& op, RA ra, char** d, const int64_t* s) {
  if (s[2] == static_cast<int64_t>(sizeof(B)))
    return ternary_pick_c<C>(out, n, op, ra, Contig<B>{reinterpret_cast<const B*>(d[2])}, d[3],
                             s[3]);
  if (s[2] == 0) return ternary_pick_c<C>(out, n, op, ra, Splat<B>{load<B>(d[2])}, d[3], s[3]);
  return false;
}

// out[i] = op(a[i], b[i], c[i]) with input types A, B, C and output type R. A contiguous
// output with each input contiguous or a broadcast scalar (where(mask, g, 0.0), the ReLU
// backward) takes loops the compiler vectorises; anything else the strided scalar loop.
template <class A, class B, class C, class R, class Op>
inline void ternary_loop(char** data, const int64_t* s, int64_t n, const Op& op) {
  if (s[0] == static_cast<int64_t>(sizeof(R))) {
    R* out = reinterpret_cast<R*>(data[0]);
    if (s[1] == static_cast<int64_t>(sizeof(A)) &&
        ternary_pick_b<B, C>(out, n, op, Contig<A>{reinterpret_cast<const A*>(data[1])}, data,
                             s))
      return;
    if (s[1] == 0 && ternary_pick_b<B, C>(out, n, op, Splat<A>{load<A>(data[1])}, data, s))
      return;
  }
  for (int64_t i = 0; i < n; ++i) {
    *reinterpret_cast<R*>(data[0] + i * s[0]) =
        op(*reinterpret_cast<const A*>(data[1] + i * s[1]),
           *reinterpret_cast<const B*>(data[2] + i * s[2]),
           *reinterpret_cast<const C*>(data[3] + i * s[3]));
  }
}

// The dtype sets kernels accept (see elementwise.h).
enum class Types { Float, Numeric, NumericBool, IntBool };

template <Types K, class T>
constexpr bool accepts() {
  constexpr bool fl = std::is_same_v<T, float> || std::is_same_v<T, double>;
  constexpr bool in = std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>;
  constexpr bool bo = std::is_same_v<T, bool>;
  if constexpr (K == Types::Float) return fl;
  if constexpr (K == Types::Numeric) return fl || in;
  if constexpr (K == Types::NumericBool) return fl || in || bo;
  return in || bo;
}

// Runs Op<T> (a functor with members `T alpha, beta` taken from the ElemIter) over a binary
// (nin = 2) or unary (nin = 1) iteration; the output is T, or bool when kBoolOut.
template <template <class> class Op, Types K, int nin, bool kBoolOut = false>
void elem_kernel(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_dtype(it.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (accepts<K, T>()) {
      loop = [](char** d, const int64_t* s, int64_t n, const ElemIter& e) {
        using R = std::conditional_t<kBoolOut, bool, T>;
        Op<T> op{static_cast<T>(e.alpha), static_cast<T>(e.beta)};
        if constexpr (nin == 2) {
          binary_loop<T, R>(d, s, n, op);
        } else {
          unary_loop<T, R>(d, s, n, op);
        }
      };
    }
  });
  if (!loop) kernel_dtype_error("elementwise", it.dtype);
  cpu_elementwise(it, loop);
}

}  // namespace
}  // namespace ember::cpu
