// Elementwise unary kernels: numeric ops (abs, sign, rounding, clamp...), the float math
// functions and activations (vec_math.h, so contiguous float loops vectorise), float
// classification and nan_to_num. Parameters arrive in ElemIter::alpha/beta (elementwise.h).
#include <cmath>
#include <type_traits>

#include "cpu/elementwise.h"
#include "cpu/loops.h"
#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

// A unary functor `Name<T>` returning `expr` (x, alpha and beta in scope), the shape
// elem_kernel expects.
#define EMBER_UNARY_OP(Name, R, expr) \
  template <class T>                  \
  struct Name {                       \
    T alpha, beta;                    \
    R operator()(T x) const {         \
      return expr;                    \
    }                                 \
  }

template <class T>
constexpr bool kIsFloat = std::is_floating_point_v<T>;

// Rounding functions are the identity on integers.
template <class T>
T floor_of(T x) {
  if constexpr (kIsFloat<T>) return std::floor(x);
  return x;
}
template <class T>
T ceil_of(T x) {
  if constexpr (kIsFloat<T>) return std::ceil(x);
  return x;
}
template <class T>
T trunc_of(T x) {
  if constexpr (kIsFloat<T>) return std::trunc(x);
  return x;
}
// rint rounds half to even in the default rounding mode, as torch.round.
template <class T>
T rint_of(T x) {
  if constexpr (kIsFloat<T>) return std::rint(x);
  return x;
}

EMBER_UNARY_OP(NegOp, T, static_cast<T>(-x));
EMBER_UNARY_OP(AbsOp, T, x < T(0) ? static_cast<T>(-x) : x);
EMBER_UNARY_OP(SquareOp, T, x * x);
// NaN fails both comparisons and stays NaN.
EMBER_UNARY_OP(SignOp, T, x > T(0) ? T(1) : (x < T(0) ? T(-1) : x));
EMBER_UNARY_OP(ReluOp, T, x < T(0) ? T(0) : x);
EMBER_UNARY_OP(FloorOp, T, floor_of(x));
EMBER_UNARY_OP(CeilOp, T, ceil_of(x));
EMBER_UNARY_OP(TruncOp, T, trunc_of(x));
// alpha = decimals, beta = 10^|decimals| (PyTorch's formula: scale, rint, unscale).
EMBER_UNARY_OP(RoundOp, T,
               alpha == T(0) ? rint_of(x)
                             : (alpha > T(0) ? rint_of(x * beta) / beta : rint_of(x / beta) * beta));

// min(max(x, alpha), beta) as PyTorch: NaN propagates, alpha > beta gives beta everywhere.
template <class T>
struct ClampOp {
  T alpha, beta;
  T operator()(T x) const {
    T lo = x < alpha ? alpha : x;
    T y = lo > beta ? beta : lo;
    return x != x ? x : y;
  }
};

EMBER_UNARY_OP(ExpOp, T, vexp(x));
EMBER_UNARY_OP(Expm1Op, T, vexpm1(x));
EMBER_UNARY_OP(LogOp, T, vlog(x));
EMBER_UNARY_OP(Log1pOp, T, vlog1p(x));
EMBER_UNARY_OP(Log2Op, T, vlog2(x));
EMBER_UNARY_OP(SqrtOp, T, std::sqrt(x));
EMBER_UNARY_OP(RsqrtOp, T, T(1) / std::sqrt(x));
EMBER_UNARY_OP(ReciprocalOp, T, T(1) / x);
EMBER_UNARY_OP(TanhOp, T, vtanh(x));
EMBER_UNARY_OP(SigmoidOp, T, vsigmoid(x));
EMBER_UNARY_OP(ErfOp, T, verf(x));
EMBER_UNARY_OP(SiluOp, T, x / (T(1) + vexp(-x)));
// x Phi(x) = x erfc(-x / sqrt 2) / 2: no cancellation for negative x (1 + erf would lose it).
EMBER_UNARY_OP(GeluErfOp, T,
               vgelu_erf(x));
// x (1 + tanh u) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
EMBER_UNARY_OP(GeluTanhOp, T,
               x / (T(1) + vexp(T(-1.5957691216057307) * (x + T(0.044715) * x * x * x))));
EMBER_UNARY_OP(LeakyReluOp, T, x > T(0) ? x : alpha * x);
EMBER_UNARY_OP(EluOp, T, x > T(0) ? beta * x : beta * alpha * vexpm1(x));
EMBER_UNARY_OP(SoftplusOp, T, x * alpha > beta ? x : vlog1p(vexp(x * alpha)) / alpha);

EMBER_UNARY_OP(IsnanOp, bool, x != x);
EMBER_UNARY_OP(IsinfOp, bool, x == T(INFINITY) || x == T(-INFINITY));
EMBER_UNARY_OP(IsfiniteOp, bool, x - x == T(0));

template <class T>
struct NanToNumOp {
  T alpha, beta;
  T operator()(T x, T neginf) const {
    T y = x == T(INFINITY) ? beta : (x == T(-INFINITY) ? neginf : x);
    return x != x ? alpha : y;
  }
};

void gelu_impl(const ElemIter& it) {
  if (it.alpha == 0.0) {
    elem_kernel<GeluErfOp, Types::Float, 1>(it);
  } else {
    elem_kernel<GeluTanhOp, Types::Float, 1>(it);
  }
}

// sin/cos: vector code up to kTrigMax, libm beyond (in double for float: 0.5 ulp).
template <bool kSin>
void trig_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  if (it.dtype == DType::Float32) {
    loop = [](char** d, const int64_t* s, int64_t n, const ElemIter&) {
      guarded_unary_loop<float>(
          d, s, n, [](float x) { return kSin ? vsin(x) : vcos(x); },
          [](float x) { return float(kSin ? std::sin(double(x)) : std::cos(double(x))); },
          kTrigMax);
    };
  } else if (it.dtype == DType::Float64) {
    loop = [](char** d, const int64_t* s, int64_t n, const ElemIter&) {
      guarded_unary_loop<double>(
          d, s, n, [](double x) { return kSin ? vsin(x) : vcos(x); },
          [](double x) { return kSin ? std::sin(x) : std::cos(x); }, kTrigMax);
    };
  } else {
    kernel_dtype_error(kSin ? "sin" : "cos", it.dtype);
  }
  cpu_elementwise(it, loop);
}

constexpr Types kNum = Types::Numeric;
constexpr Types kFl = Types::Float;

}  // namespace

EMBER_REGISTER_CPU(neg_kernel, (elem_kernel<NegOp, kNum, 1>));
EMBER_REGISTER_CPU(abs_kernel, (elem_kernel<AbsOp, kNum, 1>));
EMBER_REGISTER_CPU(sign_kernel, (elem_kernel<SignOp, Types::NumericBool, 1>));
EMBER_REGISTER_CPU(square_kernel, (elem_kernel<SquareOp, kNum, 1>));
EMBER_REGISTER_CPU(relu_kernel, (elem_kernel<ReluOp, kNum, 1>));
EMBER_REGISTER_CPU(floor_kernel, (elem_kernel<FloorOp, kNum, 1>));
EMBER_REGISTER_CPU(ceil_kernel, (elem_kernel<CeilOp, kNum, 1>));
EMBER_REGISTER_CPU(trunc_kernel, (elem_kernel<TruncOp, kNum, 1>));
EMBER_REGISTER_CPU(round_kernel, (elem_kernel<RoundOp, kNum, 1>));
EMBER_REGISTER_CPU(clamp_kernel, (elem_kernel<ClampOp, kNum, 1>));

EMBER_REGISTER_CPU(exp_kernel, (elem_kernel<ExpOp, kFl, 1>));
EMBER_REGISTER_CPU(expm1_kernel, (elem_kernel<Expm1Op, kFl, 1>));
EMBER_REGISTER_CPU(log_kernel, (elem_kernel<LogOp, kFl, 1>));
EMBER_REGISTER_CPU(log1p_kernel, (elem_kernel<Log1pOp, kFl, 1>));
EMBER_REGISTER_CPU(log2_kernel, (elem_kernel<Log2Op, kFl, 1>));
EMBER_REGISTER_CPU(sqrt_kernel, (elem_kernel<SqrtOp, kFl, 1>));
EMBER_REGISTER_CPU(rsqrt_kernel, (elem_kernel<RsqrtOp, kFl, 1>));
EMBER_REGISTER_CPU(reciprocal_kernel, (elem_kernel<ReciprocalOp, kFl, 1>));
EMBER_REGISTER_CPU(sin_kernel, trig_impl<true>);
EMBER_REGISTER_CPU(cos_kernel, trig_impl<false>);
EMBER_REGISTER_CPU(tanh_kernel, (elem_kernel<TanhOp, kFl, 1>));
EMBER_REGISTER_CPU(sigmoid_kernel, (elem_kernel<SigmoidOp, kFl, 1>));
EMBER_REGISTER_CPU(erf_kernel, (elem_kernel<ErfOp, kFl, 1>));
EMBER_REGISTER_CPU(silu_kernel, (elem_kernel<SiluOp, kFl, 1>));
EMBER_REGISTER_CPU(gelu_kernel, gelu_impl);
EMBER_REGISTER_CPU(leaky_relu_kernel, (elem_kernel<LeakyReluOp, kFl, 1>));
EMBER_REGISTER_CPU(elu_kernel, (elem_kernel<EluOp, kFl, 1>));
EMBER_REGISTER_CPU(softplus_kernel, (elem_kernel<SoftplusOp, kFl, 1>));

EMBER_REGISTER_CPU(isnan_kernel, (elem_kernel<IsnanOp, kFl, 1, true>));
EMBER_REGISTER_CPU(isinf_kernel, (elem_kernel<IsinfOp, kFl, 1, true>));
EMBER_REGISTER_CPU(isfinite_kernel, (elem_kernel<IsfiniteOp, kFl, 1, true>));
EMBER_REGISTER_CPU(nan_to_num_kernel, (elem_kernel<NanToNumOp, kFl, 2>));

}  // namespace ember::cpu
