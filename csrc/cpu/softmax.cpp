// softmax / log_softmax forward and backward over a contiguous (outer, dim, inner) block.
//
// inner == 1 (the reduced dim is the last): one row per task, vectorised along the row; three
// passes per row: max, exp and sum, scale. inner > 1 (e.g. (N, C, H, W) along C): a block of
// kCols neighbouring columns is reduced together, vectorised across the columns, so every
// load is contiguous. Shifting by the max keeps every exp argument <= 0 (no overflow); a row of
// all -inf, or one holding +inf or NaN, yields NaN as in PyTorch. Backward recomputes nothing
// but the one row reduction it needs: sum(g * y) (softmax) or sum(g) (log_softmax).
#include "cpu/softmax.h"

#include "core/parallel.h"
#include "cpu/loops.h"
#include "cpu/softmax_loops.h"

namespace ember::cpu {
namespace {

constexpr int64_t kCols = 64;

template <class A>
void forward_row(const A* x, A* y, int64_t n, bool log) {
  const A m = row_max(x, n);
  if (log) {
    const A ls = std::log(row_exp_sum(x, n, m));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - ls;
    return;
  }
  const A s = lane_sum<A>(n, [&](int64_t i) { return y[i] = vexp(x[i] - m); });
  const A inv = A(1) / s;
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

template <class A>
void backward_row(const A* g, const A* y, A* gx, int64_t n, bool log) {
  if (log) {
    const A sg = lane_sum<A>(n, [&](int64_t i) { return g[i]; });
    for (int64_t i = 0; i < n; ++i) gx[i] = g[i] - vexp(y[i]) * sg;
    return;
  }
  const A dot = lane_sum<A>(n, [&](int64_t i) { return g[i] * y[i]; });
  for (int64_t i = 0; i < n; ++i) gx[i] = y[i] * (g[i] - dot);
}

// Columns [0, w) of a (dim, inner) slab at x; rows `inner` apart.
template <class A>
void forward_cols(const A* x, A* y, int64_t n, int64_t inner, int64_t w, bool log) {
  A m[kCols], s[kCols];
  for (int64_t j = 0; j < w; ++j) {
    m[j] = -std::numeric_limits<A>::infinity();
    s[j] = A(0);
  }
  for (int64_t c = 0; c < n; ++c) {
    const A* xr = x + c * inner;
    for (int64_t j = 0; j < w; ++j) m[j] = xr[j] > m[j] ? xr[j] : m[j];
  }
  for (int64_t c = 0; c < n; ++c) {
    const A* xr = x + c * inner;
    A* yr = y + c * inner;
    for (int64_t j = 0; j < w; ++j) {
      const A e = vexp(xr[j] - m[j]);
      s[j] += e;
      if (!log) yr[j] = e;
    }
  }
  for (int64_t j = 0; j < w; ++j) s[j] = log ? std::log(s[j]) : A(1) / s[j];
  for (int64_t c = 0; c < n; ++c) {
    const A* xr = x + c * inner;
    A* yr = y + c * inner;
    if (log) {
      for (int64_t j = 0; j < w; ++j) yr[j] = (xr[j] - m[j]) - s[j];
    } else {
      for (int64_t j = 0; j < w; ++j) yr[j] *= s[j];
    }
  }
}

template <class A>
void backward_cols(const A* g, const A* y, A* gx, int64_t n, int64_t inner, int64_t w,
                   bool log) {
  A s[kCols];
  for (int64_t j = 0; j < w; ++j) s[j] = A(0);
  for (int64_t c = 0; c < n; ++c) {
    const A* gr = g + c * inner;
    const A* yr = y + c * inner;
    if (log) {
      for (int64_t j = 0; j < w; ++j) s[j] += gr[j];
    } else {
      for (int64_t j = 0; j < w; ++j) s[j] += gr[j] * yr[j];
    }
  }
  for (int64_t c = 0; c < n; ++c) {
    const A* gr = g + c * inner;
    const A* yr = y + c * inner;
    A* out = gx + c * inner;
    if (log) {
      for (int64_t j = 0; j < w; ++j) out[j] = gr[j] - vexp(yr[j]) * s[j];
    } else {
      for (int64_t j = 0; j < w; ++j) out[j] = yr[j] * (gr[j] - s[j]);
    }
  }
}

// Runs row(offset) for every row (inner == 1) or col(offset, width) for every column block,
// offsets in elements from the start of the block, split across threads.
template <class Row, class Col>
void for_each_slab(const SoftmaxArgs& a, const Row& row, const Col& col) {
  const int64_t n = a.dim, inner = a.inner;
  if (inner == 1) {
    parallel_for(0, a.outer, row_grain(n), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) row(r * n);
    });
    return;
  }
  const int64_t nblk = (inner + kCols - 1) / kCols;
  parallel_for(0, a.outer * nblk, row_grain(n * kCols), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t j0 = (t % nblk) * kCols;
      col((t / nblk) * n * inner + j0, std::min(kCols, inner - j0));
    }
  });
}

template <class A>
void forward_typed(const SoftmaxArgs& a) {
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  for_each_slab(
      a, [&](int64_t o) { forward_row(x + o, y + o, a.dim, a.log); },
      [&](int64_t o, int64_t w) { forward_cols(x + o, y + o, a.dim, a.inner, w, a.log); });
}

template <class A>
void backward_typed(const SoftmaxArgs& a) {
  const A* y = static_cast<const A*>(a.x);
  const A* g = static_cast<const A*>(a.grad);
  A* gx = static_cast<A*>(a.y);
  for_each_slab(
      a, [&](int64_t o) { backward_row(g + o, y + o, gx + o, a.dim, a.log); },
      [&](int64_t o, int64_t w) {
        backward_cols(g + o, y + o, gx + o, a.dim, a.inner, w, a.log);
      });
}

void softmax_forward(const SoftmaxArgs& a) {
  if (a.dtype == DType::Float32) return forward_typed<float>(a);
  if (a.dtype == DType::Float64) return forward_typed<double>(a);
  kernel_dtype_error("softmax", a.dtype);
}

void softmax_backward(const SoftmaxArgs& a) {
  if (a.dtype == DType::Float32) return backward_typed<float>(a);
  if (a.dtype == DType::Float64) return backward_typed<double>(a);
  kernel_dtype_error("softmax_backward", a.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(softmax_kernel, softmax_forward);
EMBER_REGISTER_CPU(softmax_backward_kernel, softmax_backward);

}  // namespace ember::cpu
