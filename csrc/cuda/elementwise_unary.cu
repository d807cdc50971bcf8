// Unary elementwise kernels on the GPU (numeric, float math, classification, nan_to_num),
// one per table of cpu/elementwise.h with the same contract. Math comes from the accurate
// CUDA library functions (expf, not __expf), overloaded for float and double.
#include <cmath>
#include <limits>
#include <type_traits>

#include "cpu/elementwise.h"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

template <template <class> class Op>
constexpr auto numeric = run_op<1, Op, int32_t, int64_t, float, double>;
template <template <class> class Op>
constexpr auto floating = run_op<1, Op, float, double>;

// ---- numeric: int32, int64, float32, float64 ----------------------------------------------

template <class T>
struct NegOp {
  __device__ T operator()(T x) const { return -x; }
};
template <class T>
struct AbsOp {
  __device__ T operator()(T x) const { return x < 0 ? -x : x; }
};
template <class T>
struct SignOp {
  __device__ T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) {
      return x;
    } else {
      return x > 0 ? T(1) : x < 0 ? T(-1) : x;  // 0 and NaN stay themselves
    }
  }
};
template <class T>
struct SquareOp {
  __device__ T operator()(T x) const { return x * x; }
};
template <class T>
struct ReluOp {
  __device__ T operator()(T x) const { return x < 0 ? T(0) : x; }  // NaN < 0 is false
};

#define EMBER_ROUNDING_OP(Name, fn)                 \
  template <class T>                                \
  struct Name {                                     \
    __device__ T operator()(T x) const {            \
      if constexpr (std::is_integral_v<T>) {        \
        return x;                                   \
      } else {                                      \
        return fn(x);                               \
      }                                             \
    }                                               \
  };
EMBER_ROUNDING_OP(FloorOp, floor)
EMBER_ROUNDING_OP(CeilOp, ceil)
EMBER_ROUNDING_OP(TruncOp, trunc)
#undef EMBER_ROUNDING_OP

// Half to even at `decimals` digits (alpha), as PyTorch: scale by beta = 10^|decimals|, rint,
// scale back. The binding allows decimals on floats only; integers are already round.
template <class T>
struct RoundOp {
  int decimals;
  T scale;
  explicit RoundOp(const ElemIter& it)
      : decimals(static_cast<int>(it.alpha)), scale(static_cast<T>(it.beta)) {}
  __device__ T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return x;
    } else {
      if (decimals == 0) return rint(x);
      return decimals > 0 ? rint(x * scale) / scale : rint(x / scale) * scale;
    }
  }
};

// A double bound as a T, saturating for integers: the binding passes +-2^63 for int64, which
// a plain cast would overflow.
template <class T>
T saturate(double v) {
  if constexpr (std::is_integral_v<T>) {
    using L = std::numeric_limits<T>;
    if (!(v > static_cast<double>(L::lowest()))) return L::lowest();
    if (v >= static_cast<double>(L::max())) return L::max();
  }
  return static_cast<T>(v);
}

template <class T>
struct ClampOp {
  T lo, hi;
  explicit ClampOp(const ElemIter& it) : lo(saturate<T>(it.alpha)), hi(saturate<T>(it.beta)) {}
  __device__ T operator()(T x) const {
    T y = x < lo ? lo : x;  // comparisons with NaN are false: NaN propagates
    return y > hi ? hi : y;
  }
};

// ---- float math: float32, float64 ---------------------------------------------------------

#define EMBER_MATH_OP(Name, expr)                             \
  template <class T>                                          \
  struct Name {                                               \
    __device__ T operator()(T x) const { return (expr); }     \
  };
EMBER_MATH_OP(ExpOp, exp(x))
EMBER_MATH_OP(Expm1Op, expm1(x))
EMBER_MATH_OP(LogOp, log(x))
EMBER_MATH_OP(Log1pOp, log1p(x))
EMBER_MATH_OP(Log2Op, log2(x))
EMBER_MATH_OP(SqrtOp, sqrt(x))
EMBER_MATH_OP(RsqrtOp, T(1) / sqrt(x))
EMBER_MATH_OP(ReciprocalOp, T(1) / x)
EMBER_MATH_OP(SinOp, sin(x))
EMBER_MATH_OP(CosOp, cos(x))
EMBER_MATH_OP(TanhOp, tanh(x))
EMBER_MATH_OP(SigmoidOp, T(1) / (T(1) + exp(-x)))
EMBER_MATH_OP(ErfOp, erf(x))
EMBER_MATH_OP(SiluOp, x / (T(1) + exp(-x)))
#undef EMBER_MATH_OP

// alpha 0: x * Phi(x) with the erf; alpha 1: the tanh approximation (PyTorch's 'tanh').
template <class T>
struct GeluOp {
  bool tanh_form;
  explicit GeluOp(const ElemIter& it) : tanh_form(it.alpha != 0) {}
  __device__ T operator()(T x) const {
    if (tanh_form) {
      const T k = T(0.7978845608028654);  // sqrt(2 / pi)
      return T(0.5) * x * (T(1) + tanh(k * (x + T(0.044715) * x * x * x)));
    }
    return T(0.5) * x * erfc(-x * T(0.7071067811865476));  // no cancellation for x << 0
  }
};

template <class T>
struct LeakyReluOp {
  T slope;
  explicit LeakyReluOp(const ElemIter& it) : slope(static_cast<T>(it.alpha)) {}
  __device__ T operator()(T x) const { return x > 0 ? x : slope * x; }
};

template <class T>
struct EluOp {
  T alpha, scale;
  explicit EluOp(const ElemIter& it)
      : alpha(static_cast<T>(it.alpha)), scale(static_cast<T>(it.beta)) {}
  __device__ T operator()(T x) const { return scale * (x > 0 ? x : alpha * expm1(x)); }
};

// PyTorch's softplus: linear above the threshold, where log1p(exp(.)) equals x in float.
template <class T>
struct SoftplusOp {
  T beta, threshold;
  explicit SoftplusOp(const ElemIter& it)
      : beta(static_cast<T>(it.alpha)), threshold(static_cast<T>(it.beta)) {}
  __device__ T operator()(T x) const {
    return x * beta > threshold ? x : log1p(exp(x * beta)) / beta;
  }
};

// ---- classification (out bool) and nan_to_num ----------------------------------------------

#define EMBER_CLASS_OP(Name, expr)                             \
  template <class T>                                           \
  struct Name {                                                \
    using Out = bool;                                          \
    __device__ bool operator()(T x) const { return (expr); }   \
  };
EMBER_CLASS_OP(IsnanOp, x != x)
EMBER_CLASS_OP(IsinfOp, fabs(x) == std::numeric_limits<T>::infinity())
EMBER_CLASS_OP(IsfiniteOp, fabs(x) < std::numeric_limits<T>::infinity())
#undef EMBER_CLASS_OP

// Second input: the -inf replacement, a broadcast 0-d tensor.
template <class T>
struct NanToNumOp {
  T nan, posinf;
  explicit NanToNumOp(const ElemIter& it)
      : nan(static_cast<T>(it.alpha)), posinf(static_cast<T>(it.beta)) {}
  __device__ T operator()(T x, T neginf) const {
    if (x != x) return nan;
    if (fabs(x) == std::numeric_limits<T>::infinity()) return x > 0 ? posinf : neginf;
    return x;
  }
};

}  // namespace

EMBER_REGISTER_CUDA(neg_kernel, numeric<NegOp>);
EMBER_REGISTER_CUDA(abs_kernel, numeric<AbsOp>);
EMBER_REGISTER_CUDA(sign_kernel, (run_op<1, SignOp, bool, int32_t, int64_t, float, double>));
EMBER_REGISTER_CUDA(square_kernel, numeric<SquareOp>);
EMBER_REGISTER_CUDA(relu_kernel, numeric<ReluOp>);
EMBER_REGISTER_CUDA(floor_kernel, numeric<FloorOp>);
EMBER_REGISTER_CUDA(ceil_kernel, numeric<CeilOp>);
EMBER_REGISTER_CUDA(trunc_kernel, numeric<TruncOp>);
EMBER_REGISTER_CUDA(round_kernel, numeric<RoundOp>);
EMBER_REGISTER_CUDA(clamp_kernel, numeric<ClampOp>);

EMBER_REGISTER_CUDA(exp_kernel, floating<ExpOp>);
EMBER_REGISTER_CUDA(expm1_kernel, floating<Expm1Op>);
EMBER_REGISTER_CUDA(log_kernel, floating<LogOp>);
EMBER_REGISTER_CUDA(log1p_kernel, floating<Log1pOp>);
EMBER_REGISTER_CUDA(log2_kernel, floating<Log2Op>);
EMBER_REGISTER_CUDA(sqrt_kernel, floating<SqrtOp>);
EMBER_REGISTER_CUDA(rsqrt_kernel, floating<RsqrtOp>);
EMBER_REGISTER_CUDA(reciprocal_kernel, floating<ReciprocalOp>);
EMBER_REGISTER_CUDA(sin_kernel, floating<SinOp>);
EMBER_REGISTER_CUDA(cos_kernel, floating<CosOp>);
EMBER_REGISTER_CUDA(tanh_kernel, floating<TanhOp>);
EMBER_REGISTER_CUDA(sigmoid_kernel, floating<SigmoidOp>);
EMBER_REGISTER_CUDA(erf_kernel, floating<ErfOp>);
EMBER_REGISTER_CUDA(silu_kernel, floating<SiluOp>);
EMBER_REGISTER_CUDA(gelu_kernel, floating<GeluOp>);
EMBER_REGISTER_CUDA(leaky_relu_kernel, floating<LeakyReluOp>);
EMBER_REGISTER_CUDA(elu_kernel, floating<EluOp>);
EMBER_REGISTER_CUDA(softplus_kernel, floating<SoftplusOp>);

EMBER_REGISTER_CUDA(isnan_kernel, floating<IsnanOp>);
EMBER_REGISTER_CUDA(isinf_kernel, floating<IsinfOp>);
EMBER_REGISTER_CUDA(isfinite_kernel, floating<IsfiniteOp>);
EMBER_REGISTER_CUDA(nan_to_num_kernel, (run_op<2, NanToNumOp, float, double>));

}  // namespace ember::cuda
