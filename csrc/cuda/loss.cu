// The CUDA slots of cross_entropy_kernel / cross_entropy_backward_kernel (cpu/loss.h), with
// the CPU's formulas (cpu/loss.cpp): one block per row; the max, the sum of exp(x - max) and
// the smoothing / probability sums are block reductions, and the backward writes
// softmax(x) minus the (weighted, smoothed) target distribution, scaled by the row's grad.
// grad_out is a device pointer here (the binding passes the per-row grads on the input's
// device).
#include <cmath>

#include "cpu/loss.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

template <class A>
struct Row {
  const A* x;  // this row's logits
  const A* w;  // class weights or nullptr
  const A* q;  // this row's probability targets or nullptr
  int64_t C;
  A eps, u, m, se;  // smoothing, smoothing / C, row max, sum of exp(x - m)
  __device__ A weight(int64_t k) const { return w ? w[k] : A(1); }
  __device__ A qs(int64_t k) const { return (A(1) - eps) * q[k] + u; }
};

// Every thread of the block calls this (block reductions inside).
template <class A>
__device__ Row<A> load_row(const CrossEntropyArgs& a, int64_t r) {
  Row<A> row{};
  row.C = a.classes;
  row.x = static_cast<const A*>(a.x) + r * a.classes;
  row.w = static_cast<const A*>(a.weight);
  row.q = a.prob ? static_cast<const A*>(a.prob) + r * a.classes : nullptr;
  row.eps = A(a.smoothing);
  row.u = A(a.smoothing / double(a.classes));
  A m = A(-INFINITY);
  for (int64_t k = threadIdx.x; k < row.C; k += blockDim.x) m = row.x[k] > m ? row.x[k] : m;
  row.m = block_max(m);
  A s = A(0);
  for (int64_t k = threadIdx.x; k < row.C; k += blockDim.x) s += exp(row.x[k] - row.m);
  row.se = block_sum(s);
  return row;
}

template <class A>
__device__ A weight_sum(const Row<A>& row) {
  if (!row.w) return A(row.C);
  A s = A(0);
  for (int64_t k = threadIdx.x; k < row.C; k += blockDim.x) s += row.w[k];
  return block_sum(s);
}

template <class A>
__global__ void ce_forward_dev(CrossEntropyArgs a) {
  const int64_t r = blockIdx.x;
  A* loss = static_cast<A*>(a.loss);
  const int64_t t = a.target ? a.target[r] : 0;
  if (a.classes == 0 || (a.target && t == a.ignore_index)) {  // uniform over the block
    if (threadIdx.x == 0) loss[r] = A(0);
    return;
  }
  const Row<A> row = load_row<A>(a, r);
  const A ls = log(row.se);
  A l;
  if (row.q) {
    A b = A(0), d = A(0);
    for (int64_t k = threadIdx.x; k < row.C; k += blockDim.x) {
      const A wq = row.weight(k) * row.qs(k);
      b += wq;
      d += wq * (row.x[k] - row.m);
    }
    b = block_sum(b);
    d = block_sum(d);
    l = ls * b - d;
  } else {
    l = -(A(1) - row.eps) * row.weight(t) * ((row.x[t] - row.m) - ls);
    if (row.eps > A(0)) {
      A d = A(0);
      for (int64_t k = threadIdx.x; k < row.C; k += blockDim.x)
        d += row.weight(k) * (row.x[k] - row.m);
      d = block_sum(d);
      l -= row.u * (d - ls * weight_sum(row));
    }
  }
  if (threadIdx.x == 0) loss[r] = l;
}

template <class A>
__global__ void ce_backward_dev(CrossEntropyArgs a) {
  const int64_t r = blockIdx.x, C = a.classes;
  A* g = static_cast<A*>(a.grad_in) + r * C;
  const int64_t t = a.target ? a.target[r] : 0;
  if (a.target && t == a.ignore_index) {
    for (int64_t k = threadIdx.x; k < C; k += blockDim.x) g[k] = A(0);
    return;
  }
  const A gs = A(a.grad_scale * (a.grad_out ? a.grad_out[r] : 1.0));
  const Row<A> row = load_row<A>(a, r);
  const A inv = A(1) / row.se;
  if (row.q) {
    A b = A(0);
    for (int64_t k = threadIdx.x; k < C; k += blockDim.x) b += row.weight(k) * row.qs(k);
    const A pb = gs * inv * block_sum(b);
    for (int64_t k = threadIdx.x; k < C; k += blockDim.x)
      g[k] = exp(row.x[k] - row.m) * pb - gs * row.weight(k) * row.qs(k);
    return;
  }
  const A wt = row.weight(t);
  const A pc = gs * inv * ((A(1) - row.eps) * wt + row.u * weight_sum(row));
  const A gu = gs * row.u;
  for (int64_t k = threadIdx.x; k < C; k += blockDim.x) {
    const A v = exp(row.x[k] - row.m) * pc - gu * row.weight(k);
    g[k] = k == t ? v - gs * (A(1) - row.eps) * wt : v;
  }
}

template <bool kBackward>
void run(const CrossEntropyArgs& a, const char* op) {
  if (a.rows == 0) return;
  if (a.rows > 0x7fffffff) fail<ValueError>(op, a.rows, " rows are too many for one launch");
  use_device_of(a.x);
  const unsigned grid = static_cast<unsigned>(a.rows);
  if (a.dtype == DType::Float32) {
    if constexpr (kBackward) ce_backward_dev<float><<<grid, kThreads>>>(a);
    else ce_forward_dev<float><<<grid, kThreads>>>(a);
  } else if (a.dtype == DType::Float64) {
    if constexpr (kBackward) ce_backward_dev<double><<<grid, kThreads>>>(a);
    else ce_forward_dev<double><<<grid, kThreads>>>(a);
  } else {
    fail<TypeError>(op, "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
  }
  check_launch(op);
}

void ce_forward(const CrossEntropyArgs& a) { run<false>(a, "cross_entropy"); }
void ce_backward(const CrossEntropyArgs& a) { run<true>(a, "cross_entropy_backward"); }

}  // namespace

EMBER_REGISTER_CUDA(cross_entropy_kernel, ce_forward);
EMBER_REGISTER_CUDA(cross_entropy_backward_kernel, ce_backward);

}  // namespace ember::cuda
