// Device-side elementwise machinery shared by the CUDA kernel families: the C++ types behind
// each DType with their conversions, an offset calculator over an ElemIter, and
// launch_elementwise, a grid-stride launcher with two paths:
//   flat     every operand contiguous (or a broadcast scalar) and 16-byte aligned: each
//            thread moves 16 bytes per operand per step with one vector load/store;
//   strided  anything else: each linear index is split into per-operand byte offsets.
// Everything sits in an anonymous namespace so that two .cu files instantiating the same
// kernel never share a host stub (each file is compiled whole-program, without -rdc).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "core/iter.h"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

// float16/bfloat16 are stored as their uint16 bits, as on the CPU.
struct Half {
  uint16_t x;
};
struct BF16 {
  uint16_t x;
};

template <class To, class From>
__device__ __forceinline__ To convert(From v) {
  if constexpr (std::is_same_v<From, Half>) {
    return convert<To>(__half2float(__ushort_as_half(v.x)));
  } else if constexpr (std::is_same_v<From, BF16>) {
    return convert<To>(__bfloat162float(__ushort_as_bfloat16(v.x)));
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{__half_as_ushort(__float2half_rn(static_cast<float>(v)))};
  } else if constexpr (std::is_same_v<To, BF16>) {
    return BF16{__bfloat16_as_ushort(__float2bfloat16_rn(static_cast<float>(v)))};
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else {
    return static_cast<To>(v);
  }
}

// Calls f(T{}) with T the device type of `dtype` (host side).
template <class F>
inline void visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: f(bool{}); break;
    case DType::Int32: f(int32_t{}); break;
    case DType::Int64: f(int64_t{}); break;
    case DType::Float16: f(Half{}); break;
    case DType::BFloat16: f(BF16{}); break;
    case DType::Float32: f(float{}); break;
    case DType::Float64: f(double{}); break;
  }
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, bool>) return DType::Bool;
  if constexpr (std::is_same_v<T, int32_t>) return DType::Int32;
  if constexpr (std::is_same_v<T, int64_t>) return DType::Int64;
  if constexpr (std::is_same_v<T, Half>) return DType::Float16;
  if constexpr (std::is_same_v<T, BF16>) return DType::BFloat16;
  if constexpr (std::is_same_v<T, float>) return DType::Float32;
  if constexpr (std::is_same_v<T, double>) return DType::Float64;
}

// Calls f(T{}) for the T among Ts whose dtype is `dtype`; TypeError naming `op` otherwise.
// Listing the types a kernel supports keeps the instantiations (and compile time) to those.
template <class... Ts, class F>
void visit_types(const char* op, DType dtype, F&& f) {
  bool done = ((dtype == dtype_of<Ts>() ? (f(Ts{}), true) : false) || ...);
  if (!done) fail<TypeError>(op, "unsupported dtype ", dtype_name(dtype), " on CUDA");
}

// Byte offsets of each operand for a linear (row-major) index of the iteration space. The
// 32-bit branch is taken for every grid under 4G elements; the branch is uniform across a
// warp, and 32-bit division is several times cheaper than 64-bit on the GPU.
struct OffsetCalc {
  int ndim;
  int nargs;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxArgs][kMaxDims];

  explicit OffsetCalc(const ElemIter& it) : ndim(it.ndim), nargs(it.nargs) {
    for (int d = 0; d < kMaxDims; ++d) {
      shape[d] = d < it.ndim ? it.shape[d] : 1;
      for (int a = 0; a < kMaxArgs; ++a) strides[a][d] = d < it.ndim ? it.strides[a][d] : 0;
    }
  }

  __device__ __forceinline__ void get(int64_t index, bool small, int64_t* off) const {
#pragma unroll
    for (int a = 0; a < kMaxArgs; ++a) off[a] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t r;
      if (small) {
        uint32_t i = static_cast<uint32_t>(index);
        uint32_t s = static_cast<uint32_t>(shape[d]);
        uint32_t q = i / s;
        r = i - q * s;
        index = q;
      } else {
        int64_t q = index / shape[d];
        r = index - q * shape[d];
        index = q;
      }
#pragma unroll
      for (int a = 0; a < kMaxArgs; ++a) off[a] += r * strides[a][d];
    }
  }
};

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <int N>
struct Ptrs {
  char* out;
  const char* in[N];
  bool scalar[N];  // stride 0: one value broadcast to every element
};

template <class Tout, class Tin, int N, class Op>
__device__ __forceinline__ Tout apply(const Op& op, const Tin (&x)[N]) {
  if constexpr (N == 1) {
    return op(x[0]);
  } else if constexpr (N == 2) {
    return op(x[0], x[1]);
  } else {
    return op(x[0], x[1], x[2]);
  }
}

// Elements [0, n) of contiguous operands, V per thread per step; the last n % V elements are
// done one by one by the first threads of the grid.
template <int V, int N, class Tin, class Tout, class Op>
__global__ void __launch_bounds__(kThreads) flat_kernel(Ptrs<N> p, int64_t n, Op op) {
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  const int64_t first = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  Tin scalar[N];
#pragma unroll
  for (int k = 0; k < N; ++k) {
    if (p.scalar[k]) scalar[k] = *reinterpret_cast<const Tin*>(p.in[k]);
  }
  const int64_t nvec = n / V;
  for (int64_t i = first; i < nvec; i += step) {
    Vec<Tin, V> x[N];
#pragma unroll
    for (int k = 0; k < N; ++k) {
      if (!p.scalar[k]) x[k] = reinterpret_cast<const Vec<Tin, V>*>(p.in[k])[i];
    }
    Vec<Tout, V> y;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      Tin args[N];
#pragma unroll
      for (int k = 0; k < N; ++k) args[k] = p.scalar[k] ? scalar[k] : x[k].v[j];
      y.v[j] = apply<Tout, Tin, N>(op, args);
    }
    reinterpret_cast<Vec<Tout, V>*>(p.out)[i] = y;
  }
  const int64_t t = nvec * V + first;
  if (t < n) {
    Tin args[N];
#pragma unroll
    for (int k = 0; k < N; ++k)
      args[k] = p.scalar[k] ? scalar[k] : reinterpret_cast<const Tin*>(p.in[k])[t];
    reinterpret_cast<Tout*>(p.out)[t] = apply<Tout, Tin, N>(op, args);
  }
}

template <int N, class Tin, class Tout, class Op>
__global__ void __launch_bounds__(kThreads)
    strided_kernel(OffsetCalc calc, Ptrs<N> p, int64_t n, Op op) {
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  const bool small = n <= int64_t{UINT32_MAX};
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[kMaxArgs];
    calc.get(i, small, off);
    Tin args[N];
#pragma unroll
    for (int k = 0; k < N; ++k) args[k] = *reinterpret_cast<const Tin*>(p.in[k] + off[k + 1]);
    *reinterpret_cast<Tout*>(p.out + off[0]) = apply<Tout, Tin, N>(op, args);
  }
}

// The vector width that moves 16 bytes of the wider of the two types per operand.
template <class Tin, class Tout>
constexpr int vec_width() {
  constexpr size_t wide = sizeof(Tin) > sizeof(Tout) ? sizeof(Tin) : sizeof(Tout);
  return static_cast<int>(16 / wide);
}

// Runs out = op(in...) over `it`: N = it.nargs - 1 inputs of type Tin, an output of type Tout.
// Op is a device functor taking N Tin values and returning a Tout.
template <int N, class Tin, class Tout, class Op>
void launch_elementwise(const ElemIter& it, const Op& op) {
  static_assert(N >= 1 && N + 1 <= kMaxArgs, "1 to 3 inputs");
  if (it.numel == 0) return;
  use_device_of(it.data[0]);
  constexpr int V = vec_width<Tin, Tout>();
  Ptrs<N> p;
  p.out = it.data[0];
  bool flat = it.ndim == 1 && it.strides[0][0] == static_cast<int64_t>(sizeof(Tout)) &&
              reinterpret_cast<uintptr_t>(p.out) % sizeof(Vec<Tout, V>) == 0;
  for (int k = 0; k < N; ++k) {
    p.in[k] = it.data[k + 1];
    int64_t s = it.strides[k + 1][0];
    p.scalar[k] = s == 0;
    bool aligned = reinterpret_cast<uintptr_t>(p.in[k]) % sizeof(Vec<Tin, V>) == 0;
    flat = flat && (p.scalar[k] || (s == static_cast<int64_t>(sizeof(Tin)) && aligned));
  }
  if (flat) {
    int64_t blocks = grid_size((it.numel + V - 1) / V, kThreads);
    flat_kernel<V, N, Tin, Tout><<<blocks, kThreads>>>(p, it.numel, op);
    check_launch("elementwise kernel (flat)");
  } else {
    for (int k = 0; k < N; ++k) p.scalar[k] = false;
    int64_t blocks = grid_size(it.numel, kThreads);
    strided_kernel<N, Tin, Tout><<<blocks, kThreads>>>(OffsetCalc(it), p, it.numel, op);
    check_launch("elementwise kernel (strided)");
  }
}

// An op functor is built from the ElemIter when it takes parameters (alpha, beta), else
// default-constructed. `Op::Out` is its output type when it differs from the input type.
template <class Op>
Op make_op(const ElemIter& it) {
  if constexpr (std::is_constructible_v<Op, const ElemIter&>) {
    return Op(it);
  } else {
    return Op{};
  }
}

template <class Op, class T, class = void>
struct out_type {
  using type = T;
};
template <class Op, class T>
struct out_type<Op, T, std::void_t<typename Op::Out>> {
  using type = typename Op::Out;
};

// Runs Op<T> over `it` with N inputs for the T among Ts that is it.dtype.
template <int N, template <class> class Op, class... Ts>
void run_op(const ElemIter& it) {
  visit_types<Ts...>("cuda elementwise", it.dtype, [&](auto tag) {
    using T = decltype(tag);
    using O = Op<T>;
    launch_elementwise<N, T, typename out_type<O, T>::type>(it, make_op<O>(it));
  });
}

}  // namespace
}  // namespace ember::cuda
