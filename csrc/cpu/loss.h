// Fused cross-entropy (log-softmax + NLL + label smoothing), forward and backward. The binding
// (python/bind_nn.cpp) moves the class dim last, casts to the compute dtype, makes everything
// contiguous and checks every target index, so a kernel sees `rows` contiguous rows of
// `classes` logits and indices that are either in [0, classes) or equal to ignore_index.
#pragma once
#include "core/dispatch.h"

namespace ember {

struct CrossEntropyArgs {
  int64_t rows, classes;
  const void* x;          // rows x classes logits
  const int64_t* target;  // rows class indices, or nullptr with `prob`
  const void* prob;       // rows x classes target probabilities, or nullptr with `target`
  const void* weight;     // classes per-class weights, or nullptr (all ones)
  int64_t ignore_index;   // index targets only: rows with this target count zero
  double smoothing;       // label smoothing epsilon in [0, 1]
  DType dtype;            // float32 or float64: x, prob, weight, loss, grad_in
  void* loss;             // forward: rows per-row losses (unreduced)
  const double* grad_out;  // backward: rows per-row grads of the loss, or nullptr (all ones)
  double grad_scale;       // backward: multiplies every row's grad (reduction, grad of a sum)
  void* grad_in;           // backward: rows x classes grad of the logits
};
using CrossEntropyFn = void (*)(const CrossEntropyArgs&);

// Per row, with logp = log_softmax(x), w the weights, eps the smoothing and C the classes:
//   index target t: (1 - eps) * -w[t] * logp[t] + eps / C * -sum_c w[c] * logp[c]  (0 if ignored)
//   probabilities p: -sum_c w[c] * ((1 - eps) * p[c] + eps / C) * logp[c]
extern DispatchTable<CrossEntropyFn> cross_entropy_kernel;
// grad_in = d(row loss)/dx * grad_out[row] * grad_scale, recomputing max and sum per row.
extern DispatchTable<CrossEntropyFn> cross_entropy_backward_kernel;

}  // namespace ember
