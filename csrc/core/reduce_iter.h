// Plain-data description of a reduction or a scan, shared by the CPU (per-capability) and CUDA
// kernels. Built in baseline code (reduce_iter.cpp) from Tensors; kernels see only this struct.
//
// The input's dims split into kept dims (those of the output) and reduced dims. Size-1 dims
// are dropped; neighbours are merged where the memory stays contiguous across them. Within
// each group dims are ordered outermost first, strides are in bytes.
#pragma once
#include <cstdint>

#include "core/iter.h"

namespace ember {

struct ReduceIter {
  // Kept dims: one output element per index. out_numel == 0 means nothing to do.
  int out_ndim;
  int64_t out_numel;
  int64_t out_shape[kMaxDims];
  int64_t out_strides[kMaxDims];   // bytes in `out`
  int64_t out2_strides[kMaxDims];  // bytes in `out2` (indices), when out2 is set
  int64_t in_strides[kMaxDims];    // bytes in `in` along the kept dims

  // Reduced dims. red_numel == 0 (an empty reduction) gives the op's identity or an error in
  // the binding. For index-returning ops the dims keep their logical order, so a flat index
  // over red_shape is the row-major position the op returns.
  int red_ndim;
  int64_t red_numel;
  int64_t red_shape[kMaxDims];
  int64_t red_strides[kMaxDims];  // bytes in `in`
  // Scans only (red_ndim == 1): the output's byte stride along the scanned dim.
  int64_t out_scan_stride;

  const char* in;
  char* out;
  char* out2;  // int64 indices (max/min with dim, argmax/argmin), else nullptr
  DType dtype;      // input dtype
  DType out_dtype;  // output dtype (see each table's contract in cpu/reduce.h)
  double correction;  // var/std: divisor is max(0, N - correction)
  double p;           // norm order (0, 1, 2, any p > 0, INFINITY, -INFINITY)
};

using ReduceFn = void (*)(const ReduceIter&);

// Builders (baseline code, reduce_iter.cpp). `out` and `out2` have the input's ndim with size
// 1 on every reduced dim (the keepdim shape); `reduced[d]` marks the reduced dims. Index ops
// pass keep_order so reduced dims are never reordered.
class Tensor;
ReduceIter make_reduce_iter(const char* op, const Tensor& in, const Tensor& out,
                            const Tensor* out2, const bool* reduced, bool keep_order);
// A scan along `dim`: `out` has the input's shape.
ReduceIter make_scan_iter(const char* op, const Tensor& in, const Tensor& out, int64_t dim);

}  // namespace ember
