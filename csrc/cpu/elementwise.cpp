// Elementwise binary kernels: arithmetic, comparisons, logical and bitwise ops, where. Each op
// is a functor on scalars; elem_kernel (loops.h) wraps it in loops the compiler vectorises for
// this object's instruction set. Integer division never traps: a zero divisor gives 0 and
// INT_MIN / -1 wraps (the binding raises ZeroDivisionError on CPU before calling).
// Unary kernels live in unary.cpp.
#include <cmath>
#include <type_traits>

#include "cpu/elementwise.h"
#include "cpu/loops.h"
#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

template <class T>
constexpr bool kIsFloat = std::is_floating_point_v<T>;

// -a without signed overflow (INT_MIN stays INT_MIN, as the hardware wraps).
template <class T>
T wrap_neg(T a) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(U(0) - static_cast<U>(a));
}

template <class T>
struct AddOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a + alpha * b; }
};
template <class T>
struct SubOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a - alpha * b; }
};
template <class T>
struct MulOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a * b; }
};
template <class T>
struct DivOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a / b; }
};

template <class T>
struct DivTruncOp {
  T alpha, beta;
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) {
      return std::trunc(a / b);
    } else {
      T safe = (b == 0 || b == -1) ? T(1) : b;
      T q = a / safe;
      return b == 0 ? T(0) : (b == -1 ? wrap_neg(a) : q);
    }
  }
};

// Floats as PyTorch's div_floor_floating: the quotient of a - fmod(a, b), which is exact, so
// e.g. 1 // 0.1 is 9 (as Python) rather than floor(1 / 0.1) = 10.
template <class T>
struct DivFloorOp {
  T alpha, beta;
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) {
      if (b == 0) return a / b;
      T mod = std::fmod(a, b);
      T div = (a - mod) / b;
      if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
      if (div == 0) return std::copysign(T(0), a / b);
      T fl = std::floor(div);
      return div - fl > T(0.5) ? fl + 1 : fl;
    } else {
      T safe = (b == 0 || b == -1) ? T(1) : b;
      T q = a / safe;
      T r = a % safe;
      q = (r != 0 && ((r < 0) != (safe < 0))) ? q - 1 : q;
      return b == 0 ? T(0) : (b == -1 ? wrap_neg(a) : q);
    }
  }
};

// The result takes the sign of b (Python's %, torch.remainder).
template <class T>
struct RemainderOp {
  T alpha, beta;
  T operator()(T a, T b) const {
    if constexpr (kIsFloat<T>) {
      T mod = std::fmod(a, b);
      return (mod != 0 && (b < 0) != (mod < 0)) ? mod + b : mod;
    } else {
      T safe = (b == 0 || b == -1) ? T(1) : b;
      T r = a % safe;
      r = (r != 0 && ((r < 0) != (safe < 0))) ? r + safe : r;
      return (b == 0 || b == -1) ? T(0) : r;
    }
  }
};

// Integer powers by squaring in unsigned arithmetic (wraps on overflow like PyTorch); a
// negative exponent gives trunc(1 / a^|b|): 1 for a = 1, +-1 for a = -1, else 0.
template <class T>
T int_pow(T a, T b) {
  if (b < 0) return a == 1 ? T(1) : (a == -1 ? ((b & 1) ? T(-1) : T(1)) : T(0));
  using U = std::make_unsigned_t<T>;
  U r = 1, base = static_cast<U>(a);
  for (U e = static_cast<U>(b); e; e >>= 1) {
    if (e & 1) r *= base;
    base *= base;
  }
  return static_cast<T>(r);
}

template <class T>
struct PowOp {
  T alpha, beta;
  T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, float>) {
      return vpow(a, b);
    } else if constexpr (std::is_same_v<T, double>) {
      return std::pow(a, b);
    } else {
      return int_pow(a, b);
    }
  }
};

// NaN propagates (a != a is false for every non-float type).
template <class T>
struct MaximumOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
};
template <class T>
struct MinimumOp {
  T alpha, beta;
  T operator()(T a, T b) const { return a != a ? a : (b != b ? b : (a < b ? a : b)); }
};

template <class T>
struct EqOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a == b; }
};
template <class T>
struct NeOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a != b; }
};
template <class T>
struct LtOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a < b; }
};
template <class T>
struct LeOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a <= b; }
};
template <class T>
struct GtOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a > b; }
};
template <class T>
struct GeOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return a >= b; }
};

template <class T>
struct LogicalAndOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return (a != T(0)) & (b != T(0)); }
};
template <class T>
struct LogicalOrOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return (a != T(0)) | (b != T(0)); }
};
template <class T>
struct LogicalXorOp {
  T alpha, beta;
  bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); }
};
template <class T>
struct LogicalNotOp {
  T alpha, beta;
  bool operator()(T a) const { return a == T(0); }
};

template <class T>
struct BitAndOp {
  T alpha, beta;
  T operator()(T a, T b) const { return static_cast<T>(a & b); }
};
template <class T>
struct BitOrOp {
  T alpha, beta;
  T operator()(T a, T b) const { return static_cast<T>(a | b); }
};
template <class T>
struct BitXorOp {
  T alpha, beta;
  T operator()(T a, T b) const { return static_cast<T>(a ^ b); }
};
template <class T>
struct BitNotOp {
  T alpha, beta;
  T operator()(T a) const {
    if constexpr (std::is_same_v<T, bool>) {
      return !a;
    } else {
      return static_cast<T>(~a);
    }
  }
};

// Moves bytes: any dtype of the same width selects alike. The select is a mask blend, not
// `c ? a : b`, which compilers emit as a branch: on a random mask (the ReLU backward) the
// mispredictions made it 10x slower than an add.
template <class U>
void where_loop(char** d, const int64_t* s, int64_t n, const ElemIter&) {
  // The condition is read as its byte (0 or 1), which vectorises where `bool` does not.
  ternary_loop<uint8_t, U, U, U>(d, s, n, [](uint8_t c, U a, U b) {
    const U mask = static_cast<U>(U(0) - static_cast<U>(c));
    return static_cast<U>((a & mask) | (b & static_cast<U>(~mask)));
  });
}

void where_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  switch (itemsize(it.dtype)) {
    case 1: loop = where_loop<uint8_t>; break;
    case 2: loop = where_loop<uint16_t>; break;
    case 4: loop = where_loop<uint32_t>; break;
    default: loop = where_loop<uint64_t>; break;
  }
  cpu_elementwise(it, loop);
}

constexpr Types kNum = Types::Numeric;
constexpr Types kAll = Types::NumericBool;

}  // namespace

EMBER_REGISTER_CPU(add_kernel, (elem_kernel<AddOp, kNum, 2>));
EMBER_REGISTER_CPU(sub_kernel, (elem_kernel<SubOp, kNum, 2>));
EMBER_REGISTER_CPU(mul_kernel, (elem_kernel<MulOp, kNum, 2>));
EMBER_REGISTER_CPU(div_kernel, (elem_kernel<DivOp, Types::Float, 2>));
EMBER_REGISTER_CPU(div_trunc_kernel, (elem_kernel<DivTruncOp, kNum, 2>));
EMBER_REGISTER_CPU(div_floor_kernel, (elem_kernel<DivFloorOp, kNum, 2>));
EMBER_REGISTER_CPU(remainder_kernel, (elem_kernel<RemainderOp, kNum, 2>));
EMBER_REGISTER_CPU(pow_kernel, (elem_kernel<PowOp, kNum, 2>));
EMBER_REGISTER_CPU(maximum_kernel, (elem_kernel<MaximumOp, kAll, 2>));
EMBER_REGISTER_CPU(minimum_kernel, (elem_kernel<MinimumOp, kAll, 2>));

EMBER_REGISTER_CPU(eq_kernel, (elem_kernel<EqOp, kAll, 2, true>));
EMBER_REGISTER_CPU(ne_kernel, (elem_kernel<NeOp, kAll, 2, true>));
EMBER_REGISTER_CPU(lt_kernel, (elem_kernel<LtOp, kAll, 2, true>));
EMBER_REGISTER_CPU(le_kernel, (elem_kernel<LeOp, kAll, 2, true>));
EMBER_REGISTER_CPU(gt_kernel, (elem_kernel<GtOp, kAll, 2, true>));
EMBER_REGISTER_CPU(ge_kernel, (elem_kernel<GeOp, kAll, 2, true>));

EMBER_REGISTER_CPU(logical_and_kernel, (elem_kernel<LogicalAndOp, kAll, 2, true>));
EMBER_REGISTER_CPU(logical_or_kernel, (elem_kernel<LogicalOrOp, kAll, 2, true>));
EMBER_REGISTER_CPU(logical_xor_kernel, (elem_kernel<LogicalXorOp, kAll, 2, true>));
EMBER_REGISTER_CPU(logical_not_kernel, (elem_kernel<LogicalNotOp, kAll, 1, true>));

EMBER_REGISTER_CPU(bitwise_and_kernel, (elem_kernel<BitAndOp, Types::IntBool, 2>));
EMBER_REGISTER_CPU(bitwise_or_kernel, (elem_kernel<BitOrOp, Types::IntBool, 2>));
EMBER_REGISTER_CPU(bitwise_xor_kernel, (elem_kernel<BitXorOp, Types::IntBool, 2>));
EMBER_REGISTER_CPU(bitwise_not_kernel, (elem_kernel<BitNotOp, Types::IntBool, 1>));

EMBER_REGISTER_CPU(where_kernel, where_impl);

}  // namespace ember::cpu
