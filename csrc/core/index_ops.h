// Index ops on Tensors (baseline code, no Python): argument checks, index validation and
// output allocation around the kernels of cpu/index.h. The bindings call these with the GIL
// released. Index tensors may be int32, int64 or (for `index`/`index_put_`) bool masks.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace ember {

// src[indices...] with NumPy's rules: an undefined entry is a full slice; the defined ones
// broadcast together, and their result dims replace the indexed dims in place when the
// indexed dims are adjacent, else come first. Negative indices wrap when `negative_ok`.
Tensor index(const char* op, const Tensor& src, std::vector<Tensor> indices, bool negative_ok);

// dst[indices...] = values (broadcast to the indexed shape, cast to dst's dtype); with
// `accumulate` duplicates add up. Bumps dst's version.
void index_put_(const char* op, const Tensor& dst, std::vector<Tensor> indices,
                const Tensor& values, bool accumulate);

Tensor gather(const Tensor& src, int64_t dim, const Tensor& index);
// reduce: cpu/index.h's kPutStore/kPutAdd/kPutMul. `src` has at least index's sizes.
void scatter_(const char* op, const Tensor& self, int64_t dim, const Tensor& index,
              const Tensor& src, int reduce);

// value: a 0-d tensor. In place, mask must broadcast to self's shape.
Tensor masked_fill(const char* op, const Tensor& self, const Tensor& mask, const Tensor& value,
                   bool inplace);
Tensor masked_select(const Tensor& self, const Tensor& mask);
Tensor nonzero(const Tensor& x);  // (count, ndim) int64 coordinates, row-major order

// PyTorch's cat: dtypes promote; 1-D empty tensors are skipped whatever their shape.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

}  // namespace ember
