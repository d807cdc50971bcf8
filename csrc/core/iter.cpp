#include <algorithm>
#include <cstdlib>

#include "core/iter_build.h"
#include "core/parallel.h"

namespace ember {

void kernel_dtype_error(const char* op, DType dtype) {
  fail<TypeError>(op, "unsupported dtype ", dtype_name(dtype));
}

namespace {

constexpr int kMaxTensorDims = 64;

// All operands contiguous with out's shape, or 0-d: one flat dim, no reordering needed.
bool flat_fast_path(ElemIter& it, const Tensor* const* args) {
  const Tensor& out = *args[0];
  if (!out.is_contiguous()) return false;
  for (int a = 1; a < it.nargs; ++a) {
    const Tensor& t = *args[a];
    if (t.ndim() == 0 || t.numel() == 1) {
      if (t.ndim() > out.ndim()) return false;
      it.strides[a][0] = 0;
    } else if (t.shape() == out.shape() && t.is_contiguous()) {
      it.strides[a][0] = static_cast<int64_t>(t.itemsize());
    } else {
      return false;
    }
  }
  it.ndim = 1;
  it.shape[0] = out.numel();
  it.strides[0][0] = static_cast<int64_t>(out.itemsize());
  return true;
}

}  // namespace

ElemIter make_elem_iter(const char* op, const Tensor& out,
                        std::initializer_list<const Tensor*> inputs) {
  ElemIter it;
  it.nargs = static_cast<int>(inputs.size()) + 1;
  it.numel = out.numel();
  it.out_dtype = out.dtype();
  it.dtype = inputs.size() ? (*inputs.begin())->dtype() : out.dtype();
  it.alpha = 0.0;
  it.beta = 0.0;
  const Tensor* args[kMaxArgs];
  args[0] = &out;
  int k = 1;
  for (const Tensor* t : inputs) args[k++] = t;
  for (int a = 0; a < it.nargs; ++a) it.data[a] = args[a]->data_ptr();
  if (flat_fast_path(it, args)) return it;

  const int64_t nd = out.ndim();
  const Shape& shape = out.shape();
  if (nd > kMaxTensorDims)
    fail<ValueError>(op, "tensors with more than ", kMaxTensorDims, " dims are not supported");

  // Byte strides of each operand over out's dims (0 where an input broadcasts).
  int64_t strides[kMaxArgs][kMaxTensorDims] = {};
  for (int a = 0; a < it.nargs; ++a) {
    const Tensor& t = *args[a];
    int64_t lead = nd - t.ndim();
    if (lead < 0)
      fail<ValueError>(op, "input of shape ", shape_str(t.shape()),
                       " has more dims than the output ", shape_str(shape));
    for (int64_t d = 0; d < t.ndim(); ++d) {
      int64_t s = t.shape()[d];
      if (s != shape[d + lead] && s != 1)
        fail<ValueError>(op, "shape ", shape_str(t.shape()), " cannot be broadcast to ",
                         shape_str(shape));
      strides[a][d + lead] = s == 1 ? 0 : t.strides()[d] * int64_t(t.itemsize());
    }
  }

  // Drop size-1 dims; order the rest by the operands' strides, largest first (memory order).
  int64_t dims[kMaxTensorDims];
  int ndims = 0;
  for (int64_t d = 0; d < nd; ++d)
    if (shape[d] != 1) dims[ndims++] = d;
  std::stable_sort(dims, dims + ndims, [&](int64_t x, int64_t y) {
    for (int a = 0; a < it.nargs; ++a) {
      int64_t sx = std::abs(strides[a][x]), sy = std::abs(strides[a][y]);
      if (sx != sy && sx != 0 && sy != 0) return sx > sy;
    }
    return false;
  });

  // Merge a dim into the one outside it when every operand is contiguous across the pair.
  int m = 0;
  for (int i = 0; i < ndims; ++i) {
    int64_t d = dims[i];
    bool merge = m > 0;
    for (int a = 0; merge && a < it.nargs; ++a)
      merge = it.strides[a][m - 1] == strides[a][d] * shape[d];
    if (merge) {
      it.shape[m - 1] *= shape[d];
      for (int a = 0; a < it.nargs; ++a) it.strides[a][m - 1] = strides[a][d];
      continue;
    }
    if (m == kMaxDims)
      fail<ValueError>(op, "tensors of shape ", shape_str(shape), " need more than ", kMaxDims,
                       " iteration dims");
    it.shape[m] = shape[d];
    for (int a = 0; a < it.nargs; ++a) it.strides[a][m] = strides[a][d];
    ++m;
  }
  if (m == 0) {  // a single element
    it.shape[0] = 1;
    for (int a = 0; a < it.nargs; ++a) it.strides[a][0] = 0;
    m = 1;
  }
  it.ndim = m;
  return it;
}

namespace {

struct ChunkCtx {
  const ElemIter* it;
  Loop1d loop;
};

// Runs the elements [begin, end) of the row-major iteration space.
void run_chunk(int64_t begin, int64_t end, void* p) {
  const ChunkCtx& c = *static_cast<const ChunkCtx*>(p);
  const ElemIter& it = *c.it;
  const int nd = it.ndim;
  const int64_t inner = it.shape[nd - 1];
  int64_t idx[kMaxDims];
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % it.shape[d];
    rem /= it.shape[d];
  }
  char* ptrs[kMaxArgs];
  int64_t inner_strides[kMaxArgs];
  for (int a = 0; a < it.nargs; ++a) {
    int64_t off = 0;
    for (int d = 0; d < nd; ++d) off += idx[d] * it.strides[a][d];
    ptrs[a] = it.data[a] + off;
    inner_strides[a] = it.strides[a][nd - 1];
  }
  int64_t pos = begin;
  while (pos < end) {
    int64_t n = std::min(inner - idx[nd - 1], end - pos);
    c.loop(ptrs, inner_strides, n, it);
    pos += n;
    if (pos >= end) break;
    // Step the multi-index to the start of the next row and re-base the pointers on it.
    idx[nd - 1] = 0;
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < it.shape[d]) break;
      idx[d] = 0;
    }
    for (int a = 0; a < it.nargs; ++a) {
      int64_t off = 0;
      for (int d = 0; d < nd - 1; ++d) off += idx[d] * it.strides[a][d];
      ptrs[a] = it.data[a] + off;
    }
  }
}

}  // namespace

void cpu_elementwise(const ElemIter& it, Loop1d loop, int64_t grain) {
  if (it.numel == 0) return;
  ChunkCtx ctx{&it, loop};
  parallel_for_impl(0, it.numel, grain, run_chunk, &ctx);
}

}  // namespace ember
