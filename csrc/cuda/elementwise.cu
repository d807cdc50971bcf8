// Binary elementwise kernels on the GPU (arithmetic, comparisons, logical, bitwise, where),
// one per table of cpu/elementwise.h with the same contract: inputs arrive in one compute
// dtype, alpha/beta come from the ElemIter, and no value traps (integer division by zero
// gives 0). Unary ops live in elementwise_unary.cu so the two files compile in parallel.
#include <type_traits>

#include "cpu/elementwise.h"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

template <template <class> class Op>
constexpr auto numeric = run_op<2, Op, int32_t, int64_t, float, double>;
template <template <class> class Op>
constexpr auto numeric_bool = run_op<2, Op, bool, int32_t, int64_t, float, double>;
template <template <class> class Op>
constexpr auto floating = run_op<2, Op, float, double>;
template <template <class> class Op>
constexpr auto integral_bool = run_op<2, Op, bool, int32_t, int64_t>;

// Two's-complement negation without signed overflow (INT_MIN / -1 must not trap).
template <class T>
__device__ T wrapping_neg(T a) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(U(0) - static_cast<U>(a));
}

// ---- arithmetic ---------------------------------------------------------------------------

template <class T>
struct AddOp {
  T alpha;
  explicit AddOp(const ElemIter& it) : alpha(static_cast<T>(it.alpha)) {}
  __device__ T operator()(T a, T b) const { return a + alpha * b; }
};
template <class T>
struct SubOp {
  T alpha;
  explicit SubOp(const ElemIter& it) : alpha(static_cast<T>(it.alpha)) {}
  __device__ T operator()(T a, T b) const { return a - alpha * b; }
};
template <class T>
struct MulOp {
  __device__ T operator()(T a, T b) const { return a * b; }
};
template <class T>
struct DivOp {
  __device__ T operator()(T a, T b) const { return a / b; }
};

template <class T>
struct DivTruncOp {
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      return b == -1 ? wrapping_neg(a) : a / b;
    } else {
      return trunc(a / b);
    }
  }
};

// Python's //: for floats the quotient of the exact remainder, as CPython (and PyTorch) do,
// so that a == (a // b) * b + a % b holds as closely as rounding allows.
template <class T>
struct DivFloorOp {
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if (b == -1) return wrapping_neg(a);
      T q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    } else {
      if (b == 0) return a / b;
      T mod = fmod(a, b);
      T div = (a - mod) / b;
      if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
      if (div == 0) return copysign(T(0), a / b);
      T floordiv = floor(div);
      return div - floordiv > T(0.5) ? floordiv + 1 : floordiv;
    }
  }
};

template <class T>
struct RemainderOp {
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0 || b == -1) return 0;
      T r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    } else {
      T r = fmod(a, b);
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
  }
};

// Integers by squaring (wrapping on overflow); a negative exponent gives trunc(1 / a^|b|):
// 1 for a == 1, +-1 for a == -1, else 0 (0 for a == 0 too: no value traps).
template <class T>
struct PowOp {
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b < 0) {
        if (a == 1) return 1;
        if (a == -1) return (b & 1) ? -1 : 1;
        return 0;
      }
      using U = std::make_unsigned_t<T>;
      U r = 1, base = static_cast<U>(a);
      for (; b != 0; b >>= 1) {
        if (b & 1) r *= base;
        base *= base;
      }
      return static_cast<T>(r);
    } else {
      return pow(a, b);
    }
  }
};

template <class T>
__device__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return x != x;
  } else {
    return false;
  }
}

template <class T>
struct MaximumOp {
  __device__ T operator()(T a, T b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return a < b ? b : a;
  }
};
template <class T>
struct MinimumOp {
  __device__ T operator()(T a, T b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return b < a ? b : a;
  }
};

// ---- comparisons and logical: out bool ----------------------------------------------------

#define EMBER_BOOL_OP(Name, expr)                                 \
  template <class T>                                              \
  struct Name {                                                   \
    using Out = bool;                                             \
    __device__ bool operator()(T a, T b) const { return (expr); } \
  };
EMBER_BOOL_OP(EqOp, a == b)
EMBER_BOOL_OP(NeOp, a != b)
EMBER_BOOL_OP(LtOp, a < b)
EMBER_BOOL_OP(LeOp, a <= b)
EMBER_BOOL_OP(GtOp, a > b)
EMBER_BOOL_OP(GeOp, a >= b)
EMBER_BOOL_OP(LogicalAndOp, a != T(0) && b != T(0))
EMBER_BOOL_OP(LogicalOrOp, a != T(0) || b != T(0))
EMBER_BOOL_OP(LogicalXorOp, (a != T(0)) != (b != T(0)))
#undef EMBER_BOOL_OP

template <class T>
struct LogicalNotOp {
  using Out = bool;
  __device__ bool operator()(T a) const { return a == T(0); }
};

// ---- bitwise: bool, int32, int64 ------------------------------------------------------------

template <class T>
struct BitAndOp {
  __device__ T operator()(T a, T b) const { return a & b; }
};
template <class T>
struct BitOrOp {
  __device__ T operator()(T a, T b) const { return a | b; }
};
template <class T>
struct BitXorOp {
  __device__ T operator()(T a, T b) const { return a ^ b; }
};
template <class T>
struct BitNotOp {
  __device__ T operator()(T a) const {
    if constexpr (std::is_same_v<T, bool>) {
      return !a;
    } else {
      return ~a;
    }
  }
};

// ---- where: cond ? a : b, moving bytes of any dtype ------------------------------------------

template <class T>
__global__ void __launch_bounds__(kThreads)
    where_kernel_impl(OffsetCalc calc, char* out, const char* cond, const char* a,
                      const char* b, int64_t n) {
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  const bool small = n <= int64_t{UINT32_MAX};
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[kMaxArgs];
    calc.get(i, small, off);
    const char* src = *reinterpret_cast<const bool*>(cond + off[1]) ? a + off[2] : b + off[3];
    *reinterpret_cast<T*>(out + off[0]) = *reinterpret_cast<const T*>(src);
  }
}

// Only the item size matters, so four instantiations cover every dtype.
void where_impl(const ElemIter& it) {
  if (it.numel == 0) return;
  use_device_of(it.data[0]);
  int64_t blocks = grid_size(it.numel, kThreads);
  OffsetCalc calc(it);
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    where_kernel_impl<T><<<blocks, kThreads>>>(calc, it.data[0], it.data[1], it.data[2],
                                               it.data[3], it.numel);
  };
  switch (itemsize(it.dtype)) {
    case 1: launch(uint8_t{}); break;
    case 2: launch(uint16_t{}); break;
    case 4: launch(uint32_t{}); break;
    default: launch(uint64_t{}); break;
  }
  check_launch("where kernel");
}

}  // namespace

EMBER_REGISTER_CUDA(add_kernel, numeric<AddOp>);
EMBER_REGISTER_CUDA(sub_kernel, numeric<SubOp>);
EMBER_REGISTER_CUDA(mul_kernel, numeric<MulOp>);
EMBER_REGISTER_CUDA(div_kernel, floating<DivOp>);
EMBER_REGISTER_CUDA(div_trunc_kernel, numeric<DivTruncOp>);
EMBER_REGISTER_CUDA(div_floor_kernel, numeric<DivFloorOp>);
EMBER_REGISTER_CUDA(remainder_kernel, numeric<RemainderOp>);
EMBER_REGISTER_CUDA(pow_kernel, numeric<PowOp>);
EMBER_REGISTER_CUDA(maximum_kernel, numeric_bool<MaximumOp>);
EMBER_REGISTER_CUDA(minimum_kernel, numeric_bool<MinimumOp>);

EMBER_REGISTER_CUDA(eq_kernel, numeric_bool<EqOp>);
EMBER_REGISTER_CUDA(ne_kernel, numeric_bool<NeOp>);
EMBER_REGISTER_CUDA(lt_kernel, numeric_bool<LtOp>);
EMBER_REGISTER_CUDA(le_kernel, numeric_bool<LeOp>);
EMBER_REGISTER_CUDA(gt_kernel, numeric_bool<GtOp>);
EMBER_REGISTER_CUDA(ge_kernel, numeric_bool<GeOp>);
EMBER_REGISTER_CUDA(logical_and_kernel, numeric_bool<LogicalAndOp>);
EMBER_REGISTER_CUDA(logical_or_kernel, numeric_bool<LogicalOrOp>);
EMBER_REGISTER_CUDA(logical_xor_kernel, numeric_bool<LogicalXorOp>);
EMBER_REGISTER_CUDA(logical_not_kernel, (run_op<1, LogicalNotOp, bool, int32_t, int64_t, float,
                                                double>));

EMBER_REGISTER_CUDA(bitwise_and_kernel, integral_bool<BitAndOp>);
EMBER_REGISTER_CUDA(bitwise_or_kernel, integral_bool<BitOrOp>);
EMBER_REGISTER_CUDA(bitwise_xor_kernel, integral_bool<BitXorOp>);
EMBER_REGISTER_CUDA(bitwise_not_kernel, (run_op<1, BitNotOp, bool, int32_t, int64_t>));

EMBER_REGISTER_CUDA(where_kernel, where_impl);

}  // namespace ember::cuda
