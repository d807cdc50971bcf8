// Multi-tensor optimizer steps (see optim.h). The whole group is one index space split evenly
// across threads in a single parallel region; each thread walks the tensors its range touches.
// Per tensor, a plain loop over __restrict pointers with every option a template flag, so the
// compiler emits one branch-free vector loop per option combination (AVX2 / AVX-512 in those
// builds) that reads each of p, g and the state once and writes p and the state once.
//
// Options are template flags rather than arithmetic identities (wd * p with wd = 0) so that an
// infinite parameter gives PyTorch's result, not 0 * inf = NaN.
#include "cpu/optim.h"

#include <cmath>
#include <utility>

#include "core/iter.h"
#include "core/parallel.h"

namespace ember::cpu {
namespace {

// Below this many elements one thread does the whole step (a parallel region costs ~us).
constexpr int64_t kOptimGrain = 32768;

// Calls f(std::integral_constant<int, F>) with F == flags, for flags in [0, 2^N).
template <int N, class F, int... I>
void with_flags_impl(int flags, const F& f, std::integer_sequence<int, I...>) {
  ((flags == I ? (f(std::integral_constant<int, I>{}), 0) : 0), ...);
}
template <int N, class F>
void with_flags(int flags, const F& f) {
  with_flags_impl<N>(flags, f, std::make_integer_sequence<int, (1 << N)>{});
}

// The tensor holding element b: the last k with starts[k] <= b (a local binary search, not
// std::upper_bound, whose out-of-line instantiation could be shared with baseline objects).
int64_t first_tensor(const TensorLists& t, int64_t b) {
  int64_t lo = 0, hi = t.n;  // starts[lo] <= b < starts[hi]
  while (hi - lo > 1) {
    int64_t mid = (lo + hi) / 2;
    (t.starts[mid] <= b ? lo : hi) = mid;
  }
  return lo;
}

template <class Body>
struct RangeTask {
  const TensorLists& t;
  const Body& body;
};

// One thread's chunk [b, e) of the group's index space, cut at tensor boundaries.
template <class Body>
void run_chunk(int64_t b, int64_t e, void* ctx) {
  const auto& task = *static_cast<const RangeTask<Body>*>(ctx);
  const TensorLists& t = task.t;
  for (int64_t k = first_tensor(t, b); b < e; ++k) {
    int64_t hi = e < t.starts[k + 1] ? e : t.starts[k + 1];
    if (hi > b) task.body(k, b - t.starts[k], hi - t.starts[k]);
    b = hi;
  }
}

// body(k, lo, hi): elements [lo, hi) of tensor k, for every part of the group. Calls
// parallel_for_impl with a function of this file's anonymous namespace (the parallel_for
// template would put the vector loop in a symbol named ember::parallel_for<...>).
template <class Body>
void for_each_range(const TensorLists& t, const Body& body) {
  RangeTask<Body> task{t, body};
  parallel_for_impl(0, t.starts[t.n], kOptimGrain, &run_chunk<Body>, &task);
}

template <class T>
T* role(const TensorLists& t, int r, int64_t k) {
  return t.data[r] ? static_cast<T*>(t.data[r][k]) : nullptr;
}

// PyTorch's lerp: self + w (end - self) for |w| < 0.5, else end - (end - self)(1 - w), which
// is exact at w = 1. `small` and w1 = 1 - w are hoisted by the caller.
template <class T>
inline T lerp(T self, T end, T w, T w1, bool small) {
  T d = end - self;
  return small ? self + w * d : end - d * w1;
}

template <class T>
T hyper(double v) {
  return static_cast<T>(v);
}

// ---- SGD: flags 1 weight decay, 2 momentum, 4 nesterov, 8 first step --------------------------
template <class T, int F>
void sgd_range(const SgdArgs& a, T* __restrict p, const T* __restrict g, T* __restrict buf,
               int64_t lo, int64_t hi) {
  constexpr bool kWd = F & 1, kMom = F & 2, kNesterov = F & 4, kFirst = F & 8;
  const T sign = a.maximize ? T(-1) : T(1), wd = hyper<T>(a.weight_decay);
  const T mom = hyper<T>(a.momentum), damp1 = hyper<T>(1 - a.dampening), nlr = hyper<T>(-a.lr);
  for (int64_t i = lo; i < hi; ++i) {
    T param = p[i];
    T grad = sign * g[i];
    if constexpr (kWd) grad = grad + wd * param;
    if constexpr (kMom) {
      T b = kFirst ? grad : buf[i] * mom + damp1 * grad;
      buf[i] = b;
      grad = kNesterov ? grad + mom * b : b;
    }
    p[i] = param + nlr * grad;
  }
}

template <class T>
void sgd_typed(const SgdArgs& a) {
  int flags = (a.weight_decay != 0) | (a.momentum != 0) << 1 | a.nesterov << 2 |
              a.first_step << 3;
  if (a.momentum == 0) flags &= 1;  // nesterov and first_step only concern the buffer
  with_flags<4>(flags, [&](auto f) {
    for_each_range(a.t, [&](int64_t k, int64_t lo, int64_t hi) {
      sgd_range<T, decltype(f)::value>(a, role<T>(a.t, 0, k), role<T>(a.t, 1, k),
                                       role<T>(a.t, 2, k), lo, hi);
    });
  });
}

void sgd_step_impl(const SgdArgs& a) {
  if (a.t.dtype == DType::Float64) return sgd_typed<double>(a);
  if (a.t.dtype == DType::Float32) return sgd_typed<float>(a);
  kernel_dtype_error("sgd_step", a.t.dtype);
}

// ---- Adam / AdamW: flags 1 L2 weight decay (Adam), 2 decoupled decay (AdamW), 4 amsgrad ------
template <class T, int F>
void adam_range(const AdamArgs& a, T* __restrict p, const T* __restrict g, T* __restrict m,
                T* __restrict v, T* __restrict vmax, int64_t lo, int64_t hi) {
  constexpr bool kL2 = F & 1, kDecoupled = F & 2, kAmsgrad = F & 4;
  const T sign = a.maximize ? T(-1) : T(1), wd = hyper<T>(a.weight_decay);
  const T decay = hyper<T>(1 - a.lr * a.weight_decay);
  const T w = hyper<T>(1 - a.beta1), w1 = T(1) - w;
  const bool small = std::abs(w) < T(0.5);
  const T b2 = hyper<T>(a.beta2), c2 = hyper<T>(1 - a.beta2), eps = hyper<T>(a.eps);
  const T bc2 = hyper<T>(a.bias_correction2_sqrt), nstep = hyper<T>(-a.step_size);
  for (int64_t i = lo; i < hi; ++i) {
    T param = p[i];
    T grad = sign * g[i];
    if constexpr (kDecoupled) param = param * decay;
    if constexpr (kL2) grad = grad + wd * param;
    T mi = lerp(m[i], grad, w, w1, small);
    T vi = v[i] * b2 + c2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      T x = vmax[i];
      vi = x > vi || x != x ? x : vi;  // torch.maximum: NaN propagates
      vmax[i] = vi;
    }
    T denom = std::sqrt(vi) / bc2 + eps;
    p[i] = param + nstep * (mi / denom);
  }
}

template <class T>
void adam_typed(const AdamArgs& a) {
  bool wd = a.weight_decay != 0;
  int flags = (wd && !a.decoupled_weight_decay) | (wd && a.decoupled_weight_decay) << 1 |
              a.amsgrad << 2;
  with_flags<3>(flags, [&](auto f) {
    for_each_range(a.t, [&](int64_t k, int64_t lo, int64_t hi) {
      adam_range<T, decltype(f)::value>(a, role<T>(a.t, 0, k), role<T>(a.t, 1, k),
                                        role<T>(a.t, 2, k), role<T>(a.t, 3, k),
                                        role<T>(a.t, 4, k), lo, hi);
    });
  });
}

void adam_step_impl(const AdamArgs& a) {
  if (a.t.dtype == DType::Float64) return adam_typed<double>(a);
  if (a.t.dtype == DType::Float32) return adam_typed<float>(a);
  kernel_dtype_error("adam_step", a.t.dtype);
}

// ---- RMSprop: flags 1 weight decay, 2 centered, 4 momentum ----------------------------------
template <class T, int F>
void rmsprop_range(const RmspropArgs& a, T* __restrict p, const T* __restrict g,
                   T* __restrict sq, T* __restrict gavg, T* __restrict buf, int64_t lo,
                   int64_t hi) {
  constexpr bool kWd = F & 1, kCentered = F & 2, kMom = F & 4;
  const T sign = a.maximize ? T(-1) : T(1), wd = hyper<T>(a.weight_decay);
  const T alpha = hyper<T>(a.alpha), c = hyper<T>(1 - a.alpha), eps = hyper<T>(a.eps);
  const T w1 = T(1) - c, mom = hyper<T>(a.momentum), nlr = hyper<T>(-a.lr);
  const bool small = std::abs(c) < T(0.5);
  for (int64_t i = lo; i < hi; ++i) {
    T param = p[i];
    T grad = sign * g[i];
    if constexpr (kWd) grad = grad + wd * param;
    T s = sq[i] * alpha + c * grad * grad;
    sq[i] = s;
    T avg;
    if constexpr (kCentered) {
      T ga = lerp(gavg[i], grad, c, w1, small);
      gavg[i] = ga;
      avg = std::sqrt(s + T(-1) * ga * ga) + eps;
    } else {
      avg = std::sqrt(s) + eps;
    }
    if constexpr (kMom) {
      T b = buf[i] * mom + grad / avg;
      buf[i] = b;
      p[i] = param + nlr * b;
    } else {
      p[i] = param + nlr * (grad / avg);
    }
  }
}

template <class T>
void rmsprop_typed(const RmspropArgs& a) {
  int flags = (a.weight_decay != 0) | a.centered << 1 | (a.momentum > 0) << 2;
  with_flags<3>(flags, [&](auto f) {
    for_each_range(a.t, [&](int64_t k, int64_t lo, int64_t hi) {
      rmsprop_range<T, decltype(f)::value>(a, role<T>(a.t, 0, k), role<T>(a.t, 1, k),
                                           role<T>(a.t, 2, k), role<T>(a.t, 3, k),
                                           role<T>(a.t, 4, k), lo, hi);
    });
  });
}

void rmsprop_step_impl(const RmspropArgs& a) {
  if (a.t.dtype == DType::Float64) return rmsprop_typed<double>(a);
  if (a.t.dtype == DType::Float32) return rmsprop_typed<float>(a);
  kernel_dtype_error("rmsprop_step", a.t.dtype);
}

// ---- Adagrad: flag 1 weight decay ---------------------------------------------------------
template <class T, int F>
void adagrad_range(const AdagradArgs& a, T* __restrict p, const T* __restrict g,
                   T* __restrict sum, int64_t lo, int64_t hi) {
  constexpr bool kWd = F & 1;
  const T sign = a.maximize ? T(-1) : T(1), wd = hyper<T>(a.weight_decay);
  const T eps = hyper<T>(a.eps), nclr = hyper<T>(-a.clr);
  for (int64_t i = lo; i < hi; ++i) {
    T param = p[i];
    T grad = sign * g[i];
    if constexpr (kWd) grad = grad + wd * param;
    T s = sum[i] + grad * grad;
    sum[i] = s;
    p[i] = param + nclr * (grad / (std::sqrt(s) + eps));
  }
}

template <class T>
void adagrad_typed(const AdagradArgs& a) {
  with_flags<1>(a.weight_decay != 0, [&](auto f) {
    for_each_range(a.t, [&](int64_t k, int64_t lo, int64_t hi) {
      adagrad_range<T, decltype(f)::value>(a, role<T>(a.t, 0, k), role<T>(a.t, 1, k),
                                           role<T>(a.t, 2, k), lo, hi);
    });
  });
}

void adagrad_step_impl(const AdagradArgs& a) {
  if (a.t.dtype == DType::Float64) return adagrad_typed<double>(a);
  if (a.t.dtype == DType::Float32) return adagrad_typed<float>(a);
  kernel_dtype_error("adagrad_step", a.t.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(sgd_step_kernel, sgd_step_impl);
EMBER_REGISTER_CPU(adam_step_kernel, adam_step_impl);
EMBER_REGISTER_CPU(rmsprop_step_kernel, rmsprop_step_impl);
EMBER_REGISTER_CPU(adagrad_step_kernel, adagrad_step_impl);

}  // namespace ember::cpu
