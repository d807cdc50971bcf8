// Reductions and scans on the GPU, one per table of cpu/reduce.h with the same contracts
// (output dtypes, identities of empty reductions, NaN propagation, first-occurrence indices).
// Each reduction is an accumulator functor run by launch_reduce (reduce.cuh). float32
// accumulates in float, float64 in double, bool and integers in int64; var/std use Welford's
// states combined with Chan's formula, which is the parallel form of the CPU's two passes.
// Scans (cumsum/cumprod) run one block per row, tile by tile, carrying the running total.
#include <cmath>
#include <limits>
#include <type_traits>

#include "cpu/reduce.h"
#include "cuda/reduce.cuh"

namespace ember::cuda {
namespace {

template <class T>
using Wide = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;

template <class In, bool kProd>
struct SumProdOp {
  using T = In;
  using A = Wide<In>;
  __device__ A identity() const { return kProd ? A(1) : A(0); }
  __device__ A load(T x, int64_t) const { return static_cast<A>(x); }
  __device__ A combine(A a, A b) const { return kProd ? a * b : a + b; }
  __device__ void store(A a, char* out, char*, int64_t) const { put(out, a); }
};
template <class T>
using SumOp = SumProdOp<T, false>;
template <class T>
using ProdOp = SumProdOp<T, true>;

template <class In>
struct MeanOp : SumProdOp<In, false> {
  __device__ void store(In a, char* out, char*, int64_t n) const {
    put(out, a / static_cast<In>(n));  // 0 / 0 = NaN for an empty reduction
  }
};

template <class T>
struct Welford {
  int64_t n;
  T mean;
  T m2;  // sum of squared deviations from the mean
};

template <class In, bool kStd>
struct VarOp {
  using T = In;
  using A = Welford<In>;
  double correction;
  explicit VarOp(const ReduceIter& r) : correction(r.correction) {}
  __device__ A identity() const { return {0, T(0), T(0)}; }
  __device__ A load(T x, int64_t) const { return {1, x, T(0)}; }
  __device__ A combine(const A& a, const A& b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const int64_t n = a.n + b.n;
    const T delta = b.mean - a.mean;
    const T wb = static_cast<T>(b.n) / static_cast<T>(n);
    return {n, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * static_cast<T>(a.n) * wb};
  }
  __device__ void store(const A& a, char* out, char*, int64_t) const {
    double divisor = static_cast<double>(a.n) - correction;
    T v = a.m2 / static_cast<T>(divisor > 0 ? divisor : 0.0);
    put(out, kStd ? sqrt(v) : v);
  }
};
template <class T>
using VarianceOp = VarOp<T, false>;
template <class T>
using StdOp = VarOp<T, true>;

// amax/amin: the first NaN met wins, so NaN propagates.
template <class In, bool kMax>
struct ExtremumOp {
  using T = In;
  using A = In;
  __device__ A identity() const {
    using L = std::numeric_limits<T>;
    if constexpr (std::is_floating_point_v<T>) {
      return kMax ? -L::infinity() : L::infinity();
    } else {
      return kMax ? L::lowest() : L::max();
    }
  }
  __device__ A load(T x, int64_t) const { return x; }
  __device__ A combine(A a, A b) const {
    if (is_nan(a)) return a;
    if (is_nan(b)) return b;
    return (kMax ? a < b : b < a) ? b : a;
  }
  __device__ void store(A a, char* out, char*, int64_t) const { put(out, a); }
};
template <class T>
using AmaxOp = ExtremumOp<T, true>;
template <class T>
using AminOp = ExtremumOp<T, false>;

template <class T>
struct ValueIndex {
  T v;
  int64_t i;  // -1: no element yet
};

// max/min with indices: the first maximum, or the first NaN if there is one. Ties and NaNs
// are settled by the smaller index, which makes combine order-independent.
template <class In, bool kMax>
struct ArgOp {
  using T = In;
  using A = ValueIndex<In>;
  __device__ A identity() const { return {T(0), -1}; }
  __device__ A load(T x, int64_t i) const { return {x, i}; }
  __device__ A combine(const A& a, const A& b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    const bool an = is_nan(a.v), bn = is_nan(b.v);
    if (an != bn) return an ? a : b;
    if (an || a.v == b.v) return a.i < b.i ? a : b;
    return (kMax ? a.v > b.v : a.v < b.v) ? a : b;
  }
  __device__ void store(const A& a, char* out, char* out2, int64_t) const {
    if (out) put(out, a.v);
    put(out2, a.i);
  }
};
template <class T>
using MaxDimOp = ArgOp<T, true>;
template <class T>
using MinDimOp = ArgOp<T, false>;

template <class T>
struct MaxSum {
  T m;  // running maximum
  T s;  // sum of exp(x - m)
};

// -inf for an empty or all -inf row; +inf if any +inf; NaN if any NaN.
template <class In>
struct LogSumExpOp {
  using T = In;
  using A = MaxSum<In>;
  __device__ A identity() const { return {-std::numeric_limits<T>::infinity(), T(0)}; }
  __device__ A load(T x, int64_t) const { return {x, T(1)}; }
  __device__ A combine(const A& a, const A& b) const {
    if (is_nan(a.m)) return a;
    if (is_nan(b.m)) return b;
    if (a.m == b.m) return {a.m, a.s + b.s};  // also +-inf on both sides
    const A& hi = a.m > b.m ? a : b;
    const A& lo = a.m > b.m ? b : a;
    return {hi.m, hi.s + lo.s * exp(lo.m - hi.m)};
  }
  __device__ void store(const A& a, char* out, char*, int64_t) const {
    const bool inf = fabs(a.m) == std::numeric_limits<T>::infinity();
    put(out, inf ? a.m : a.m + log(a.s));
  }
};

// The p-norm; the kind is chosen once on the host from p.
template <class In>
struct NormOp {
  using T = In;
  using A = In;
  enum Kind { kMaxAbs, kMinAbs, kCount, kL1, kL2, kLp };
  Kind kind;
  T p;
  explicit NormOp(const ReduceIter& r) : p(static_cast<T>(r.p)) {
    kind = std::isinf(r.p) ? (r.p > 0 ? kMaxAbs : kMinAbs)
           : r.p == 0     ? kCount
           : r.p == 1     ? kL1
           : r.p == 2     ? kL2
                          : kLp;
  }
  __device__ A identity() const {
    return kind == kMinAbs ? std::numeric_limits<T>::infinity() : T(0);
  }
  __device__ A load(T x, int64_t) const {
    switch (kind) {
      case kCount: return x != T(0) ? T(1) : T(0);
      case kL2: return x * x;
      case kLp: return pow(fabs(x), p);
      default: return fabs(x);
    }
  }
  __device__ A combine(A a, A b) const {
    if (kind == kMaxAbs || kind == kMinAbs) {
      if (is_nan(a)) return a;
      if (is_nan(b)) return b;
      return (kind == kMaxAbs ? a < b : b < a) ? b : a;
    }
    return a + b;
  }
  __device__ void store(A a, char* out, char*, int64_t) const {
    put(out, kind == kL2 ? sqrt(a) : kind == kLp ? pow(a, T(1) / p) : a);
  }
};

// any/all over any dtype: x != 0, NaN counting as true.
template <class In, bool kAll>
struct AnyAllOp {
  using T = In;
  using A = bool;
  __device__ A identity() const { return kAll; }
  __device__ A load(T x, int64_t) const {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BF16>) {
      return convert<float>(x) != 0.0f;  // NaN != 0
    } else {
      return x != T(0);
    }
  }
  __device__ A combine(A a, A b) const { return kAll ? (a && b) : (a || b); }
  __device__ void store(A a, char* out, char*, int64_t) const { put(out, a); }
};
template <class T>
using AnyOp = AnyAllOp<T, false>;
template <class T>
using AllOp = AnyAllOp<T, true>;

// ---- scans ----------------------------------------------------------------------------------

template <class T>
using ScanAcc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

template <bool kProd, class C>
__device__ __forceinline__ C scan_combine(C a, C b) {
  return kProd ? a * b : a + b;
}

template <class T, bool kProd>
__global__ void __launch_bounds__(kThreads) scan_thread_kernel(ReduceIter r) {
  const int64_t n = r.red_numel;
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  for (int64_t row = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; row < r.out_numel;
       row += step) {
    const char* in = r.in + offset_of(row, r.out_ndim, r.out_shape, r.in_strides);
    char* out = r.out + offset_of(row, r.out_ndim, r.out_shape, r.out_strides);
    ScanAcc<T> acc = kProd ? 1 : 0;
    for (int64_t i = 0; i < n; ++i) {
      acc = scan_combine<kProd>(acc, ScanAcc<T>(*reinterpret_cast<const T*>(in + i * r.red_strides[0])));
      put(out + i * r.out_scan_stride, static_cast<T>(acc));
    }
  }
}

// One row per block: each tile of blockDim.x elements is scanned with warp shuffles, the warp
// totals are scanned by warp 0, and the carry from earlier tiles is added.
template <class T, bool kProd>
__global__ void __launch_bounds__(kThreads) scan_block_kernel(ReduceIter r) {
  using C = ScanAcc<T>;
  __shared__ C warp_totals[32];
  const C identity = kProd ? 1 : 0;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
  const int64_t n = r.red_numel;
  for (int64_t row = blockIdx.x; row < r.out_numel; row += gridDim.x) {
    const char* in = r.in + offset_of(row, r.out_ndim, r.out_shape, r.in_strides);
    char* out = r.out + offset_of(row, r.out_ndim, r.out_shape, r.out_strides);
    C carry = identity;
    for (int64_t base = 0; base < n; base += blockDim.x) {
      const int64_t i = base + threadIdx.x;
      C v = i < n ? C(*reinterpret_cast<const T*>(in + i * r.red_strides[0])) : identity;
      for (int d = 1; d < 32; d *= 2) {
        C u = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v = scan_combine<kProd>(u, v);
      }
      if (lane == 31) warp_totals[warp] = v;
      __syncthreads();
      if (warp == 0) {
        C w = lane < nwarps ? warp_totals[lane] : identity;
        for (int d = 1; d < 32; d *= 2) {
          C u = __shfl_up_sync(0xffffffffu, w, d);
          if (lane >= d) w = scan_combine<kProd>(u, w);
        }
        warp_totals[lane] = w;
      }
      __syncthreads();
      if (warp > 0) v = scan_combine<kProd>(warp_totals[warp - 1], v);
      v = scan_combine<kProd>(carry, v);
      if (i < n) put(out + i * r.out_scan_stride, static_cast<T>(v));
      carry = scan_combine<kProd>(carry, warp_totals[nwarps - 1]);
      __syncthreads();  // warp_totals is rewritten by the next tile
    }
  }
}

template <bool kProd>
void scan_impl(const ReduceIter& r) {
  if (r.out_numel == 0 || r.red_numel == 0) return;
  use_device_of(r.out);
  visit_types<int64_t, float, double>("cuda scan", r.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (r.red_numel <= 64 || (r.red_numel < 1024 && r.out_numel >= 4096)) {
      scan_thread_kernel<T, kProd><<<grid_size(r.out_numel, kThreads), kThreads>>>(r);
    } else {
      scan_block_kernel<T, kProd><<<grid_size(r.out_numel, 1), kThreads>>>(r);
    }
  });
  check_launch("scan kernel");
}

}  // namespace

#define EMBER_ALL_BUT_16 bool, int32_t, int64_t, float, double
EMBER_REGISTER_CUDA(sum_kernel, (run_reduce<SumOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(prod_kernel, (run_reduce<ProdOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(mean_kernel, (run_reduce<MeanOp, float, double>));
EMBER_REGISTER_CUDA(var_kernel, (run_reduce<VarianceOp, float, double>));
EMBER_REGISTER_CUDA(std_kernel, (run_reduce<StdOp, float, double>));
EMBER_REGISTER_CUDA(amax_kernel, (run_reduce<AmaxOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(amin_kernel, (run_reduce<AminOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(max_dim_kernel, (run_reduce<MaxDimOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(min_dim_kernel, (run_reduce<MinDimOp, EMBER_ALL_BUT_16>));
EMBER_REGISTER_CUDA(logsumexp_kernel, (run_reduce<LogSumExpOp, float, double>));
EMBER_REGISTER_CUDA(norm_kernel, (run_reduce<NormOp, float, double>));
EMBER_REGISTER_CUDA(any_kernel, (run_reduce<AnyOp, EMBER_ALL_BUT_16, Half, BF16>));
EMBER_REGISTER_CUDA(all_kernel, (run_reduce<AllOp, EMBER_ALL_BUT_16, Half, BF16>));
#undef EMBER_ALL_BUT_16
EMBER_REGISTER_CUDA(cumsum_kernel, scan_impl<false>);
EMBER_REGISTER_CUDA(cumprod_kernel, scan_impl<true>);

}  // namespace ember::cuda
