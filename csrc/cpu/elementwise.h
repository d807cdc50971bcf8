// The elementwise family: one dispatch table per op, each an ElemFn over an ElemIter whose
// inputs are already in the compute dtype (see python/bind_elementwise.cpp for promotion).
#pragma once
#include "core/dispatch.h"
#include "core/iter.h"

namespace ember {

// Binary arithmetic: out = op(a, b); add/sub use ElemIter::alpha as b's multiplier.
extern DispatchTable<ElemFn> add_kernel;
extern DispatchTable<ElemFn> sub_kernel;
extern DispatchTable<ElemFn> mul_kernel;
extern DispatchTable<ElemFn> div_kernel;

// Unary math on floating dtypes.
extern DispatchTable<ElemFn> exp_kernel;
// Unary, any numeric dtype.
extern DispatchTable<ElemFn> neg_kernel;

}  // namespace ember
