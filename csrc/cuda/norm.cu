// The CUDA slots of batch_norm / row_norm forward and backward (cpu/norm.h). One block per
// reduction (a batch-norm channel, a layer/group-norm row); statistics are two-pass (mean,
// then the mean of squared deviations) like the CPU, accumulated in the data type (float32
// for float32, which the block's tree of partial sums keeps accurate) and in double for the
// per-channel scalar coefficients. The row norms' grad_weight / grad_bias is a second kernel
// with one block per affine entry, so no atomics and no scratch are needed (a.scratch unused).
#include <cmath>

#include "cpu/norm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

// Element t of channel c's n segments of s values in an (n, C, s) block.
__device__ __forceinline__ int64_t bn_at(int64_t t, int64_t c, int64_t chans, int64_t s) {
  const int64_t i = t / s;
  return (i * chans + c) * s + (t - i * s);
}

template <class A>
__global__ void bn_forward_dev(BatchNormArgs a) {
  const int64_t c = blockIdx.x, m = a.n * a.s;
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  double mean, var;
  if (a.training) {
    A s = A(0);
    for (int64_t t = threadIdx.x; t < m; t += blockDim.x) s += x[bn_at(t, c, a.c, a.s)];
    mean = double(block_sum(s)) / double(m);
    const A mu = A(mean);
    A q = A(0);
    for (int64_t t = threadIdx.x; t < m; t += blockDim.x) {
      const A d = x[bn_at(t, c, a.c, a.s)] - mu;
      q += d * d;
    }
    var = double(block_sum(q)) / double(m);
    if (threadIdx.x == 0 && a.running_mean) {
      A* rm = static_cast<A*>(a.running_mean) + c;
      *rm = A((1 - a.momentum) * double(*rm) + a.momentum * mean);
    }
    if (threadIdx.x == 0 && a.running_var) {  // PyTorch stores the unbiased variance
      A* rv = static_cast<A*>(a.running_var) + c;
      const double unbiased = m > 1 ? var * double(m) / double(m - 1) : NAN;
      *rv = A((1 - a.momentum) * double(*rv) + a.momentum * unbiased);
    }
  } else {
    mean = double(static_cast<const A*>(a.running_mean)[c]);
    var = double(static_cast<const A*>(a.running_var)[c]);
  }
  const double invstd = 1.0 / sqrt(var + a.eps);
  if (threadIdx.x == 0) {
    static_cast<A*>(a.mean)[c] = A(mean);
    static_cast<A*>(a.invstd)[c] = A(invstd);
  }
  const double w = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
  const double b = a.bias ? double(static_cast<const A*>(a.bias)[c]) : 0.0;
  const A scale = A(w * invstd), shift = A(b - mean * w * invstd);
  for (int64_t t = threadIdx.x; t < m; t += blockDim.x) {
    const int64_t k = bn_at(t, c, a.c, a.s);
    y[k] = x[k] * scale + shift;
  }
}

// gb = sum(g), gw = sum(g * xhat); training: gx = k1 * g - k2 * (x - mean) - k3, eval:
// gx = k1 * g (cpu/norm.cpp).
template <class A>
__global__ void bn_backward_dev(BatchNormArgs a) {
  const int64_t c = blockIdx.x, m = a.n * a.s;
  const A* x = static_cast<const A*>(a.x);
  const A* g = static_cast<const A*>(a.grad);
  const double mean = double(static_cast<const A*>(a.mean)[c]);
  const double invstd = double(static_cast<const A*>(a.invstd)[c]);
  const double w = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
  const A mu = A(mean);
  A s = A(0), sx = A(0);
  for (int64_t t = threadIdx.x; t < m; t += blockDim.x) {
    const int64_t k = bn_at(t, c, a.c, a.s);
    s += g[k];
    sx += g[k] * (x[k] - mu);
  }
  const double sg = double(block_sum(s)), sgx = double(block_sum(sx));
  if (threadIdx.x == 0) {
    if (a.grad_bias) static_cast<A*>(a.grad_bias)[c] = A(sg);
    if (a.grad_weight) static_cast<A*>(a.grad_weight)[c] = A(sgx * invstd);
  }
  if (!a.y) return;
  A* gx = static_cast<A*>(a.y);
  const A k1 = A(w * invstd);
  const A k2 = a.training ? A(w * invstd * invstd * invstd * sgx / double(m)) : A(0);
  const A k3 = a.training ? A(w * invstd * sg / double(m)) : A(0);
  for (int64_t t = threadIdx.x; t < m; t += blockDim.x) {
    const int64_t k = bn_at(t, c, a.c, a.s);
    gx[k] = k1 * g[k] - k2 * (x[k] - mu) - k3;
  }
}

template <class A>
__global__ void row_forward_dev(RowNormArgs a) {
  const int64_t r = blockIdx.x, len = a.chans * a.inner;
  const A* x = static_cast<const A*>(a.x) + r * len;
  A* y = static_cast<A*>(a.y) + r * len;
  A s = A(0);
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x) s += x[t];
  const double mean = double(block_sum(s)) / double(len);
  const A mu = A(mean);
  A q = A(0);
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x) {
    const A d = x[t] - mu;
    q += d * d;
  }
  const double var = double(block_sum(q)) / double(len);
  const double rstd = 1.0 / sqrt(var + a.eps);
  if (threadIdx.x == 0) {
    static_cast<A*>(a.mean)[r] = A(mean);
    static_cast<A*>(a.rstd)[r] = A(rstd);
  }
  const int64_t base = (r % a.wrows) * a.chans;
  const A* w = a.weight ? static_cast<const A*>(a.weight) + base : nullptr;
  const A* b = a.bias ? static_cast<const A*>(a.bias) + base : nullptr;
  const A rs = A(rstd);
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x) {
    const int64_t j = t / a.inner;
    const A v = (x[t] - mu) * rs;
    y[t] = (w ? v * w[j] : v) + (b ? b[j] : A(0));
  }
}

// gx = rstd * (h - mean(h) - xhat * mean(h * xhat)) with h = g * w (cpu/norm.cpp).
template <class A>
__global__ void row_backward_dev(RowNormArgs a) {
  const int64_t r = blockIdx.x, len = a.chans * a.inner;
  const A* x = static_cast<const A*>(a.x) + r * len;
  const A* g = static_cast<const A*>(a.grad) + r * len;
  const A* w = a.weight ? static_cast<const A*>(a.weight) + (r % a.wrows) * a.chans : nullptr;
  const A mu = static_cast<const A*>(a.mean)[r], rs = static_cast<const A*>(a.rstd)[r];
  A sh = A(0), shx = A(0);
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x) {
    const A h = w ? g[t] * w[t / a.inner] : g[t];
    sh += h;
    shx += h * ((x[t] - mu) * rs);
  }
  sh = block_sum(sh);
  shx = block_sum(shx);
  A* gx = static_cast<A*>(a.y) + r * len;
  const A c1 = A(double(sh) / double(len)), c2 = A(double(shx) / double(len));
  for (int64_t t = threadIdx.x; t < len; t += blockDim.x) {
    const A h = w ? g[t] * w[t / a.inner] : g[t];
    gx[t] = rs * (h - c1 - (x[t] - mu) * rs * c2);
  }
}

// One block per affine entry e = (row group rg, channel j): the sums of g * xhat and g over the
// rows r = rg, rg + wrows, ... and the entry's `inner` values in each.
template <class A>
__global__ void row_affine_grad_dev(RowNormArgs a) {
  const int64_t e = blockIdx.x, rg = e / a.chans, j = e - rg * a.chans;
  const int64_t len = a.chans * a.inner, count = (a.rows / a.wrows) * a.inner;
  const A* x = static_cast<const A*>(a.x);
  const A* g = static_cast<const A*>(a.grad);
  const A* mean = static_cast<const A*>(a.mean);
  const A* rstd = static_cast<const A*>(a.rstd);
  A sw = A(0), sb = A(0);
  for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
    const int64_t q = t / a.inner, k = t - q * a.inner, r = rg + q * a.wrows;
    const int64_t at = r * len + j * a.inner + k;
    sw += g[at] * ((x[at] - mean[r]) * rstd[r]);
    sb += g[at];
  }
  sw = block_sum(sw);
  sb = block_sum(sb);
  if (threadIdx.x == 0) {
    if (a.grad_weight) static_cast<A*>(a.grad_weight)[e] = sw;
    if (a.grad_bias) static_cast<A*>(a.grad_bias)[e] = sb;
  }
}

template <class Args, class F>
void by_dtype(const char* op, const Args& a, const void* ptr, const F& f) {
  use_device_of(ptr);
  if (a.dtype == DType::Float32) return f(float{});
  if (a.dtype == DType::Float64) return f(double{});
  fail<TypeError>(op, "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
}

const unsigned kBlocksMax = 0x7fffffffu;

// Threads per reduction block: long reductions (a batch-norm channel of a large batch) get
// 1024, since there may be fewer blocks than SMs.
unsigned threads_for(int64_t len) { return len >= 32768 ? 1024u : static_cast<unsigned>(kThreads); }

unsigned blocks(int64_t n, const char* op) {
  if (n > kBlocksMax) fail<ValueError>(op, n, " rows are too many for one launch");
  return static_cast<unsigned>(n);
}

void batch_norm_forward(const BatchNormArgs& a) {
  if (a.c == 0 || a.n * a.s == 0) return;
  by_dtype("batch_norm", a, a.x, [&](auto t) {
    bn_forward_dev<decltype(t)><<<blocks(a.c, "batch_norm"), threads_for(a.n * a.s)>>>(a);
  });
  check_launch("batch_norm");
}

void batch_norm_backward(const BatchNormArgs& a) {
  if (a.c == 0 || a.n * a.s == 0) return;
  by_dtype("batch_norm_backward", a, a.x, [&](auto t) {
    const unsigned threads = threads_for(a.n * a.s);
    bn_backward_dev<decltype(t)><<<blocks(a.c, "batch_norm_backward"), threads>>>(a);
  });
  check_launch("batch_norm_backward");
}

void row_norm_forward(const RowNormArgs& a) {
  if (a.rows == 0 || a.chans * a.inner == 0) return;
  by_dtype("layer_norm", a, a.x, [&](auto t) {
    row_forward_dev<decltype(t)><<<blocks(a.rows, "layer_norm"), kThreads>>>(a);
  });
  check_launch("layer_norm");
}

void row_norm_backward(const RowNormArgs& a) {
  if (a.rows == 0 || a.chans * a.inner == 0) return;
  by_dtype("layer_norm_backward", a, a.x, [&](auto t) {
    using A = decltype(t);
    if (a.y) row_backward_dev<A><<<blocks(a.rows, "layer_norm_backward"), kThreads>>>(a);
    if (a.grad_weight || a.grad_bias)
      row_affine_grad_dev<A><<<blocks(a.wrows * a.chans, "layer_norm_backward"), kThreads>>>(a);
  });
  check_launch("layer_norm_backward");
}

}  // namespace

EMBER_REGISTER_CUDA(batch_norm_kernel, batch_norm_forward);
EMBER_REGISTER_CUDA(batch_norm_backward_kernel, batch_norm_backward);
EMBER_REGISTER_CUDA(row_norm_kernel, row_norm_forward);
EMBER_REGISTER_CUDA(row_norm_backward_kernel, row_norm_backward);

}  // namespace ember::cuda
