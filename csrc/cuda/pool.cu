// The CUDA slots of pool2d_kernel / pool2d_backward_kernel (cpu/pool.h), with the CPU's window
// and source-index formulas (cpu/pool.cpp) evaluated per output element.
// Forward: one thread per output element. Average-pooling backward: one thread per input
// element gathers the windows that hold it (deterministic). Max / nearest / bilinear backward:
// gx is zeroed, then one thread per output element adds its gradient into the input positions
// it read (atomicAdd), so the summation order, and the last bits of float results, may vary
// between runs.
#include <cmath>

#include "cpu/pool.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

template <class T>
__device__ __forceinline__ T lo(T a, T b) { return b < a ? b : a; }
template <class T>
__device__ __forceinline__ T hi(T a, T b) { return a < b ? b : a; }

struct Span {
  int64_t b, e, step;
};

// Max / Avg windows of output o along an axis, or the adaptive window (cpu/pool.cpp).
__device__ __forceinline__ Span max_span(const PoolArgs& a, bool rows, int64_t o) {
  const int64_t in = rows ? a.ih : a.iw, out = rows ? a.oh : a.ow;
  if (a.mode == PoolMode::AdaptiveMax) return {o * in / out, ((o + 1) * in + out - 1) / out, 1};
  const int64_t k = rows ? a.kh : a.kw, s = rows ? a.sh : a.sw, p = rows ? a.ph : a.pw;
  const int64_t d = rows ? a.dh : a.dw;
  int64_t b = o * s - p;
  const int64_t e = lo(b + (k - 1) * d + 1, in);
  while (b < 0) b += d;
  return {b, e, d};
}

struct AvgWin {
  int64_t r0, r1, c0, c1;
  double inv;
};

__device__ AvgWin avg_window(const PoolArgs& a, int64_t i, int64_t j) {
  if (a.mode == PoolMode::AdaptiveAvg) {
    const int64_t r0 = i * a.ih / a.oh, r1 = ((i + 1) * a.ih + a.oh - 1) / a.oh;
    const int64_t c0 = j * a.iw / a.ow, c1 = ((j + 1) * a.iw + a.ow - 1) / a.ow;
    return {r0, r1, c0, c1, 1.0 / double((r1 - r0) * (c1 - c0))};
  }
  int64_t r0 = i * a.sh - a.ph, c0 = j * a.sw - a.pw;
  int64_t r1 = lo(r0 + a.kh, a.ih + a.ph), c1 = lo(c0 + a.kw, a.iw + a.pw);
  const int64_t padded = (r1 - r0) * (c1 - c0);
  r0 = hi(r0, int64_t{0});
  c0 = hi(c0, int64_t{0});
  r1 = lo(r1, a.ih);
  c1 = lo(c1, a.iw);
  if (r0 >= r1 || c0 >= c1) return {0, 0, 0, 0, 0.0};
  const int64_t div = a.divisor ? a.divisor : a.count_include_pad ? padded : (r1 - r0) * (c1 - c0);
  return {r0, r1, c0, c1, 1.0 / double(div)};
}

__device__ __forceinline__ int64_t nearest_src(int64_t o, int64_t out, int64_t in, double scale) {
  if (out == in) return o;
  if (out == 2 * in) return o >> 1;
  const float f = scale > 0 ? float(1.0 / scale) : float(in) / float(out);
  return lo(static_cast<int64_t>(floorf(static_cast<float>(o) * f)), in - 1);
}

template <class A>
struct Lerp {
  int64_t i0, i1;
  A w0, w1;
};

template <class A>
__device__ Lerp<A> lerp(int64_t o, int64_t out, int64_t in, bool align, double scale) {
  const A s = align ? (out > 1 ? A(in - 1) / A(out - 1) : A(0))
                    : (scale > 0 ? A(1.0 / scale) : A(in) / A(out));
  A src = align ? s * A(o) : s * (A(o) + A(0.5)) - A(0.5);
  if (src < A(0)) src = A(0);
  const int64_t i0 = lo(static_cast<int64_t>(src), in - 1);
  const A l1 = lo(hi(src - A(i0), A(0)), A(1));
  return {i0, i0 + (i0 < in - 1 ? 1 : 0), A(1) - l1, l1};
}

template <class A>
__global__ void pool_forward_dev(PoolArgs a, int64_t total) {
  const A* x = static_cast<const A*>(a.x);
  A* y = static_cast<A*>(a.y);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for (int64_t t = global_thread(); t < total; t += global_stride()) {
    const int64_t p = t / out, o = t - p * out, i = o / a.ow, j = o - i * a.ow;
    const A* xp = x + p * in;
    switch (a.mode) {
      case PoolMode::Max:
      case PoolMode::AdaptiveMax: {
        const Span r = max_span(a, true, i), c = max_span(a, false, j);
        A m = -INFINITY;
        int64_t mi = r.b * a.iw + c.b;
        for (int64_t yy = r.b; yy < r.e; yy += r.step) {
          for (int64_t xx = c.b; xx < c.e; xx += c.step) {
            const A v = xp[yy * a.iw + xx];
            if (v > m || isnan(v)) {
              m = v;
              mi = yy * a.iw + xx;
            }
          }
        }
        y[t] = m;
        a.ind[t] = mi;
        break;
      }
      case PoolMode::Avg:
      case PoolMode::AdaptiveAvg: {
        const AvgWin w = avg_window(a, i, j);
        A s = A(0);
        for (int64_t yy = w.r0; yy < w.r1; ++yy)
          for (int64_t xx = w.c0; xx < w.c1; ++xx) s += xp[yy * a.iw + xx];
        y[t] = s * A(w.inv);
        break;
      }
      case PoolMode::Nearest:
        y[t] = xp[nearest_src(i, a.oh, a.ih, a.scale_h) * a.iw +
                  nearest_src(j, a.ow, a.iw, a.scale_w)];
        break;
      case PoolMode::Bilinear: {
        const Lerp<A> r = lerp<A>(i, a.oh, a.ih, a.align_corners, a.scale_h);
        const Lerp<A> c = lerp<A>(j, a.ow, a.iw, a.align_corners, a.scale_w);
        const A* x0 = xp + r.i0 * a.iw;
        const A* x1 = xp + r.i1 * a.iw;
        y[t] = r.w0 * (c.w0 * x0[c.i0] + c.w1 * x0[c.i1]) +
               r.w1 * (c.w0 * x1[c.i0] + c.w1 * x1[c.i1]);
        break;
      }
    }
  }
}

// Output positions along an axis whose average window may hold input position x: a superset
// [lo, hi] (callers check membership with the window itself).
__device__ __forceinline__ Span avg_outputs(const PoolArgs& a, bool rows, int64_t x) {
  const int64_t in = rows ? a.ih : a.iw, out = rows ? a.oh : a.ow;
  if (a.mode == PoolMode::AdaptiveAvg)
    return {hi(x * out / in - 1, int64_t{0}), lo(((x + 1) * out + in - 1) / in, out - 1), 1};
  const int64_t k = rows ? a.kh : a.kw, s = rows ? a.sh : a.sw, p = rows ? a.ph : a.pw;
  const int64_t first = x + p - k + 1;  // window i covers [i * s - p, i * s - p + k)
  return {first <= 0 ? 0 : (first + s - 1) / s, lo((x + p) / s, out - 1), 1};
}

// Average pooling backward as a gather: one thread per input element sums the shares of the
// windows holding it, in the CPU's (output row, output column) order; no atomics.
template <class A>
__global__ void avg_backward_dev(PoolArgs a, int64_t total) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for (int64_t t = global_thread(); t < total; t += global_stride()) {
    const int64_t p = t / in, q = t - p * in, r = q / a.iw, c = q - r * a.iw;
    const Span rs = avg_outputs(a, true, r), cs = avg_outputs(a, false, c);
    A acc = A(0);
    for (int64_t i = rs.b; i <= rs.e; ++i) {
      for (int64_t j = cs.b; j <= cs.e; ++j) {
        const AvgWin w = avg_window(a, i, j);
        if (r >= w.r0 && r < w.r1 && c >= w.c0 && c < w.c1)
          acc += gy[p * out + i * a.ow + j] * A(w.inv);
      }
    }
    gx[t] = acc;
  }
}

template <class A>
__global__ void pool_backward_dev(PoolArgs a, int64_t total) {
  const A* gy = static_cast<const A*>(a.gy);
  A* gx = static_cast<A*>(a.gx);
  const int64_t in = a.ih * a.iw, out = a.oh * a.ow;
  for (int64_t t = global_thread(); t < total; t += global_stride()) {
    const int64_t p = t / out, o = t - p * out, i = o / a.ow, j = o - i * a.ow;
    A* g = gx + p * in;
    const A v = gy[t];
    switch (a.mode) {
      case PoolMode::Max:
      case PoolMode::AdaptiveMax: {
        // The binding checks indices on the host for CPU tensors only; here a bad index is
        // skipped rather than written outside the plane.
        const int64_t at = a.ind_in[t];
        if (at >= 0 && at < in) atomicAdd(g + at, v);
        break;
      }
      case PoolMode::Avg:
      case PoolMode::AdaptiveAvg:
        break;  // avg_backward_dev
      case PoolMode::Nearest:
        atomicAdd(g + nearest_src(i, a.oh, a.ih, a.scale_h) * a.iw +
                      nearest_src(j, a.ow, a.iw, a.scale_w), v);
        break;
      case PoolMode::Bilinear: {
        const Lerp<A> r = lerp<A>(i, a.oh, a.ih, a.align_corners, a.scale_h);
        const Lerp<A> c = lerp<A>(j, a.ow, a.iw, a.align_corners, a.scale_w);
        const A v0 = r.w0 * v, v1 = r.w1 * v;
        atomicAdd(g + r.i0 * a.iw + c.i0, c.w0 * v0);
        atomicAdd(g + r.i0 * a.iw + c.i1, c.w1 * v0);
        atomicAdd(g + r.i1 * a.iw + c.i0, c.w0 * v1);
        atomicAdd(g + r.i1 * a.iw + c.i1, c.w1 * v1);
        break;
      }
    }
  }
}

template <class A>
void forward_typed(const PoolArgs& a) {
  const int64_t total = a.planes * a.oh * a.ow;
  if (total <= 0) return;
  use_device_of(a.x);
  pool_forward_dev<A><<<static_cast<unsigned>(grid_size(total, kThreads)), kThreads>>>(a, total);
  check_launch("pool2d");
}

template <class A>
void backward_typed(const PoolArgs& a) {
  use_device_of(a.gx);
  if (a.mode == PoolMode::Avg || a.mode == PoolMode::AdaptiveAvg) {
    const int64_t total = a.planes * a.ih * a.iw;
    if (total <= 0) return;
    avg_backward_dev<A><<<static_cast<unsigned>(grid_size(total, kThreads)), kThreads>>>(a,
                                                                                       total);
    check_launch("avg_pool2d_backward");
    return;
  }
  const size_t bytes = static_cast<size_t>(a.planes * a.ih * a.iw) * sizeof(A);
  if (bytes > 0) check(cudaMemsetAsync(a.gx, 0, bytes, 0), "cudaMemsetAsync");
  const int64_t total = a.planes * a.oh * a.ow;
  if (total <= 0 || bytes == 0) return;
  pool_backward_dev<A><<<static_cast<unsigned>(grid_size(total, kThreads)), kThreads>>>(a, total);
  check_launch("pool2d_backward");
}

void pool_forward(const PoolArgs& a) {
  if (a.dtype == DType::Float32) return forward_typed<float>(a);
  if (a.dtype == DType::Float64) return forward_typed<double>(a);
  fail<TypeError>("pool2d", "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
}

void pool_backward(const PoolArgs& a) {
  if (a.dtype == DType::Float32) return backward_typed<float>(a);
  if (a.dtype == DType::Float64) return backward_typed<double>(a);
  fail<TypeError>("pool2d_backward", "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
}

}  // namespace

EMBER_REGISTER_CUDA(pool2d_kernel, pool_forward);
EMBER_REGISTER_CUDA(pool2d_backward_kernel, pool_backward);

}  // namespace ember::cuda
