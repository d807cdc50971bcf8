// Plain-data descriptions of a kernel's iteration, shared by the CPU (per-capability) and CUDA
// kernels. Built in baseline code from Tensors; kernels see only these structs.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace ember {

constexpr int kMaxDims = 16;  // after merging dims that are contiguous in every operand
constexpr int kMaxArgs = 4;   // the output and up to three inputs

// Elementwise iteration over `numel` elements: data[0] is the output, data[1..nargs) inputs.
// Dims are ordered outermost first and strides are in bytes (0 for a broadcast dim).
struct ElemIter {
  int ndim;
  int nargs;
  int64_t numel;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxArgs][kMaxDims];
  char* data[kMaxArgs];
  DType dtype;      // dtype of the inputs (arithmetic ops) or of the source (casts)
  DType out_dtype;  // dtype of the output
  double alpha;     // op parameters: alpha/beta of add, bounds of clamp, slope of leaky_relu...
  double beta;
};

using ElemFn = void (*)(const ElemIter&);

// The inner loop a CPU kernel hands to cpu_elementwise: n elements, pointers and byte strides
// for each argument.
using Loop1d = void (*)(char** data, const int64_t* strides, int64_t n, const ElemIter& it);

// Raises TypeError "[op] unsupported dtype X". Kernels in per-capability files call this
// instead of the fail<> template, whose instantiation would otherwise be compiled (with that
// file's instruction set) into a symbol shared with baseline callers.
[[noreturn]] void kernel_dtype_error(const char* op, DType dtype);

// Runs `loop` over the whole iteration, splitting it across threads above `grain` elements.
// Defined in baseline code (iter.cpp); callable from any per-capability kernel.
void cpu_elementwise(const ElemIter& it, Loop1d loop, int64_t grain = 32768);

}  // namespace ember
