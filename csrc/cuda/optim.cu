// The CUDA slots of the fused optimizer steps (cpu/optim.h), with the CPU's per-element
// formulas (PyTorch's single-tensor ones, hyperparameters rounded to the tensor dtype). The
// lists' starts and pointers are host arrays, so the host launches one elementwise kernel per
// tensor (an optimizer step is a few launches per parameter, like PyTorch's foreach=False).
// Options are uniform runtime branches: every thread of a launch takes the same path.
#include <cmath>

#include "cpu/optim.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

template <class T>
struct Roles {
  using Value = T;
  T* r[kOptimMaxRoles];
};

// PyTorch's lerp: self + w (end - self) for |w| < 0.5, else end - (end - self)(1 - w).
template <class T>
__device__ __forceinline__ T lerp(T self, T end, T w, T w1, bool small) {
  const T d = end - self;
  return small ? self + w * d : end - d * w1;
}

template <class T>
__global__ void sgd_dev(SgdArgs a, Roles<T> t, int64_t n) {
  T* p = t.r[0];
  const T* g = t.r[1];
  T* buf = t.r[2];
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay), mom = T(a.momentum);
  const T damp1 = T(1 - a.dampening), nlr = T(-a.lr);
  for (int64_t i = global_thread(); i < n; i += global_stride()) {
    const T param = p[i];
    T grad = sign * g[i];
    if (a.weight_decay != 0) grad = grad + wd * param;
    if (a.momentum != 0) {
      const T b = a.first_step ? grad : buf[i] * mom + damp1 * grad;
      buf[i] = b;
      grad = a.nesterov ? grad + mom * b : b;
    }
    p[i] = param + nlr * grad;
  }
}

template <class T>
__global__ void adam_dev(AdamArgs a, Roles<T> t, int64_t n) {
  T *p = t.r[0], *m = t.r[2], *v = t.r[3], *vmax = t.r[4];
  const T* g = t.r[1];
  const bool l2 = a.weight_decay != 0 && !a.decoupled_weight_decay;
  const bool decoupled = a.weight_decay != 0 && a.decoupled_weight_decay;
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
  const T decay = T(1 - a.lr * a.weight_decay);
  const T w = T(1 - a.beta1), w1 = T(1) - w;
  const bool small = fabs(double(w)) < 0.5;
  const T b2 = T(a.beta2), c2 = T(1 - a.beta2), eps = T(a.eps);
  const T bc2 = T(a.bias_correction2_sqrt), nstep = T(-a.step_size);
  for (int64_t i = global_thread(); i < n; i += global_stride()) {
    T param = p[i];
    T grad = sign * g[i];
    if (decoupled) param = param * decay;
    if (l2) grad = grad + wd * param;
    const T mi = lerp(m[i], grad, w, w1, small);
    T vi = v[i] * b2 + c2 * grad * grad;
    m[i] = mi;
    v[i] = vi;
    if (a.amsgrad) {
      const T x = vmax[i];
      vi = x > vi || x != x ? x : vi;  // torch.maximum: NaN propagates
      vmax[i] = vi;
    }
    const T denom = sqrt(vi) / bc2 + eps;
    p[i] = param + nstep * (mi / denom);
  }
}

template <class T>
__global__ void rmsprop_dev(RmspropArgs a, Roles<T> t, int64_t n) {
  T *p = t.r[0], *sq = t.r[2], *gavg = t.r[3], *buf = t.r[4];
  const T* g = t.r[1];
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
  const T alpha = T(a.alpha), c = T(1 - a.alpha), eps = T(a.eps);
  const T w1 = T(1) - c, mom = T(a.momentum), nlr = T(-a.lr);
  const bool small = fabs(double(c)) < 0.5;
  for (int64_t i = global_thread(); i < n; i += global_stride()) {
    const T param = p[i];
    T grad = sign * g[i];
    if (a.weight_decay != 0) grad = grad + wd * param;
    const T s = sq[i] * alpha + c * grad * grad;
    sq[i] = s;
    T avg;
    if (a.centered) {
      const T ga = lerp(gavg[i], grad, c, w1, small);
      gavg[i] = ga;
      avg = sqrt(s + T(-1) * ga * ga) + eps;
    } else {
      avg = sqrt(s) + eps;
    }
    if (a.momentum > 0) {
      const T b = buf[i] * mom + grad / avg;
      buf[i] = b;
      p[i] = param + nlr * b;
    } else {
      p[i] = param + nlr * (grad / avg);
    }
  }
}

template <class T>
__global__ void adagrad_dev(AdagradArgs a, Roles<T> t, int64_t n) {
  T *p = t.r[0], *sum = t.r[2];
  const T* g = t.r[1];
  const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
  const T eps = T(a.eps), nclr = T(-a.clr);
  for (int64_t i = global_thread(); i < n; i += global_stride()) {
    const T param = p[i];
    T grad = sign * g[i];
    if (a.weight_decay != 0) grad = grad + wd * param;
    const T s = sum[i] + grad * grad;
    sum[i] = s;
    p[i] = param + nclr * (grad / (sqrt(s) + eps));
  }
}

// One launch of kernel<T> per tensor of the lists, with that tensor's role pointers.
template <class Args, class Launch>
void for_each_tensor(const Args& a, const char* op, const Launch& launch) {
  const TensorLists& l = a.t;
  if (l.dtype != DType::Float32 && l.dtype != DType::Float64)
    fail<TypeError>(op, "unsupported dtype ", dtype_name(l.dtype), " on CUDA");
  for (int64_t k = 0; k < l.n; ++k) {
    const int64_t n = l.starts[k + 1] - l.starts[k];
    if (n == 0) continue;
    void* r[kOptimMaxRoles];
    for (int q = 0; q < kOptimMaxRoles; ++q) r[q] = l.data[q] ? l.data[q][k] : nullptr;
    use_device_of(r[0]);
    const unsigned grid = static_cast<unsigned>(grid_size(n, kThreads));
    if (l.dtype == DType::Float32) {
      Roles<float> t{};
      for (int q = 0; q < kOptimMaxRoles; ++q) t.r[q] = static_cast<float*>(r[q]);
      launch(grid, t, n);
    } else {
      Roles<double> t{};
      for (int q = 0; q < kOptimMaxRoles; ++q) t.r[q] = static_cast<double*>(r[q]);
      launch(grid, t, n);
    }
    check_launch(op);
  }
}

// A generic lambda per optimizer: T comes from the Roles it is called with.
#define EMBER_OPTIM_STEP(name, Args, kernel)                                           \
  void name(const Args& a) {                                                           \
    for_each_tensor(a, #name, [&](unsigned grid, auto t, int64_t n) {                  \
      using T = typename decltype(t)::Value;                                           \
      kernel<T><<<grid, kThreads>>>(a, t, n);                                          \
    });                                                                                \
  }

EMBER_OPTIM_STEP(sgd_step, SgdArgs, sgd_dev)
EMBER_OPTIM_STEP(adam_step, AdamArgs, adam_dev)
EMBER_OPTIM_STEP(rmsprop_step, RmspropArgs, rmsprop_dev)
EMBER_OPTIM_STEP(adagrad_step, AdagradArgs, adagrad_dev)

#undef EMBER_OPTIM_STEP

}  // namespace

EMBER_REGISTER_CUDA(sgd_step_kernel, sgd_step);
EMBER_REGISTER_CUDA(adam_step_kernel, adam_step);
EMBER_REGISTER_CUDA(rmsprop_step_kernel, rmsprop_step);
EMBER_REGISTER_CUDA(adagrad_step_kernel, adagrad_step);

}  // namespace ember::cuda
