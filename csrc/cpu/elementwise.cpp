// Elementwise kernels. Each op is a functor on scalars; binary_loop/unary_loop (loops.h) wrap
// it in loops the compiler vectorises for this object's instruction set. Transcendentals come
// from vec_math.h so they vectorise too (libm calls would not).
#include "cpu/elementwise.h"

#include "cpu/loops.h"
#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

template <class T>
using Binary = T (*)(T, T);

// Runs a binary functor over numeric dtypes (not bool, not the 16-bit storage types: the
// binding computes those in float32).
template <template <class> class Op>
void binary_numeric(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_dtype(it.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> ||
                  std::is_same_v<T, float> || std::is_same_v<T, double>) {
      loop = [](char** d, const int64_t* s, int64_t n, const ElemIter& it2) {
        binary_loop<T, T>(d, s, n, Op<T>{static_cast<T>(it2.alpha)});
      };
    }
  });
  if (!loop) fail<TypeError>("elementwise", "unsupported dtype ", dtype_name(it.dtype));
  cpu_elementwise(it, loop);
}

template <class T>
struct AddOp {
  T alpha;
  T operator()(T a, T b) const { return a + alpha * b; }
};
template <class T>
struct SubOp {
  T alpha;
  T operator()(T a, T b) const { return a - alpha * b; }
};
template <class T>
struct MulOp {
  T alpha;
  T operator()(T a, T b) const { return a * b; }
};
template <class T>
struct DivOp {
  T alpha;
  T operator()(T a, T b) const { return a / b; }
};

// The unary float ops: T is float or double.
template <template <class> class Op>
void unary_floating(const ElemIter& it) {
  Loop1d loop = nullptr;
  if (it.dtype == DType::Float32) {
    loop = [](char** d, const int64_t* s, int64_t n, const ElemIter&) {
      unary_loop<float, float>(d, s, n, Op<float>{});
    };
  } else if (it.dtype == DType::Float64) {
    loop = [](char** d, const int64_t* s, int64_t n, const ElemIter&) {
      unary_loop<double, double>(d, s, n, Op<double>{});
    };
  } else {
    fail<TypeError>("elementwise", "unsupported dtype ", dtype_name(it.dtype));
  }
  cpu_elementwise(it, loop);
}

template <class T>
struct ExpOp {
  T operator()(T x) const { return vexp(x); }
};

template <class T>
struct NegOp {
  T operator()(T x) const { return -x; }
};

void neg_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_dtype(it.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      loop = [](char** d, const int64_t* s, int64_t n, const ElemIter&) {
        unary_loop<T, T>(d, s, n, NegOp<T>{});
      };
    }
  });
  if (!loop) fail<TypeError>("neg", "unsupported dtype ", dtype_name(it.dtype));
  cpu_elementwise(it, loop);
}

}  // namespace

EMBER_REGISTER_CPU(add_kernel, binary_numeric<AddOp>);
EMBER_REGISTER_CPU(sub_kernel, binary_numeric<SubOp>);
EMBER_REGISTER_CPU(mul_kernel, binary_numeric<MulOp>);
EMBER_REGISTER_CPU(div_kernel, binary_numeric<DivOp>);
EMBER_REGISTER_CPU(exp_kernel, unary_floating<ExpOp>);
EMBER_REGISTER_CPU(neg_kernel, neg_impl);

}  // namespace ember::cpu
