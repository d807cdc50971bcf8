// Index ops (see index_ops.h). Each one builds a restrided view of the source or destination
// whose indexed dims have stride 0, plus an int64 tensor of element offsets (index * stride,
// validated by index_offsets_kernel), and hands both to a byte-moving kernel as an ElemIter.
#include "core/index_ops.h"

#include <cstring>

#include "core/dispatch.h"
#include "core/iter_build.h"
#include "cpu/index.h"

namespace ember {

EMBER_DEFINE_KERNEL(index_offsets_kernel, IndexOffsetsFn);
EMBER_DEFINE_KERNEL(index_gather_kernel, ElemFn);
EMBER_DEFINE_KERNEL(index_put_kernel, ElemFn);
EMBER_DEFINE_KERNEL(masked_fill_kernel, ElemFn);
EMBER_DEFINE_KERNEL(nonzero_count_kernel, NonzeroCountFn);
EMBER_DEFINE_KERNEL(nonzero_fill_kernel, NonzeroFillFn);

namespace {

void check_index_dtype(const char* op, const Tensor& t, bool bool_ok) {
  DType d = t.dtype();
  if (is_integral(d) || (bool_ok && d == DType::Bool)) return;
  fail<IndexError>(op, "tensors used as indices must be int32, int64",
                   bool_ok ? " or bool" : "", ", got ", dtype_name(d));
}

// Element offsets sum_k index_k * strides[dims_k] over the broadcast shape `shape`,
// IndexError naming the first bad index, its dim and the dim's size.
Tensor element_offsets(const char* op, const std::vector<Tensor>& idx,
                       const std::vector<int64_t>& dims, const Tensor& src, const Shape& shape,
                       bool negative_ok) {
  IndexOffsetsFn fn = index_offsets_kernel.pick(src.device());
  Tensor off = Tensor::empty(shape, DType::Int64, src.device());
  std::memset(off.data_ptr(), 0, static_cast<size_t>(off.numel()) * sizeof(int64_t));
  for (size_t k = 0; k < idx.size(); ++k) {
    Tensor i = idx[k].expand(shape, op).to(DType::Int64).contiguous().to(src.device());
    const int64_t* p = reinterpret_cast<const int64_t*>(i.data_ptr());
    int64_t d = dims[k], size = src.shape()[d];
    int64_t bad = fn({p, reinterpret_cast<int64_t*>(off.data_ptr()), i.numel(), size,
                      src.strides()[d], negative_ok});
    if (bad >= 0)
      fail<IndexError>(op, "index ", p[bad], " is out of bounds for dim ", d, " with size ", size,
                       " (shape ", shape_str(src.shape()), ")");
  }
  return off;
}

// Replaces bool masks by their nonzero coordinates, one int64 index per masked dim. A 0-d
// mask adds a size-1 dim indexed by [0] (true) or [] (false), as in NumPy.
void expand_masks(const char* op, Tensor& src, std::vector<Tensor>& indices) {
  std::vector<Tensor> out;
  int64_t d = 0;
  for (const Tensor& t : indices) {
    if (!t.defined() || t.dtype() != DType::Bool) {
      if (t.defined()) check_index_dtype(op, t, true);
      out.push_back(t);
      ++d;
      continue;
    }
    if (t.ndim() == 0) {
      bool v = *reinterpret_cast<const bool*>(t.to(Device{}).data_ptr());
      src = src.unsqueeze(d);
      Tensor ix = Tensor::empty({v ? 1 : 0}, DType::Int64);
      if (v) std::memset(ix.data_ptr(), 0, sizeof(int64_t));
      out.push_back(ix.to(src.device()));
      ++d;
      continue;
    }
    for (int64_t j = 0; j < t.ndim(); ++j) {
      if (d + j >= src.ndim() || src.shape()[d + j] != t.shape()[j])
        fail<IndexError>(op, "boolean mask of shape ", shape_str(t.shape()),
                         " does not match the indexed tensor of shape ", shape_str(src.shape()),
                         " at dim ", d + j);
    }
    Tensor nz = nonzero(t);
    for (int64_t j = 0; j < t.ndim(); ++j) out.push_back(nz.select(1, j));
    d += t.ndim();
  }
  if (static_cast<int64_t>(out.size()) > src.ndim())
    fail<IndexError>(op, "too many indices for a tensor of shape ", shape_str(src.shape()));
  indices = std::move(out);
}

struct IndexPlan {
  Tensor base;     // src restrided to the result shape, stride 0 over the index dims
  Tensor offsets;  // int64 element offsets, broadcast over the non-indexed dims
};

IndexPlan plan_index(const char* op, Tensor src, std::vector<Tensor> indices, bool negative_ok) {
  expand_masks(op, src, indices);
  std::vector<Tensor> idx;
  std::vector<int64_t> dims;
  Shape bshape;
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d].defined()) continue;
    try {
      bshape = idx.empty() ? indices[d].shape() : broadcast_shapes(op, bshape, indices[d].shape());
    } catch (const ValueError&) {
      fail<IndexError>(op, "shape mismatch: index tensors of shapes ", shape_str(bshape), " and ",
                       shape_str(indices[d].shape()), " cannot be broadcast together");
    }
    idx.push_back(indices[d]);
    dims.push_back(static_cast<int64_t>(d));
  }
  if (idx.empty()) fail<IndexError>(op, "no index tensor given");
  const bool adjacent = dims.back() - dims.front() + 1 == static_cast<int64_t>(dims.size());
  Shape bstrides = contiguous_strides(bshape);
  Shape rshape, base_strides, off_strides;
  auto push_index_dims = [&] {
    for (size_t j = 0; j < bshape.size(); ++j) {
      rshape.push_back(bshape[j]);
      base_strides.push_back(0);
      off_strides.push_back(bstrides[j]);
    }
  };
  if (!adjacent) push_index_dims();  // NumPy: separated index dims go first
  size_t next = 0;
  for (int64_t d = 0; d < src.ndim(); ++d) {
    if (next < dims.size() && dims[next] == d) {
      if (adjacent && next == 0) push_index_dims();
      ++next;
      continue;
    }
    rshape.push_back(src.shape()[d]);
    base_strides.push_back(src.strides()[d]);
    off_strides.push_back(0);
  }
  Tensor off = element_offsets(op, idx, dims, src, bshape, negative_ok);
  return {src.as_strided(rshape, base_strides, src.offset()),
          off.as_strided(rshape, off_strides, 0)};
}

Tensor run_gather(const char* op, const IndexPlan& p) {
  Tensor out = Tensor::empty(p.base.shape(), p.base.dtype(), p.base.device());
  if (out.numel() == 0) return out;
  ElemIter it = make_elem_iter(op, out, {&p.base, &p.offsets});
  index_gather_kernel.pick(out.device())(it);
  return out;
}

void run_put(const char* op, const Tensor& dst, const IndexPlan& p, Tensor values, int mode) {
  values = values.to(dst.device()).to(dst.dtype());
  while (values.ndim() > p.base.ndim() && values.shape()[0] == 1) values = values.squeeze(0);
  if (values.may_overlap(dst)) values = values.clone();
  ElemIter it = make_elem_iter(op, p.base, {&values, &p.offsets});
  it.alpha = mode;
  if (it.numel > 0) index_put_kernel.pick(dst.device())(it);
  dst.storage()->bump_version();
}

// The view of `t` over `shape` (no larger than t's in any dim) with stride 0 along `dim`.
Tensor along(const Tensor& t, const Shape& shape, int64_t dim) {
  Shape strides = t.strides();
  if (dim >= 0) strides[dim] = 0;
  return t.as_strided(shape, strides, t.offset());
}

// gather/scatter: shapes as PyTorch checks them; 0-d tensors act as shape (1,).
void check_along(const char* op, const Tensor& self, const Tensor& index, int64_t dim,
                 const char* what) {
  if (self.ndim() != index.ndim())
    fail<ValueError>(op, "index of shape ", shape_str(index.shape()), " must have as many dims as ",
                     what, " of shape ", shape_str(self.shape()));
  for (int64_t d = 0; d < self.ndim(); ++d) {
    if (d != dim && index.shape()[d] > self.shape()[d])
      fail<ValueError>(op, "index of shape ", shape_str(index.shape()), " is larger than ", what,
                       " of shape ", shape_str(self.shape()), " at dim ", d);
  }
}

Tensor as_1d(const Tensor& t) { return t.ndim() == 0 ? t.view({1}) : t; }

}  // namespace

Tensor index(const char* op, const Tensor& src, std::vector<Tensor> indices, bool negative_ok) {
  return run_gather(op, plan_index(op, src, std::move(indices), negative_ok));
}

void index_put_(const char* op, const Tensor& dst, std::vector<Tensor> indices,
                const Tensor& values, bool accumulate) {
  IndexPlan p = plan_index(op, dst, std::move(indices), true);
  run_put(op, dst, p, values, accumulate ? kPutAdd : kPutStore);
}

Tensor gather(const Tensor& src_in, int64_t dim, const Tensor& index_in) {
  check_index_dtype("gather", index_in, false);
  Tensor src = as_1d(src_in), index = as_1d(index_in);
  dim = wrap_dim("gather", dim, src.ndim(), src.shape());
  check_along("gather", src, index, dim, "input");
  Tensor off = element_offsets("gather", {index}, {dim}, src, index.shape(), false);
  Tensor out = run_gather("gather", {along(src, index.shape(), dim), off});
  return out.view(index_in.shape());
}

void scatter_(const char* op, const Tensor& self_in, int64_t dim, const Tensor& index_in,
              const Tensor& src_in, int reduce) {
  check_index_dtype(op, index_in, false);
  Tensor self = as_1d(self_in), index = as_1d(index_in);
  dim = wrap_dim(op, dim, self.ndim(), self.shape());
  check_along(op, self, index, dim, "self");
  Tensor values;
  if (src_in.ndim() == 0) {
    values = src_in.expand(index.shape(), op);
  } else {
    check_along(op, src_in, index, -1, "src");
    values = along(src_in, index.shape(), -1);
  }
  Tensor off = element_offsets(op, {index}, {dim}, self, index.shape(), false);
  run_put(op, self_in, {along(self, index.shape(), dim), off}, values, reduce);
}

Tensor masked_fill(const char* op, const Tensor& self, const Tensor& mask, const Tensor& value,
                   bool inplace) {
  if (mask.dtype() != DType::Bool)
    fail<TypeError>(op, "mask must be a bool tensor, got ", dtype_name(mask.dtype()));
  if (value.ndim() != 0)
    fail<ValueError>(op, "value must be a scalar or a 0-d tensor, got shape ",
                     shape_str(value.shape()));
  Shape shape = broadcast_shapes(op, self.shape(), mask.shape());
  if (inplace && shape != self.shape())
    fail<ValueError>(op, "mask of shape ", shape_str(mask.shape()),
                     " does not broadcast to the in-place input of shape ",
                     shape_str(self.shape()));
  Tensor v = value.to(self.device()).to(self.dtype());
  Tensor m = mask.to(self.device());
  Tensor out = inplace ? self : Tensor::empty(shape, self.dtype(), self.device());
  if (inplace && m.may_overlap(self)) m = m.clone();
  if (out.numel() > 0) {
    ElemIter it = make_elem_iter(op, out, {&self, &m, &v});
    masked_fill_kernel.pick(self.device())(it);
  }
  if (inplace) self.storage()->bump_version();
  return out;
}

Tensor masked_select(const Tensor& self, const Tensor& mask) {
  if (mask.dtype() != DType::Bool)
    fail<TypeError>("masked_select", "mask must be a bool tensor, got ", dtype_name(mask.dtype()));
  Shape shape = broadcast_shapes("masked_select", self.shape(), mask.shape());
  Tensor flat = self.expand(shape).reshape({-1});
  Tensor m = mask.to(self.device()).expand(shape).reshape({-1});
  return index("masked_select", flat, {m}, false);
}

Tensor nonzero(const Tensor& x) {
  if (x.ndim() > 64) fail<ValueError>("nonzero", "more than 64 dims");
  NonzeroCountFn count_fn = nonzero_count_kernel.pick(x.device());
  Tensor m = x.to(DType::Bool).contiguous();
  NonzeroArgs a{reinterpret_cast<const bool*>(m.data_ptr()), m.shape().data(),
                static_cast<int>(m.ndim()), m.numel(), nullptr};
  int64_t count = count_fn(a);
  Tensor out = Tensor::empty({count, x.ndim()}, DType::Int64, x.device());
  a.out = reinterpret_cast<int64_t*>(out.data_ptr());
  if (count > 0) nonzero_fill_kernel.pick(x.device())(a);
  return out;
}

Tensor cat(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) fail<ValueError>("cat", "expected a non-empty list of tensors");
  // PyTorch skips 1-D empty tensors in the shape checks (a legacy rule kept for compatibility).
  auto skipped = [](const Tensor& t) { return t.ndim() == 1 && t.numel() == 0; };
  const Tensor* ref = nullptr;
  DType dtype = ts[0].dtype();
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].ndim() == 0)
      fail<ValueError>("cat", "zero-dimensional tensor at position ", i, " cannot be concatenated");
    if (ts[i].device() != ts[0].device())
      fail<std::runtime_error>("cat", "expected all tensors on one device, got ",
                               ts[0].device().str(), " and ", ts[i].device().str());
    dtype = promote_types(dtype, ts[i].dtype());
    if (!ref && !skipped(ts[i])) ref = &ts[i];
  }
  if (!ref) return Tensor::empty({0}, dtype, ts[0].device());
  dim = wrap_dim("cat", dim, ref->ndim(), ref->shape());
  Shape shape = ref->shape();
  shape[dim] = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (skipped(ts[i])) continue;
    bool ok = ts[i].ndim() == ref->ndim();
    for (int64_t d = 0; ok && d < ref->ndim(); ++d)
      ok = d == dim || ts[i].shape()[d] == ref->shape()[d];
    if (!ok)
      fail<ValueError>("cat", "tensor at position ", i, " has shape ", shape_str(ts[i].shape()),
                       ", expected ", shape_str(ref->shape()), " except at dim ", dim);
    shape[dim] += ts[i].shape()[dim];
  }
  Tensor out = Tensor::empty(shape, dtype, ts[0].device());
  int64_t start = 0;
  for (const Tensor& t : ts) {
    if (skipped(t)) continue;
    Tensor slot = out.narrow(dim, start, t.shape()[dim]);
    copy_(slot, t, "cat");
    start += t.shape()[dim];
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) fail<ValueError>("stack", "expected a non-empty list of tensors");
  dim = wrap_dim("stack", dim, ts[0].ndim() + 1, ts[0].shape());
  std::vector<Tensor> parts;
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].shape() != ts[0].shape())
      fail<ValueError>("stack", "expected tensors of one shape, got ", shape_str(ts[0].shape()),
                       " at position 0 and ", shape_str(ts[i].shape()), " at position ", i);
    parts.push_back(ts[i].unsqueeze(dim));
  }
  return cat(parts, dim);
}

}  // namespace ember
