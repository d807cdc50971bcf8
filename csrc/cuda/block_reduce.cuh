// Block-wide sums for the one-block-per-row kernels (conv bias/depthwise weight gradients,
// normalisation statistics): warp shuffles, then one value per warp through shared memory.
// Every thread of the block must call block_sum (it synchronises), with blockDim.x a multiple
// of 32 and at most 1024; all threads receive the total.
#pragma once
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace ember::cuda {
namespace {

template <class A>
__device__ __forceinline__ A warp_sum(A v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// max that skips NaN (comparisons with NaN are false); callers let NaN reach the results
// through the values themselves, as the CPU's row_max does.
template <class A>
__device__ __forceinline__ A warp_max(A v) {
  for (int off = 16; off > 0; off >>= 1) {
    const A o = __shfl_down_sync(0xffffffffu, v, off);
    v = o > v ? o : v;
  }
  return v;
}

// kMax: the maximum (identity -inf) instead of the sum (identity 0).
template <bool kMax, class A>
__device__ A block_reduce(A v) {
  __shared__ A part[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();  // an earlier call's readers of part[] are done
  if (lane == 0) part[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + 31) >> 5;
  if (warp == 0) {
    v = lane < warps ? part[lane] : (kMax ? A(-INFINITY) : A(0));
    v = kMax ? warp_max(v) : warp_sum(v);
    if (lane == 0) part[0] = v;
  }
  __syncthreads();
  return part[0];
}

template <class A>
__device__ A block_sum(A v) {
  return block_reduce<false>(v);
}
template <class A>
__device__ A block_max(A v) {
  return block_reduce<true>(v);
}

// Grid-stride loop bounds as 64-bit values, so index arithmetic never wraps at 2^31.
__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t global_stride() {
  return static_cast<int64_t>(blockDim.x) * gridDim.x;
}

}  // namespace
}  // namespace ember::cuda
