#include "core/reduce_iter.h"

#include <algorithm>
#include <cstdlib>

#include "core/tensor.h"

namespace ember {

namespace {

// One dim as the builder sees it: size and byte strides in the input and the outputs.
struct Dim {
  int64_t size;
  int64_t in;
  int64_t out;
  int64_t out2;
};

// Appends dims to (shape, strides...) merging a dim into the previous one when every operand
// is contiguous across the pair. Returns the number of merged dims.
int merge_dims(const char* op, const Dim* dims, int n, int64_t* shape, int64_t* in,
               int64_t* out, int64_t* out2) {
  int m = 0;
  for (int i = 0; i < n; ++i) {
    const Dim& d = dims[i];
    if (m > 0 && in[m - 1] == d.in * d.size && (!out || out[m - 1] == d.out * d.size) &&
        (!out2 || out2[m - 1] == d.out2 * d.size)) {
      shape[m - 1] *= d.size;
      in[m - 1] = d.in;
      if (out) out[m - 1] = d.out;
      if (out2) out2[m - 1] = d.out2;
      continue;
    }
    if (m == kMaxDims) fail<ValueError>(op, "more than ", kMaxDims, " non-mergeable dims");
    shape[m] = d.size;
    in[m] = d.in;
    if (out) out[m] = d.out;
    if (out2) out2[m] = d.out2;
    ++m;
  }
  return m;
}

void sort_by_input_stride(Dim* dims, int n) {
  std::stable_sort(dims, dims + n,
                   [](const Dim& a, const Dim& b) { return std::abs(a.in) > std::abs(b.in); });
}

ReduceIter blank_iter(const Tensor& in, const Tensor& out) {
  ReduceIter it{};
  it.in = in.data_ptr();
  it.out = out.data_ptr();
  it.out2 = nullptr;
  it.dtype = in.dtype();
  it.out_dtype = out.dtype();
  it.correction = 0.0;
  it.p = 0.0;
  return it;
}

}  // namespace

ReduceIter make_reduce_iter(const char* op, const Tensor& in, const Tensor& out,
                            const Tensor* out2, const bool* reduced, bool keep_order) {
  const int64_t nd = in.ndim();
  if (nd > 64) fail<ValueError>(op, "tensors with more than 64 dims are not supported");
  ReduceIter it = blank_iter(in, out);
  if (out2) it.out2 = out2->data_ptr();
  const int64_t isz = static_cast<int64_t>(in.itemsize());
  const int64_t osz = static_cast<int64_t>(out.itemsize());
  Dim kept[64], red[64];
  int nk = 0, nr = 0;
  it.out_numel = 1;
  it.red_numel = 1;
  for (int64_t d = 0; d < nd; ++d) {
    int64_t size = in.shape()[d];
    if (reduced[d]) {
      it.red_numel *= size;
      if (size != 1) red[nr++] = {size, in.strides()[d] * isz, 0, 0};
    } else {
      it.out_numel *= size;
      if (size != 1)
        kept[nk++] = {size, in.strides()[d] * isz, out.strides()[d] * osz,
                      out2 ? out2->strides()[d] * 8 : 0};
    }
  }
  if (it.out_numel == 0 || it.red_numel == 0) nr = 0;
  if (it.out_numel == 0) nk = 0;
  // Kept dims follow the input's memory order so the contiguous one (if any) comes last.
  sort_by_input_stride(kept, nk);
  if (!keep_order) sort_by_input_stride(red, nr);
  it.out_ndim = merge_dims(op, kept, nk, it.out_shape, it.in_strides, it.out_strides,
                           out2 ? it.out2_strides : nullptr);
  it.red_ndim = merge_dims(op, red, nr, it.red_shape, it.red_strides, nullptr, nullptr);
  if (it.red_ndim == 0 && it.red_numel == 1) {  // a single element: a row of one
    it.red_ndim = 1;
    it.red_shape[0] = 1;
    it.red_strides[0] = isz;
  }
  return it;
}

ReduceIter make_scan_iter(const char* op, const Tensor& in, const Tensor& out, int64_t dim) {
  const int64_t nd = in.ndim();
  if (nd > 64) fail<ValueError>(op, "tensors with more than 64 dims are not supported");
  ReduceIter it = blank_iter(in, out);
  const int64_t isz = static_cast<int64_t>(in.itemsize());
  const int64_t osz = static_cast<int64_t>(out.itemsize());
  Dim kept[64];
  int nk = 0;
  it.out_numel = 1;
  it.red_numel = nd ? in.shape()[dim] : 1;
  it.red_ndim = 1;
  it.red_shape[0] = it.red_numel;
  it.red_strides[0] = nd ? in.strides()[dim] * isz : 0;
  it.out_scan_stride = nd ? out.strides()[dim] * osz : 0;
  for (int64_t d = 0; d < nd; ++d) {
    if (d == dim) continue;
    int64_t size = in.shape()[d];
    it.out_numel *= size;
    if (size != 1) kept[nk++] = {size, in.strides()[d] * isz, out.strides()[d] * osz, 0};
  }
  if (it.out_numel == 0 || it.red_numel == 0) {
    it.out_numel = 0;
    nk = 0;
  }
  sort_by_input_stride(kept, nk);
  it.out_ndim = merge_dims(op, kept, nk, it.out_shape, it.in_strides, it.out_strides, nullptr);
  return it;
}

}  // namespace ember
