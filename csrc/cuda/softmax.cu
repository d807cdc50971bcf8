// The CUDA slots of softmax_kernel / softmax_backward_kernel (cpu/softmax.h): one block per
// row of the (outer, dim, inner) block, its values `inner` apart. Three passes per row as on
// the CPU: max, sum of exp(x - max), then the results; the backward's one reduction is
// sum(g * y) (softmax) or sum(g) (log_softmax). A row of all -inf, or one holding +inf or NaN,
// yields NaN as in PyTorch.
#include <cmath>

#include "cpu/softmax.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

template <class A>
__global__ void softmax_dev(SoftmaxArgs a) {
  const int64_t r = blockIdx.x, o = r / a.inner, i = r - o * a.inner;
  const int64_t base = o * a.dim * a.inner + i, step = a.inner;
  const A* x = static_cast<const A*>(a.x) + base;
  A* y = static_cast<A*>(a.y) + base;
  A m = A(-INFINITY);
  for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x) {
    const A v = x[k * step];
    m = v > m ? v : m;
  }
  m = block_max(m);
  A s = A(0);
  for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x) s += exp(x[k * step] - m);
  s = block_sum(s);
  if (a.log) {
    const A ls = log(s);
    for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x)
      y[k * step] = (x[k * step] - m) - ls;
    return;
  }
  const A inv = A(1) / s;
  for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x)
    y[k * step] = exp(x[k * step] - m) * inv;
}

template <class A>
__global__ void softmax_backward_dev(SoftmaxArgs a) {
  const int64_t r = blockIdx.x, o = r / a.inner, i = r - o * a.inner;
  const int64_t base = o * a.dim * a.inner + i, step = a.inner;
  const A* y = static_cast<const A*>(a.x) + base;
  const A* g = static_cast<const A*>(a.grad) + base;
  A* gx = static_cast<A*>(a.y) + base;
  A s = A(0);
  for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x)
    s += a.log ? g[k * step] : g[k * step] * y[k * step];
  s = block_sum(s);
  for (int64_t k = threadIdx.x; k < a.dim; k += blockDim.x) {
    const int64_t at = k * step;
    gx[at] = a.log ? g[at] - exp(y[at]) * s : y[at] * (g[at] - s);
  }
}

template <bool kBackward>
void run(const SoftmaxArgs& a, const char* op) {
  const int64_t rows = a.outer * a.inner;
  if (rows == 0 || a.dim == 0) return;
  if (rows > 0x7fffffff) fail<ValueError>(op, rows, " rows are too many for one launch");
  use_device_of(a.x);
  const unsigned grid = static_cast<unsigned>(rows);
  if (a.dtype == DType::Float32) {
    if constexpr (kBackward) softmax_backward_dev<float><<<grid, kThreads>>>(a);
    else softmax_dev<float><<<grid, kThreads>>>(a);
  } else if (a.dtype == DType::Float64) {
    if constexpr (kBackward) softmax_backward_dev<double><<<grid, kThreads>>>(a);
    else softmax_dev<double><<<grid, kThreads>>>(a);
  } else {
    fail<TypeError>(op, "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
  }
  check_launch(op);
}

void softmax_forward(const SoftmaxArgs& a) { run<false>(a, "softmax"); }
void softmax_backward(const SoftmaxArgs& a) { run<true>(a, "softmax_backward"); }

}  // namespace

EMBER_REGISTER_CUDA(softmax_kernel, softmax_forward);
EMBER_REGISTER_CUDA(softmax_backward_kernel, softmax_backward);

}  // namespace ember::cuda
