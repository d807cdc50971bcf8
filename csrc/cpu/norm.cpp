// batch_norm and row norms (layer_norm, group_norm): one fused forward and one fused backward
// each, over contiguous float32 / float64 blocks.
//
// Statistics are two-pass (mean, then the mean of squared deviations) with double
// accumulators, so a large mean does not cancel the variance away in float32. batch_norm runs
// one channel per task (its n segments of s values); row norms one row per task. The row-norm
// backward also reduces grad_weight / grad_bias across rows: each of `parts` row partitions
// sums into its own slice of `scratch`, and the slices are added at the end, so the result
// does not depend on thread timing.
#include <algorithm>
#include <cmath>

#include "core/iter.h"
#include "core/parallel.h"
#include "cpu/norm.h"
#include "cpu/softmax_loops.h"

namespace ember::cpu {
namespace {

template <class F>
double dsum(int64_t n, const F& f) {
  return lane_sum<double>(n, f);
}

// ---- batch_norm --------------------------------------------------------------------------

template <class A>
struct Channel {  // channel c's n segments of s values at x + i * c_stride
  const A* x;
  int64_t n, s, stride;
  template <class F>
  double sum(const F& f) const {
    double r = 0;
    for (int64_t i = 0; i < n; ++i) {
      const A* p = x + i * stride;
      r += dsum(s, [&](int64_t k) { return f(p, i * stride + k, k); });
    }
    return r;
  }
};

template <class A>
void bn_forward_channel(const BatchNormArgs& a, int64_t c) {
  const A* x = static_cast<const A*>(a.x) + c * a.s;
  A* y = static_cast<A*>(a.y) + c * a.s;
  const int64_t stride = a.c * a.s, m = a.n * a.s;
  Channel<A> ch{x, a.n, a.s, stride};
  double mean, var;
  if (a.training) {
    mean = ch.sum([](const A* p, int64_t, int64_t k) { return double(p[k]); }) / double(m);
    var = ch.sum([&](const A* p, int64_t, int64_t k) {
      const double d = double(p[k]) - mean;
      return d * d;
    }) / double(m);
    if (a.running_mean) {
      A* rm = static_cast<A*>(a.running_mean) + c;
      *rm = A((1 - a.momentum) * double(*rm) + a.momentum * mean);
    }
    if (a.running_var) {  // PyTorch stores the unbiased variance
      A* rv = static_cast<A*>(a.running_var) + c;
      const double unbiased = m > 1 ? var * double(m) / double(m - 1) : NAN;
      *rv = A((1 - a.momentum) * double(*rv) + a.momentum * unbiased);
    }
  } else {
    mean = double(static_cast<const A*>(a.running_mean)[c]);
    var = double(static_cast<const A*>(a.running_var)[c]);
  }
  const double invstd = 1.0 / std::sqrt(var + a.eps);
  static_cast<A*>(a.mean)[c] = A(mean);
  static_cast<A*>(a.invstd)[c] = A(invstd);
  const double w = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
  const double b = a.bias ? double(static_cast<const A*>(a.bias)[c]) : 0.0;
  const A scale = A(w * invstd), shift = A(b - mean * w * invstd);
  for (int64_t i = 0; i < a.n; ++i) {
    const A* p = x + i * stride;
    A* q = y + i * stride;
    for (int64_t k = 0; k < a.s; ++k) q[k] = p[k] * scale + shift;
  }
}

// With xhat = (x - mean) * invstd: gb = sum(g), gw = sum(g * xhat), and in training
// gx = w * invstd * (g - gb / m - xhat * gw / m); in eval the statistics are constants, so
// gx = w * invstd * g.
template <class A>
void bn_backward_channel(const BatchNormArgs& a, int64_t c) {
  const A* x = static_cast<const A*>(a.x) + c * a.s;
  const A* g = static_cast<const A*>(a.grad) + c * a.s;
  const int64_t stride = a.c * a.s, m = a.n * a.s;
  const double mean = double(static_cast<const A*>(a.mean)[c]);
  const double invstd = double(static_cast<const A*>(a.invstd)[c]);
  const double w = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
  Channel<A> ch{g, a.n, a.s, stride};
  const double sg = ch.sum([](const A* p, int64_t, int64_t k) { return double(p[k]); });
  const double sgx = ch.sum([&](const A* p, int64_t o, int64_t k) {
    return double(p[k]) * (double(x[o]) - mean);
  });
  if (a.grad_bias) static_cast<A*>(a.grad_bias)[c] = A(sg);
  if (a.grad_weight) static_cast<A*>(a.grad_weight)[c] = A(sgx * invstd);
  if (!a.y) return;
  A* gx = static_cast<A*>(a.y) + c * a.s;
  const A k1 = A(w * invstd);
  // training: gx = k1 * g - k2 * (x - mean) - k3
  const A k2 = a.training ? A(w * invstd * invstd * invstd * sgx / double(m)) : A(0);
  const A k3 = a.training ? A(w * invstd * sg / double(m)) : A(0);
  const A mu = A(mean);
  for (int64_t i = 0; i < a.n; ++i) {
    const int64_t o = i * stride;
    for (int64_t k = 0; k < a.s; ++k) gx[o + k] = k1 * g[o + k] - k2 * (x[o + k] - mu) - k3;
  }
}

// (n, c) inputs (s == 1): a channel's values are c apart, so a block of kCols neighbouring
// channels is processed together, every load contiguous and vectorised across the block.
constexpr int64_t kCols = 64;

template <class A>
void bn_forward_cols(const BatchNormArgs& a, int64_t c0, int64_t w) {
  const A* x = static_cast<const A*>(a.x) + c0;
  A* y = static_cast<A*>(a.y) + c0;
  double mean[kCols], var[kCols];
  A scale[kCols], shift[kCols];
  if (a.training) {
    for (int64_t j = 0; j < w; ++j) mean[j] = var[j] = 0;
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < w; ++j) mean[j] += double(x[i * a.c + j]);
    for (int64_t j = 0; j < w; ++j) mean[j] /= double(a.n);
    for (int64_t i = 0; i < a.n; ++i)
      for (int64_t j = 0; j < w; ++j) {
        const double d = double(x[i * a.c + j]) - mean[j];
        var[j] += d * d;
      }
    for (int64_t j = 0; j < w; ++j) {
      var[j] /= double(a.n);
      const int64_t c = c0 + j;
      if (a.running_mean) {
        A* rm = static_cast<A*>(a.running_mean) + c;
        *rm = A((1 - a.momentum) * double(*rm) + a.momentum * mean[j]);
      }
      if (a.running_var) {
        A* rv = static_cast<A*>(a.running_var) + c;
        const double unbiased = a.n > 1 ? var[j] * double(a.n) / double(a.n - 1) : NAN;
        *rv = A((1 - a.momentum) * double(*rv) + a.momentum * unbiased);
      }
    }
  } else {
    for (int64_t j = 0; j < w; ++j) {
      mean[j] = double(static_cast<const A*>(a.running_mean)[c0 + j]);
      var[j] = double(static_cast<const A*>(a.running_var)[c0 + j]);
    }
  }
  for (int64_t j = 0; j < w; ++j) {
    const int64_t c = c0 + j;
    const double invstd = 1.0 / std::sqrt(var[j] + a.eps);
    static_cast<A*>(a.mean)[c] = A(mean[j]);
    static_cast<A*>(a.invstd)[c] = A(invstd);
    const double wt = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
    const double b = a.bias ? double(static_cast<const A*>(a.bias)[c]) : 0.0;
    scale[j] = A(wt * invstd);
    shift[j] = A(b - mean[j] * wt * invstd);
  }
  for (int64_t i = 0; i < a.n; ++i)
    for (int64_t j = 0; j < w; ++j) y[i * a.c + j] = x[i * a.c + j] * scale[j] + shift[j];
}

template <class A>
void bn_backward_cols(const BatchNormArgs& a, int64_t c0, int64_t w) {
  const A* x = static_cast<const A*>(a.x) + c0;
  const A* g = static_cast<const A*>(a.grad) + c0;
  const A* mean = static_cast<const A*>(a.mean) + c0;
  const A* invstd = static_cast<const A*>(a.invstd) + c0;
  double sg[kCols], sgx[kCols];
  for (int64_t j = 0; j < w; ++j) sg[j] = sgx[j] = 0;
  for (int64_t i = 0; i < a.n; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const double gv = double(g[i * a.c + j]);
      sg[j] += gv;
      sgx[j] += gv * (double(x[i * a.c + j]) - double(mean[j]));
    }
  A k1[kCols], k2[kCols], k3[kCols], mu[kCols];
  for (int64_t j = 0; j < w; ++j) {
    const int64_t c = c0 + j;
    const double is = double(invstd[j]);
    const double wt = a.weight ? double(static_cast<const A*>(a.weight)[c]) : 1.0;
    if (a.grad_bias) static_cast<A*>(a.grad_bias)[c] = A(sg[j]);
    if (a.grad_weight) static_cast<A*>(a.grad_weight)[c] = A(sgx[j] * is);
    k1[j] = A(wt * is);
    k2[j] = a.training ? A(wt * is * is * is * sgx[j] / double(a.n)) : A(0);
    k3[j] = a.training ? A(wt * is * sg[j] / double(a.n)) : A(0);
    mu[j] = mean[j];
  }
  if (!a.y) return;
  A* gx = static_cast<A*>(a.y) + c0;
  for (int64_t i = 0; i < a.n; ++i)
    for (int64_t j = 0; j < w; ++j) {
      const int64_t o = i * a.c + j;
      gx[o] = k1[j] * g[o] - k2[j] * (x[o] - mu[j]) - k3[j];
    }
}

// Calls per_channel(c) for every channel, or per_block(c0, width) for (n, c) inputs.
template <class Ch, class Blk>
void bn_for_each(const BatchNormArgs& a, const Ch& per_channel, const Blk& per_block) {
  if (a.s == 1) {
    const int64_t nblk = (a.c + kCols - 1) / kCols;
    parallel_for(0, nblk, row_grain(a.n * kCols), [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) per_block(t * kCols, std::min(kCols, a.c - t * kCols));
    });
    return;
  }
  parallel_for(0, a.c, row_grain(a.n * a.s), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) per_channel(c);
  });
}

template <class A>
void bn_forward_typed(const BatchNormArgs& a) {
  bn_for_each(
      a, [&](int64_t c) { bn_forward_channel<A>(a, c); },
      [&](int64_t c0, int64_t w) { bn_forward_cols<A>(a, c0, w); });
}

template <class A>
void bn_backward_typed(const BatchNormArgs& a) {
  bn_for_each(
      a, [&](int64_t c) { bn_backward_channel<A>(a, c); },
      [&](int64_t c0, int64_t w) { bn_backward_cols<A>(a, c0, w); });
}

void batch_norm_forward(const BatchNormArgs& a) {
  if (a.dtype == DType::Float32) return bn_forward_typed<float>(a);
  if (a.dtype == DType::Float64) return bn_forward_typed<double>(a);
  kernel_dtype_error("batch_norm", a.dtype);
}

void batch_norm_backward(const BatchNormArgs& a) {
  if (a.dtype == DType::Float32) return bn_backward_typed<float>(a);
  if (a.dtype == DType::Float64) return bn_backward_typed<double>(a);
  kernel_dtype_error("batch_norm_backward", a.dtype);
}

// ---- row norms ---------------------------------------------------------------------------

template <class A>
void row_forward(const RowNormArgs& a, int64_t r) {
  const int64_t len = a.chans * a.inner;
  const A* x = static_cast<const A*>(a.x) + r * len;
  A* y = static_cast<A*>(a.y) + r * len;
  const double mean = dsum(len, [&](int64_t i) { return double(x[i]); }) / double(len);
  const double var = dsum(len, [&](int64_t i) {
    const double d = double(x[i]) - mean;
    return d * d;
  }) / double(len);
  const double rstd = 1.0 / std::sqrt(var + a.eps);
  static_cast<A*>(a.mean)[r] = A(mean);
  static_cast<A*>(a.rstd)[r] = A(rstd);
  const int64_t base = (r % a.wrows) * a.chans;
  const A* w = a.weight ? static_cast<const A*>(a.weight) + base : nullptr;
  const A* b = a.bias ? static_cast<const A*>(a.bias) + base : nullptr;
  const A mu = A(mean), rs = A(rstd);
  if (a.inner == 1) {  // layer_norm: the affine entry changes with every element
    for (int64_t j = 0; j < len; ++j) {
      const A v = (x[j] - mu) * rs;
      y[j] = (w ? v * w[j] : v) + (b ? b[j] : A(0));
    }
    return;
  }
  for (int64_t j = 0; j < a.chans; ++j) {
    const A scale = rs * (w ? w[j] : A(1));
    const A shift = (b ? b[j] : A(0)) - mu * scale;
    const A* p = x + j * a.inner;
    A* q = y + j * a.inner;
    for (int64_t k = 0; k < a.inner; ++k) q[k] = p[k] * scale + shift;
  }
}

template <class A>
void row_forward_typed(const RowNormArgs& a) {
  parallel_for(0, a.rows, row_grain(a.chans * a.inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) row_forward<A>(a, r);
  });
}

// One row's backward. With xhat = (x - mean) * rstd and h = g * w (per element):
// gx = rstd * (h - mean(h) - xhat * mean(h * xhat)); the row's share of grad_weight
// (sum g * xhat) and grad_bias (sum g) goes into pw / pb, indexed by affine entry (both
// nullptr when neither gradient is wanted).
template <class A>
void row_backward(const RowNormArgs& a, int64_t r, double* pw, double* pb) {
  const int64_t len = a.chans * a.inner, base = (r % a.wrows) * a.chans;
  const A* x = static_cast<const A*>(a.x) + r * len;
  const A* g = static_cast<const A*>(a.grad) + r * len;
  const A* w = a.weight ? static_cast<const A*>(a.weight) + base : nullptr;
  const A mu = static_cast<const A*>(a.mean)[r], rs = static_cast<const A*>(a.rstd)[r];
  double sh = 0, shx = 0;
  if (a.inner == 1) {  // one value per affine entry (layer_norm): vectorised along the row
    if (pw) {
      for (int64_t j = 0; j < a.chans; ++j) {
        pw[base + j] += double(g[j]) * double((x[j] - mu) * rs);
        pb[base + j] += double(g[j]);
      }
    }
    // Row sums in A with kLanes partial sums: float32 error stays ~sqrt(K / kLanes) ulp.
    if (w) {
      sh = lane_sum<A>(a.chans, [&](int64_t j) { return g[j] * w[j]; });
      shx = lane_sum<A>(a.chans, [&](int64_t j) { return g[j] * w[j] * ((x[j] - mu) * rs); });
    } else {
      sh = lane_sum<A>(a.chans, [&](int64_t j) { return g[j]; });
      shx = lane_sum<A>(a.chans, [&](int64_t j) { return g[j] * ((x[j] - mu) * rs); });
    }
  }
  for (int64_t j = 0; j < a.chans && a.inner != 1; ++j) {
    const A* gj = g + j * a.inner;
    const A* xj = x + j * a.inner;
    const double s_g = dsum(a.inner, [&](int64_t k) { return double(gj[k]); });
    const double s_gx = dsum(a.inner, [&](int64_t k) {
      return double(gj[k]) * double((xj[k] - mu) * rs);
    });
    const double wj = w ? double(w[j]) : 1.0;
    sh += wj * s_g;
    shx += wj * s_gx;
    if (pw) {
      pw[base + j] += s_gx;
      pb[base + j] += s_g;
    }
  }
  if (!a.y) return;
  A* gx = static_cast<A*>(a.y) + r * len;
  const A c1 = A(sh / double(len)), c2 = A(shx / double(len));
  if (a.inner == 1) {
    if (w) {
      for (int64_t j = 0; j < len; ++j) gx[j] = rs * (g[j] * w[j] - c1 - (x[j] - mu) * rs * c2);
    } else {
      for (int64_t j = 0; j < len; ++j) gx[j] = rs * (g[j] - c1 - (x[j] - mu) * rs * c2);
    }
    return;
  }
  for (int64_t j = 0; j < a.chans; ++j) {
    const A wj = w ? w[j] : A(1);
    const int64_t o = j * a.inner;
    for (int64_t k = 0; k < a.inner; ++k) {
      const A xh = (x[o + k] - mu) * rs;
      gx[o + k] = rs * (g[o + k] * wj - c1 - xh * c2);
    }
  }
}

template <class A>
void row_backward_typed(const RowNormArgs& a) {
  const int64_t width = a.wrows * a.chans, parts = a.parts;
  const bool affine_grads = a.grad_weight || a.grad_bias;
  parallel_for(0, parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      double* pw = affine_grads ? a.scratch + p * 2 * width : nullptr;
      double* pb = affine_grads ? pw + width : nullptr;
      for (int64_t i = 0; affine_grads && i < 2 * width; ++i) pw[i] = 0;
      const int64_t r0 = a.rows * p / parts, r1 = a.rows * (p + 1) / parts;
      for (int64_t r = r0; r < r1; ++r) row_backward<A>(a, r, pw, pb);
    }
  });
  A* gw = static_cast<A*>(a.grad_weight);
  A* gb = static_cast<A*>(a.grad_bias);
  for (int64_t i = 0; affine_grads && i < width; ++i) {
    double sw = 0, sb = 0;
    for (int64_t p = 0; p < parts; ++p) {
      sw += a.scratch[p * 2 * width + i];
      sb += a.scratch[p * 2 * width + width + i];
    }
    if (gw) gw[i] = A(sw);
    if (gb) gb[i] = A(sb);
  }
}

void row_norm_forward(const RowNormArgs& a) {
  if (a.dtype == DType::Float32) return row_forward_typed<float>(a);
  if (a.dtype == DType::Float64) return row_forward_typed<double>(a);
  kernel_dtype_error("layer_norm", a.dtype);
}

void row_norm_backward(const RowNormArgs& a) {
  if (a.dtype == DType::Float32) return row_backward_typed<float>(a);
  if (a.dtype == DType::Float64) return row_backward_typed<double>(a);
  kernel_dtype_error("layer_norm_backward", a.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(batch_norm_kernel, batch_norm_forward);
EMBER_REGISTER_CPU(batch_norm_backward_kernel, batch_norm_backward);
EMBER_REGISTER_CPU(row_norm_kernel, row_norm_forward);
EMBER_REGISTER_CPU(row_norm_backward_kernel, row_norm_backward);

}  // namespace ember::cpu
