// Fused cross-entropy over contiguous rows of logits, forward and backward; no log-softmax
// tensor is ever materialised. Per row: pass 1 finds the max m, pass 2 sums exp(x - m) (and
// whatever the smoothing or probability terms need, over the same cached row), so that with
// ls = log(sum exp(x - m)) every log-probability is (x - m) - ls. The backward recomputes m and
// ls and writes softmax(x) minus the (weighted, smoothed) target distribution in one more pass:
//   index t:  grad_k = p_k ((1 - eps) w_t + eps/C sum(w)) - eps/C w_k - [k == t] (1 - eps) w_t
//   probs q:  grad_k = p_k * sum_c(w_c q'_c) - w_k q'_k,   q' = (1 - eps) q + eps/C
// scaled by the row's grad. Ignored rows have loss and grad 0.
#include "cpu/loss.h"

#include "core/parallel.h"
#include "cpu/loops.h"
#include "cpu/softmax_loops.h"

namespace ember::cpu {
namespace {

template <class A>
struct Ce {
  const A* x;
  const A* w;  // nullptr: all ones
  const A* q;  // probability targets, or nullptr
  int64_t C;
  A eps, u;    // smoothing and smoothing / C
  A wsum;      // sum of the weights (C without weights)

  explicit Ce(const CrossEntropyArgs& a)
      : x(static_cast<const A*>(a.x)), w(static_cast<const A*>(a.weight)),
        q(static_cast<const A*>(a.prob)), C(a.classes), eps(A(a.smoothing)),
        u(C > 0 ? A(a.smoothing / double(C)) : A(0)), wsum(A(C)) {
    if (w) wsum = lane_sum<A>(C, [&](int64_t i) { return w[i]; });
  }
  A weight(int64_t k) const { return w ? w[k] : A(1); }
  // The smoothed target probability of class k in row r (probability targets).
  A qs(const A* qr, int64_t k) const { return (A(1) - eps) * qr[k] + u; }

  // The loss of row r.
  A loss(int64_t r, int64_t t) const {
    if (C == 0) return A(0);  // an empty sum (every index target is then ignored)
    const A* xr = x + r * C;
    const A m = row_max(xr, C);
    const A ls = std::log(row_exp_sum(xr, C, m));
    if (q) {
      const A* qr = q + r * C;
      const A b = lane_sum<A>(C, [&](int64_t i) { return weight(i) * qs(qr, i); });
      const A d = lane_sum<A>(C, [&](int64_t i) { return weight(i) * qs(qr, i) * (xr[i] - m); });
      return ls * b - d;
    }
    A l = -(A(1) - eps) * weight(t) * ((xr[t] - m) - ls);
    if (eps > A(0)) {
      const A d = lane_sum<A>(C, [&](int64_t i) { return weight(i) * (xr[i] - m); });
      l -= u * (d - ls * wsum);
    }
    return l;
  }

  // Writes gs * d(loss of row r)/dx into g. Locals and __restrict let the compiler keep
  // everything in registers: g could otherwise alias this struct's fields.
  void grad(int64_t r, int64_t t, A gs, A* __restrict g) const {
    const int64_t n = C;
    const A* __restrict xr = x + r * C;
    const A* __restrict wv = w;
    const A m = row_max(xr, n);
    const A inv = A(1) / row_exp_sum(xr, n, m);
    if (q) {
      const A* __restrict qr = q + r * C;
      const A om = A(1) - eps, uu = u;
      const A b = lane_sum<A>(n, [&](int64_t i) { return weight(i) * qs(qr, i); });
      const A pb = gs * inv * b;
      if (wv) {
        for (int64_t i = 0; i < n; ++i)
          g[i] = vexp(xr[i] - m) * pb - gs * wv[i] * (om * qr[i] + uu);
      } else {
        for (int64_t i = 0; i < n; ++i) g[i] = vexp(xr[i] - m) * pb - gs * (om * qr[i] + uu);
      }
      return;
    }
    const A wt = weight(t);
    const A pc = gs * inv * ((A(1) - eps) * wt + u * wsum);
    const A gu = gs * u;
    if (wv) {
      for (int64_t i = 0; i < n; ++i) g[i] = vexp(xr[i] - m) * pc - gu * wv[i];
    } else {
      for (int64_t i = 0; i < n; ++i) g[i] = vexp(xr[i] - m) * pc - gu;
    }
    g[t] -= gs * (A(1) - eps) * wt;
  }
};

template <class A>
void forward_typed(const CrossEntropyArgs& a) {
  const Ce<A> ce(a);
  A* loss = static_cast<A*>(a.loss);
  parallel_for(0, a.rows, row_grain(a.classes), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t t = a.target ? a.target[r] : 0;
      loss[r] = (a.target && t == a.ignore_index) ? A(0) : ce.loss(r, t);
    }
  });
}

template <class A>
void backward_typed(const CrossEntropyArgs& a) {
  const Ce<A> ce(a);
  const int64_t C = a.classes;
  parallel_for(0, a.rows, row_grain(C), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      A* g = static_cast<A*>(a.grad_in) + r * C;
      const int64_t t = a.target ? a.target[r] : 0;
      if (a.target && t == a.ignore_index) {
        for (int64_t i = 0; i < C; ++i) g[i] = A(0);
        continue;
      }
      const double gs = a.grad_scale * (a.grad_out ? a.grad_out[r] : 1.0);
      ce.grad(r, t, A(gs), g);
    }
  });
}

void cross_entropy_forward(const CrossEntropyArgs& a) {
  if (a.dtype == DType::Float32) return forward_typed<float>(a);
  if (a.dtype == DType::Float64) return forward_typed<double>(a);
  kernel_dtype_error("cross_entropy", a.dtype);
}

void cross_entropy_backward(const CrossEntropyArgs& a) {
  if (a.dtype == DType::Float32) return backward_typed<float>(a);
  if (a.dtype == DType::Float64) return backward_typed<double>(a);
  kernel_dtype_error("cross_entropy_backward", a.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(cross_entropy_kernel, cross_entropy_forward);
EMBER_REGISTER_CPU(cross_entropy_backward_kernel, cross_entropy_backward);

}  // namespace ember::cpu
