// The optimizer family: one multi-tensor kernel per optimizer, updating every parameter of a
// group (and its state) in place in a single parallel pass.
//
// The binding (csrc/python/bind_optim.cpp) has checked the lists: equal lengths, contiguous
// float32 or float64 tensors of one dtype, matching shapes per index, no aliasing within an
// index. A kernel sees the tensors of all roles as one index space of `starts[n]` elements:
// tensor k covers [starts[k], starts[k + 1]). Threads split that space evenly, so a list of
// tensors of very different sizes still balances. Each element is read and written once.
//
// The formulas are PyTorch's single-tensor ones (torch/optim/*.py), in the tensor dtype with
// the hyperparameters rounded to it, as PyTorch's scalar arguments are.
#pragma once
#include "core/dispatch.h"
#include "core/dtype.h"

namespace ember {

constexpr int kOptimMaxRoles = 5;

struct TensorLists {
  int64_t n;                              // tensors per role
  const int64_t* starts;                  // n + 1 prefix sums of the element counts
  void* const* data[kOptimMaxRoles];      // per role, n data pointers (nullptr: role absent)
  DType dtype;                            // float32 or float64
};

// Roles: 0 params, 1 grads, 2 momentum buffers (absent when momentum == 0).
// first_step: the buffers are new and take the gradient as is (no dampening), as PyTorch's
// `torch.clone(grad)` on the first step.
struct SgdArgs {
  TensorLists t;
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first_step;
};

// Roles: 0 params, 1 grads, 2 exp_avgs, 3 exp_avg_sqs, 4 max_exp_avg_sqs (amsgrad only).
// step_size = lr / (1 - beta1^step) and bias_correction2_sqrt = sqrt(1 - beta2^step) are
// computed by the binding in double, as PyTorch computes them in Python.
struct AdamArgs {
  TensorLists t;
  double lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt;
  bool amsgrad, decoupled_weight_decay, maximize;
};

// Roles: 0 params, 1 grads, 2 square_avgs, 3 grad_avgs (centered only), 4 momentum buffers
// (momentum > 0 only).
struct RmspropArgs {
  TensorLists t;
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};

// Roles: 0 params, 1 grads, 2 state_sums. clr = lr / (1 + (step - 1) lr_decay).
struct AdagradArgs {
  TensorLists t;
  double clr, weight_decay, eps;
  bool maximize;
};

using SgdFn = void (*)(const SgdArgs&);
using AdamFn = void (*)(const AdamArgs&);
using RmspropFn = void (*)(const RmspropArgs&);
using AdagradFn = void (*)(const AdagradArgs&);

extern DispatchTable<SgdFn> sgd_step_kernel;
extern DispatchTable<AdamFn> adam_step_kernel;
extern DispatchTable<RmspropFn> rmsprop_step_kernel;
extern DispatchTable<AdagradFn> adagrad_step_kernel;

}  // namespace ember
