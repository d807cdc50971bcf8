// Value reductions: sum, prod, mean, var/std, amax/amin, logsumexp, norm, any/all.
//
// An op is a functor: map(x, shift) into the accumulator type A, an associative combine and
// its identity init(). Two layouts are vectorised: a contiguous innermost reduced dim (kLanes
// independent accumulators, pairwise halving above kPairBlock so float32 sums of millions of
// elements keep O(log n) error growth), and a contiguous innermost kept dim (rows of the input
// accumulated into a block of output columns, folded every kRows rows for the same reason).
// Anything else walks with strides. Two-pass ops (var, logsumexp) pass the first pass's
// per-output result as the shift of the second. max/min propagate NaN, as PyTorch does.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "cpu/reduce.h"
#include "cpu/reduce_loops.h"
#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int kLanes = 32;
constexpr int64_t kPairBlock = 4096;
constexpr int64_t kCols = 256;
constexpr int64_t kRows = 128;

template <class Op, class T, class A>
A row_contig(const Op& op, const T* x, int64_t n, A s) {
  if (n > kPairBlock) {
    int64_t h = (n / 2) / kLanes * kLanes;
    return Op::combine(row_contig(op, x, h, s), row_contig(op, x + h, n - h, s));
  }
  A acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = Op::init();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] = Op::combine(acc[j], op.map(x[i + j], s));
  }
  for (int w = kLanes / 2; w > 0; w /= 2) {
    for (int j = 0; j < w; ++j) acc[j] = Op::combine(acc[j], acc[j + w]);
  }
  A r = acc[0];
  for (; i < n; ++i) r = Op::combine(r, op.map(x[i], s));
  return r;
}

// Input contiguous along the innermost kept dim, not along the innermost reduced one.
template <class T>
bool outer_layout(const ReduceIter& it) {
  return it.out_ndim > 0 && it.in_strides[it.out_ndim - 1] == int64_t(sizeof(T)) &&
         it.red_strides[it.red_ndim - 1] != int64_t(sizeof(T));
}

template <class T, class Op, class A>
void reduce_outer(const ReduceIter& it, const Op& op, const A* shift, A* acc) {
  const int64_t cdim = it.out_shape[it.out_ndim - 1];
  const int64_t nblk = (cdim + kCols - 1) / kCols;
  const int64_t grain = std::max<int64_t>(1, kReduceGrain / (it.red_numel * kCols));
  parallel_for(0, it.out_numel / cdim * nblk, grain, [&](int64_t tb, int64_t te) {
    A total[kCols], part[kCols], sh[kCols];
    for (int64_t t = tb; t < te; ++t) {
      const int64_t c0 = (t % nblk) * kCols;
      const int64_t o0 = (t / nblk) * cdim + c0;
      const int64_t cols = std::min(kCols, cdim - c0);
      for (int64_t c = 0; c < cols; ++c) {
        total[c] = part[c] = Op::init();
        sh[c] = shift ? shift[o0 + c] : A{};
      }
      int64_t rows = 0;
      auto fold = [&] {
        for (int64_t c = 0; c < cols; ++c) {
          total[c] = Op::combine(total[c], part[c]);
          part[c] = Op::init();
        }
        rows = 0;
      };
      walk_reduced(it, it.in + out_offsets(it, o0).in, 0, it.red_numel,
                   [&](const char* p, int64_t n, int64_t stride, int64_t) {
                     for (int64_t k = 0; k < n; ++k) {
                       const T* x = reinterpret_cast<const T*>(p + k * stride);
                       for (int64_t c = 0; c < cols; ++c)
                         part[c] = Op::combine(part[c], op.map(x[c], sh[c]));
                       if (++rows == kRows) fold();
                     }
                   });
      fold();
      for (int64_t c = 0; c < cols; ++c) acc[o0 + c] = total[c];
    }
  });
}

// acc[o] = the reduction of output o, for every output in row-major order.
template <class T, class Op, class A>
void reduce_acc(const ReduceIter& it, const Op& op, const A* shift, A* acc) {
  if (it.red_numel > 0 && outer_layout<T>(it)) return reduce_outer<T>(it, op, shift, acc);
  auto range = [&](int64_t o, const char* base, int64_t b, int64_t e) {
    const A s = shift ? shift[o] : A{};
    A r = Op::init();
    walk_reduced(it, base, b, e, [&](const char* p, int64_t n, int64_t stride, int64_t) {
      if (stride == int64_t(sizeof(T))) {
        r = Op::combine(r, row_contig(op, reinterpret_cast<const T*>(p), n, s));
      } else {
        for (int64_t k = 0; k < n; ++k) r = Op::combine(r, op.map(load<T>(p + k * stride), s));
      }
    });
    return r;
  };
  reduce_outputs<A>(it, range, [](A a, A b) { return Op::combine(a, b); },
                    [&](int64_t o, const OutOffsets&, A v) { acc[o] = v; });
}

// Reduces with `op`, then writes fin(acc, o) as R into every output.
template <class T, class R, class Op, class Fin, class A = decltype(Op::init())>
std::vector<A> reduce_write(const ReduceIter& it, const Op& op,
                            const decltype(Op::init())* shift, const Fin& fin) {
  std::vector<A> acc(it.out_numel);
  if (it.out_numel == 0) return acc;
  reduce_acc<T>(it, op, shift, acc.data());
  parallel_for(0, it.out_numel, kReduceGrain, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      *reinterpret_cast<R*>(it.out + out_offsets(it, o).out) = convert<R>(fin(acc[o], o));
  });
  return acc;
}

// ---- the ops --------------------------------------------------------------------------------
// Integer sums and products wrap on overflow, as in PyTorch: computed in the unsigned type,
// where wrapping is defined (signed overflow would be undefined behaviour).
template <class A>
A wrap_add(A a, A b) {
  if constexpr (std::is_integral_v<A> && !std::is_same_v<A, bool>) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <class A>
A wrap_mul(A a, A b) {
  if constexpr (std::is_integral_v<A> && !std::is_same_v<A, bool>) {
    using U = std::make_unsigned_t<A>;
    return static_cast<A>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

template <class T, class A>
struct Sum {
  static A init() { return A(0); }
  A map(T x, A) const { return static_cast<A>(x); }
  static A combine(A a, A b) { return wrap_add(a, b); }
};
template <class T, class A>
struct Prod {
  static A init() { return A(1); }
  A map(T x, A) const { return static_cast<A>(x); }
  static A combine(A a, A b) { return wrap_mul(a, b); }
};
template <class A>
A lowest() {
  return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                              : std::numeric_limits<A>::lowest();
}
template <class A>
A highest() {
  return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity()
                                              : std::numeric_limits<A>::max();
}
// `a != a` keeps a NaN once seen and takes a NaN when it comes.
template <class T, class A = T>
struct Max {
  static A init() { return lowest<A>(); }
  A map(T x, A) const { return x; }
  static A combine(A a, A b) { return (a > b || a != a) ? a : b; }
};
template <class T, class A = T>
struct Min {
  static A init() { return highest<A>(); }
  A map(T x, A) const { return x; }
  static A combine(A a, A b) { return (a < b || a != a) ? a : b; }
};
template <class T>
struct SqDev : Sum<T, T> {
  T map(T x, T mean) const { return (x - mean) * (x - mean); }
};
template <class T>
struct ExpShifted : Sum<T, T> {
  T map(T x, T m) const { return vexp(x - m); }
};
template <class T>
struct AbsSum : Sum<T, T> {
  T map(T x, T) const { return std::fabs(x); }
};
template <class T>
struct SqSum : Sum<T, T> {
  T map(T x, T) const { return x * x; }
};
template <class T>
struct AbsMax : Max<T> {
  T map(T x, T) const { return std::fabs(x); }
};
template <class T>
struct AbsMin : Min<T> {
  T map(T x, T) const { return std::fabs(x); }
};
template <class T>
struct NonZero : Sum<T, T> {
  T map(T x, T) const { return x != T(0) ? T(1) : T(0); }
};
template <class T>
struct PowSum : Sum<T, T> {
  T p;
  T map(T x, T) const { return std::pow(std::fabs(x), p); }
};
template <class T>
bool nonzero(T x) {
  if constexpr (std::is_same_v<T, half_t> || std::is_same_v<T, bf16_t>) {
    return convert<float>(x) != 0.0f;
  } else {
    return x != T(0);
  }
}
template <class T>
struct Any {
  static uint8_t init() { return 0; }
  uint8_t map(T x, uint8_t) const { return nonzero(x); }
  static uint8_t combine(uint8_t a, uint8_t b) { return a | b; }
};
template <class T>
struct All {
  static uint8_t init() { return 1; }
  uint8_t map(T x, uint8_t) const { return nonzero(x); }
  static uint8_t combine(uint8_t a, uint8_t b) { return a & b; }
};

[[noreturn]] void bad_dtype(const char* op, DType t) {
  kernel_dtype_error(op, t);
}

// Calls f(T{}) for float32/float64 inputs.
template <class F>
void visit_floating(const char* op, DType t, const F& f) {
  if (t == DType::Float32) return f(float{});
  if (t == DType::Float64) return f(double{});
  bad_dtype(op, t);
}

// Calls f(T{}) for bool, int32, int64, float32, float64.
template <class F>
void visit_numeric(const char* op, DType t, const F& f) {
  if (t == DType::Float16 || t == DType::BFloat16) bad_dtype(op, t);
  visit_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_arithmetic_v<T>) f(tag);
  });
}

template <template <class, class> class Op>
void sum_like(const ReduceIter& it) {
  visit_numeric("sum", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    using A = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
    reduce_write<T, A>(it, Op<T, A>{}, nullptr, [](A a, int64_t) { return a; });
  });
}

void mean_impl(const ReduceIter& it) {
  visit_floating("mean", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T n = static_cast<T>(it.red_numel);
    reduce_write<T, T>(it, Sum<T, T>{}, nullptr, [n](T a, int64_t) { return a / n; });
  });
}

template <bool kSqrt>
void var_impl(const ReduceIter& it) {
  visit_floating("var", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T n = static_cast<T>(it.red_numel);
    const T div = static_cast<T>(std::max(0.0, double(it.red_numel) - it.correction));
    // The first pass writes the means into `out`; the second overwrites them.
    std::vector<T> mean = reduce_write<T, T>(it, Sum<T, T>{}, nullptr,
                                             [n](T a, int64_t) { return a / n; });
    for (T& m : mean) m /= n;
    reduce_write<T, T>(it, SqDev<T>{}, mean.data(), [div](T a, int64_t) {
      return kSqrt ? std::sqrt(a / div) : a / div;
    });
  });
}

template <template <class, class> class Op>
void extreme_impl(const ReduceIter& it) {
  visit_numeric("amax", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    using A = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;  // no vector<bool>
    reduce_write<T, T>(it, Op<T, A>{}, nullptr, [](A a, int64_t) { return a; });
  });
}

void logsumexp_impl(const ReduceIter& it) {
  visit_floating("logsumexp", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> m = reduce_write<T, T>(it, Max<T>{}, nullptr, [](T a, int64_t) { return a; });
    // Shifting by a finite max keeps every exp argument <= 0; +-inf and NaN maxima shift by 0
    // so that they come through as inf, -inf (an empty or all -inf input) and NaN.
    for (T& v : m) v = std::isfinite(v) ? v : T(0);
    reduce_write<T, T>(it, ExpShifted<T>{}, m.data(),
                       [&m](T s, int64_t o) { return std::log(s) + m[o]; });
  });
}

void norm_impl(const ReduceIter& it) {
  visit_floating("norm", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    auto same = [](T a, int64_t) { return a; };
    const double p = it.p;
    if (p == INFINITY) {
      reduce_write<T, T>(it, AbsMax<T>{}, nullptr, same);
    } else if (p == -INFINITY) {
      reduce_write<T, T>(it, AbsMin<T>{}, nullptr, same);
    } else if (p == 0) {
      reduce_write<T, T>(it, NonZero<T>{}, nullptr, same);
    } else if (p == 1) {
      reduce_write<T, T>(it, AbsSum<T>{}, nullptr, same);
    } else if (p == 2) {
      reduce_write<T, T>(it, SqSum<T>{}, nullptr, [](T a, int64_t) { return std::sqrt(a); });
    } else {
      const T inv = static_cast<T>(1.0 / p);
      reduce_write<T, T>(it, PowSum<T>{{}, static_cast<T>(p)}, nullptr,
                         [inv](T a, int64_t) { return std::pow(a, inv); });
    }
  });
}

template <template <class> class Op>
void logical_impl(const ReduceIter& it) {
  visit_dtype(it.dtype, [&](auto tag) {
    using T = decltype(tag);
    reduce_write<T, bool>(it, Op<T>{}, nullptr, [](uint8_t a, int64_t) { return a != 0; });
  });
}

}  // namespace

EMBER_REGISTER_CPU(sum_kernel, sum_like<Sum>);
EMBER_REGISTER_CPU(prod_kernel, sum_like<Prod>);
EMBER_REGISTER_CPU(mean_kernel, mean_impl);
EMBER_REGISTER_CPU(var_kernel, var_impl<false>);
EMBER_REGISTER_CPU(std_kernel, var_impl<true>);
EMBER_REGISTER_CPU(amax_kernel, extreme_impl<Max>);
EMBER_REGISTER_CPU(amin_kernel, extreme_impl<Min>);
EMBER_REGISTER_CPU(logsumexp_kernel, logsumexp_impl);
EMBER_REGISTER_CPU(norm_kernel, norm_impl);
EMBER_REGISTER_CPU(any_kernel, logical_impl<Any>);
EMBER_REGISTER_CPU(all_kernel, logical_impl<All>);

}  // namespace ember::cpu
