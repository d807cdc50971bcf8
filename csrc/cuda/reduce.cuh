// Device-side reduction machinery for csrc/cuda/reduce.cu.
//
// Each op is a device functor over an accumulator state A: identity(), load(x, index),
// combine(a, b) (associative; index ops break ties by the smaller index, so the order in
// which threads combine does not matter) and store(a, out, out2, n). Three launch shapes:
//   many outputs, short rows   one thread per output, a serial loop over the row;
//   otherwise                  one block per output: strided partial states, then a block
//                              tree reduction (warp shuffles, then one warp over the warps);
//   few outputs, long rows     the row is also split across blocks (gridDim.y); partial
//                              states go to a scratch buffer that a second kernel combines.
// Everything sits in an anonymous namespace, as in elementwise.cuh.
#pragma once
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/cuda_runtime.h"
#include "core/reduce_iter.h"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

// Byte offset of element r (row-major over `shape`) along `ndim` dims with byte `strides`.
__device__ __forceinline__ int64_t offset_of(int64_t r, int ndim, const int64_t* shape,
                                             const int64_t* strides) {
  if (ndim == 1) return r * strides[0];
  int64_t off = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    int64_t q = r / shape[d];
    off += (r - q * shape[d]) * strides[d];
    r = q;
  }
  return off;
}

// Any trivially copyable state, shuffled as 32-bit words.
template <class A>
__device__ __forceinline__ A shfl_down(const A& a, int delta) {
  constexpr int kWords = (sizeof(A) + 3) / 4;
  int words[kWords] = {};
  memcpy(words, &a, sizeof(A));
#pragma unroll
  for (int w = 0; w < kWords; ++w) words[w] = __shfl_down_sync(0xffffffffu, words[w], delta);
  A out;
  memcpy(&out, words, sizeof(A));
  return out;
}

// Reduces every thread's state; thread 0 gets the result. blockDim.x is a multiple of 32.
template <class Op, class A>
__device__ A block_reduce(const Op& op, A a) {
  __shared__ alignas(16) char smem[32 * sizeof(A)];
  A* partial = reinterpret_cast<A*>(smem);
  for (int d = 16; d > 0; d /= 2) a = op.combine(a, shfl_down(a, d));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int nwarps = blockDim.x / 32;
  __syncthreads();  // smem may still be read by the previous output's reduction
  if (lane == 0) partial[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < nwarps ? partial[lane] : op.identity();
    for (int d = 16; d > 0; d /= 2) a = op.combine(a, shfl_down(a, d));
  }
  return a;
}

template <class Op>
__device__ typename Op::A reduce_range(const Op& op, const ReduceIter& r, const char* in,
                                       int64_t begin, int64_t end, int64_t step) {
  using T = typename Op::T;
  typename Op::A a = op.identity();
  for (int64_t i = begin; i < end; i += step) {
    T x = *reinterpret_cast<const T*>(in + offset_of(i, r.red_ndim, r.red_shape, r.red_strides));
    a = op.combine(a, op.load(x, i));
  }
  return a;
}

template <class Op>
__device__ void store_output(const Op& op, const ReduceIter& r, int64_t o, typename Op::A a) {
  char* out = r.out ? r.out + offset_of(o, r.out_ndim, r.out_shape, r.out_strides) : nullptr;
  char* out2 = r.out2 ? r.out2 + offset_of(o, r.out_ndim, r.out_shape, r.out2_strides) : nullptr;
  op.store(a, out, out2, r.red_numel);
}

template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_thread_kernel(ReduceIter r, Op op) {
  const int64_t step = int64_t{gridDim.x} * blockDim.x;
  for (int64_t o = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; o < r.out_numel; o += step) {
    const char* in = r.in + offset_of(o, r.out_ndim, r.out_shape, r.in_strides);
    store_output(op, r, o, reduce_range(op, r, in, 0, r.red_numel, 1));
  }
}

// Block (x, y) reduces chunk y of the rows x, x + gridDim.x, ...; with one chunk it stores the
// result, else it writes its partial state to scratch[o * gridDim.y + y].
template <class Op>
__global__ void __launch_bounds__(kThreads)
    reduce_block_kernel(ReduceIter r, Op op, typename Op::A* scratch) {
  const int64_t chunk = (r.red_numel + gridDim.y - 1) / gridDim.y;
  const int64_t begin = blockIdx.y * chunk;
  const int64_t end = begin + chunk < r.red_numel ? begin + chunk : r.red_numel;
  for (int64_t o = blockIdx.x; o < r.out_numel; o += gridDim.x) {
    const char* in = r.in + offset_of(o, r.out_ndim, r.out_shape, r.in_strides);
    auto a = block_reduce(op, reduce_range(op, r, in, begin + threadIdx.x, end, blockDim.x));
    if (threadIdx.x != 0) continue;
    if (gridDim.y == 1) {
      store_output(op, r, o, a);
    } else {
      scratch[o * gridDim.y + blockIdx.y] = a;
    }
  }
}

template <class Op>
__global__ void __launch_bounds__(kThreads)
    reduce_finish_kernel(ReduceIter r, Op op, const typename Op::A* scratch, int splits) {
  for (int64_t o = blockIdx.x; o < r.out_numel; o += gridDim.x) {
    auto a = op.identity();
    for (int s = threadIdx.x; s < splits; s += blockDim.x) a = op.combine(a, scratch[o * splits + s]);
    a = block_reduce(op, a);
    if (threadIdx.x == 0) store_output(op, r, o, a);
  }
}

// Picks the launch shape (see the top of the file). Scratch comes from the caching allocator;
// freeing it right after queueing is safe since all work is ordered on one stream.
template <class Op>
void launch_reduce(const ReduceIter& r, const Op& op) {
  if (r.out_numel == 0) return;
  use_device_of(r.out ? r.out : r.out2);
  if (r.red_numel < 128 || (r.red_numel < 4096 && r.out_numel >= 4096)) {
    reduce_thread_kernel<<<grid_size(r.out_numel, kThreads), kThreads>>>(r, op);
    check_launch("reduce kernel (thread per output)");
    return;
  }
  int64_t blocks = grid_size(r.out_numel, 1);
  int64_t want = grid_size(r.out_numel * r.red_numel, kThreads * 16);
  int splits = static_cast<int>(std::min<int64_t>(want / blocks, 1024));
  if (splits <= 1) {
    reduce_block_kernel<<<blocks, kThreads>>>(r, op, nullptr);
    check_launch("reduce kernel (block per output)");
    return;
  }
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  using A = typename Op::A;
  size_t nbytes = sizeof(A) * static_cast<size_t>(r.out_numel) * splits;
  A* scratch = static_cast<A*>(cuda::malloc(nbytes, device));
  reduce_block_kernel<<<dim3(blocks, splits), kThreads>>>(r, op, scratch);
  cudaError_t err = cudaGetLastError();
  if (err == cudaSuccess) {
    reduce_finish_kernel<<<blocks, kThreads>>>(r, op, scratch, splits);
    err = cudaGetLastError();
  }
  cuda::free(scratch, device);
  check(err, "reduce kernel (split rows)");
}

template <class T>
__device__ __forceinline__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return x != x;
  } else {
    return false;
  }
}

template <class T>
__device__ __forceinline__ void put(char* p, T v) {
  *reinterpret_cast<T*>(p) = v;
}

template <template <class> class Op, class... Ts>
void run_reduce(const ReduceIter& r) {
  visit_types<Ts...>("cuda reduce", r.dtype, [&](auto tag) {
    using O = Op<decltype(tag)>;
    if constexpr (std::is_constructible_v<O, const ReduceIter&>) {
      launch_reduce(r, O(r));
    } else {
      launch_reduce(r, O{});
    }
  });
}

}  // namespace
}  // namespace ember::cuda
