// batch_norm, layer_norm and group_norm forward and backward: plain arguments and dispatch
// tables. The binding (python/bind_norm.cpp) checks shapes, casts every operand to the compute
// dtype (float32 for float16 / bfloat16 / float32, float64 for float64), makes them contiguous
// and allocates results; kernels are never called with an empty input.
#pragma once
#include "core/dispatch.h"

namespace ember {

// x is a contiguous (n, c, s) block; statistics are per channel over its n * s values.
struct BatchNormArgs {
  int64_t n, c, s;
  const void* x;
  const void* weight;   // (c,) or nullptr (scale 1)
  const void* bias;     // (c,) or nullptr (shift 0)
  void* mean;           // (c,): forward writes the mean used (batch or running)
  void* invstd;         // (c,): forward writes 1 / sqrt(var + eps)
  void* running_mean;   // (c,) or nullptr: training updates it in place; eval reads it
  void* running_var;    // (c,) or nullptr: training stores the unbiased batch variance
  double momentum, eps;
  bool training;        // batch statistics (and the running update) vs running statistics
  const void* grad;     // backward: grad of y, (n, c, s)
  void* y;              // forward: the result; backward: grad of x (nullptr: not needed)
  void* grad_weight;    // backward: (c,) or nullptr
  void* grad_bias;      // backward: (c,) or nullptr
  DType dtype;          // float32 or float64, every operand
};
using BatchNormFn = void (*)(const BatchNormArgs&);

// Rows of `chans * inner` contiguous values, statistics per row. Row r's channel j uses affine
// entry (r % wrows) * chans + j for all its `inner` values: layer_norm is wrows = 1,
// chans = K, inner = 1; group_norm is rows = N * G, wrows = G, chans = C / G, inner = spatial.
struct RowNormArgs {
  int64_t rows, wrows, chans, inner;
  const void* x;
  const void* weight;   // (wrows * chans,) or nullptr
  const void* bias;     // (wrows * chans,) or nullptr
  void* mean;           // (rows,): forward writes, backward reads
  void* rstd;           // (rows,)
  double eps;
  const void* grad;     // backward: grad of y
  void* y;              // forward: the result; backward: grad of x (nullptr: not needed)
  void* grad_weight;    // backward: (wrows * chans,) or nullptr
  void* grad_bias;      // backward: (wrows * chans,) or nullptr
  double* scratch;      // backward: parts * 2 * wrows * chans doubles (per-part partial sums);
                        // unused when grad_weight and grad_bias are both nullptr
  int64_t parts;        // backward: number of row partitions the partial sums are split in
  DType dtype;
};
using RowNormFn = void (*)(const RowNormArgs&);

extern DispatchTable<BatchNormFn> batch_norm_kernel;
extern DispatchTable<BatchNormFn> batch_norm_backward_kernel;
extern DispatchTable<RowNormFn> row_norm_kernel;
extern DispatchTable<RowNormFn> row_norm_backward_kernel;

}  // namespace ember
