// The indexing family: advanced indexing, gather/scatter, masked ops, nonzero.
//
// Every index op is reduced (in python/bind_index.cpp) to "element offsets": an int64 tensor
// holding, for each result element, how many elements away from a restrided base pointer the
// source (or destination) element lies. Kernels then move bytes through those offsets over an
// ElemIter, so one gather and one put kernel serve every dtype, stride and index layout.
#pragma once
#include "core/dispatch.h"
#include "core/iter.h"

namespace ember {

// Validates `n` contiguous int64 indices into a dim of `size` and adds index * stride to
// offsets[i] (wrapping negatives when `negative_ok`). Returns the position of the first index
// out of range, or -1 when all are valid; the offsets are then incomplete.
struct IndexOffsetsArgs {
  const int64_t* index;
  int64_t* offsets;
  int64_t n;
  int64_t size;
  int64_t stride;
  bool negative_ok;
};
using IndexOffsetsFn = int64_t (*)(const IndexOffsetsArgs&);
extern DispatchTable<IndexOffsetsFn> index_offsets_kernel;

// out = *(src + offsets): data[0] out, data[1] restrided source, data[2] int64 offsets.
extern DispatchTable<ElemFn> index_gather_kernel;

// *(dst + offsets) = op(*(dst + offsets), value): data[0] restrided destination, data[1]
// values (already in the destination dtype), data[2] int64 offsets. ElemIter::alpha picks the
// op: 0 store, 1 add, 2 multiply. Accumulating puts run on one thread so duplicate offsets
// combine exactly; plain stores with duplicates keep one of the written values.
extern DispatchTable<ElemFn> index_put_kernel;
constexpr int kPutStore = 0, kPutAdd = 1, kPutMul = 2;

// out = mask ? value : self: data[0] out, data[1] self, data[2] bool mask, data[3] value
// (0-d, broadcast); self, value and out share one dtype.
extern DispatchTable<ElemFn> masked_fill_kernel;

// nonzero over a contiguous bool mask of `shape`: count, then the (count, ndim) coordinates.
struct NonzeroArgs {
  const bool* mask;
  const int64_t* shape;
  int ndim;
  int64_t numel;
  int64_t* out;  // count * ndim entries, row-major; unused by the count kernel
};
using NonzeroCountFn = int64_t (*)(const NonzeroArgs&);
using NonzeroFillFn = void (*)(const NonzeroArgs&);
extern DispatchTable<NonzeroCountFn> nonzero_count_kernel;
extern DispatchTable<NonzeroFillFn> nonzero_fill_kernel;

}  // namespace ember
