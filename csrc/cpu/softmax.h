// softmax / log_softmax and their backward: plain arguments and dispatch tables. The binding
// (python/bind_nn.cpp) wraps the dim, casts float16 / bfloat16 (and integer) inputs to the
// compute dtype, makes every operand contiguous and allocates the result; kernels see a
// contiguous (outer, dim, inner) block in float32 or float64 and are never called when empty.
#pragma once
#include "core/dispatch.h"

namespace ember {

struct SoftmaxArgs {
  int64_t outer, dim, inner;  // the reduced dim `dim` sits between `outer` and `inner`
  const void* x;              // forward: the input; backward: the forward's result
  const void* grad;           // backward: grad of the result (same layout); forward: nullptr
  void* y;                    // forward: the result; backward: grad of the input
  DType dtype;                // float32 or float64, every operand
  bool log;                   // log_softmax instead of softmax
};
using SoftmaxFn = void (*)(const SoftmaxArgs&);

// y = exp(x - max) / sum(exp(x - max)), or (x - max) - log(sum(exp(x - max))) when log.
extern DispatchTable<SoftmaxFn> softmax_kernel;
// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
extern DispatchTable<SoftmaxFn> softmax_backward_kernel;

}  // namespace ember
