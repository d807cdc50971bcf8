// Building ElemIter from Tensors (baseline code).
#pragma once
#include <initializer_list>

#include "core/iter.h"
#include "core/tensor.h"

namespace ember {

// `out` and the inputs must already have one shape after broadcasting to out.shape(); inputs
// may be of any dtype (the kernel reads ElemIter::dtype from the first input). Dims are
// reordered to the output's memory order and merged where every operand is contiguous
// across them.
ElemIter make_elem_iter(const char* op, const Tensor& out,
                        std::initializer_list<const Tensor*> inputs);

}  // namespace ember
