// The reduction family: one dispatch table per op, each a ReduceFn over a ReduceIter (see
// core/reduce_iter.h). The binding (python/bind_reduce.cpp) checks arguments, casts float16 /
// bfloat16 inputs to float32 (and results back), and allocates outputs of the dtype given
// below. Every kernel handles out_numel == 0 (returns) and red_numel == 0 (writes the op's
// identity) itself; tables marked "non-empty" are never called with red_numel == 0.
#pragma once
#include "core/dispatch.h"
#include "core/reduce_iter.h"

namespace ember {

// sum/prod: in bool, int32, int64, float32, float64; out int64 for bool/ints, else in's dtype.
extern DispatchTable<ReduceFn> sum_kernel;
extern DispatchTable<ReduceFn> prod_kernel;
// mean = sum / N: in and out float32 or float64 (NaN when N == 0).
extern DispatchTable<ReduceFn> mean_kernel;
// var/std: float32/float64 in and out, two-pass; sum((x - mean)^2) / max(0, N - correction).
extern DispatchTable<ReduceFn> var_kernel;
extern DispatchTable<ReduceFn> std_kernel;
// amax/amin: any dtype but float16/bfloat16, out = in dtype; NaN propagates. Non-empty.
extern DispatchTable<ReduceFn> amax_kernel;
extern DispatchTable<ReduceFn> amin_kernel;
// max/min along dims with indices (keep_order iter): out2 (int64) gets the flat row-major
// index over red_shape of the first max (the first NaN if any); out (in dtype) gets the value
// unless out == nullptr (argmax/argmin). Any dtype but float16/bfloat16. Non-empty.
extern DispatchTable<ReduceFn> max_dim_kernel;
extern DispatchTable<ReduceFn> min_dim_kernel;
// logsumexp: float32/float64, max-shifted; -inf for an empty or all -inf reduction.
extern DispatchTable<ReduceFn> logsumexp_kernel;
// norm: float32/float64; p = INFINITY (max |x|), -INFINITY (min |x|, non-empty), 0 (count of
// non-zeros), else (sum |x|^p)^(1/p) with p == 1 and p == 2 special-cased.
extern DispatchTable<ReduceFn> norm_kernel;
// any/all: any input dtype, out bool (x != 0; NaN counts as true).
extern DispatchTable<ReduceFn> any_kernel;
extern DispatchTable<ReduceFn> all_kernel;
// cumsum/cumprod (scan iter): in == out dtype, one of int64, float32, float64; floats
// accumulate in float64.
extern DispatchTable<ReduceFn> cumsum_kernel;
extern DispatchTable<ReduceFn> cumprod_kernel;

}  // namespace ember
