// copy_: the one place data moves between dtypes, layouts and devices.
#include <cstring>

#include "core/cuda_runtime.h"
#include "core/dispatch.h"
#include "core/iter_build.h"
#include "cpu/copy.h"

namespace ember {

EMBER_DEFINE_KERNEL(copy_kernel, ElemFn);

namespace {

void same_device_copy(Tensor& dst, const Tensor& src, const char* op) {
  Tensor s = src;
  // Only an exact alias (same start, shape and strides) is safe to copy element by element;
  // any other overlap, e.g. t[:] = t.T, reads elements already overwritten.
  bool alias = dst.data_ptr() == src.data_ptr() && dst.shape() == src.shape() &&
               dst.strides() == src.strides();
  if (dst.may_overlap(src) && !alias) s = src.clone();
  ElemIter it = make_elem_iter(op, dst, {&s});
  if (it.numel == 0) return;
  copy_kernel.pick(dst.device())(it);
}

}  // namespace

void copy_(Tensor& dst, const Tensor& src, const char* op) {
  if (dst.numel() == 0) {
    broadcast_shapes(op, src.shape(), dst.shape());
    return;
  }
  if (dst.device() == src.device()) return same_device_copy(dst, src, op);
  // Across devices: make a contiguous copy in dst's dtype on the source side, move the bytes,
  // then lay them out on the destination side.
  Tensor staged = Tensor::empty(src.shape(), dst.dtype(), src.device());
  same_device_copy(staged, src, op);
  Tensor landed = Tensor::empty(src.shape(), dst.dtype(), dst.device());
  size_t nbytes = static_cast<size_t>(staged.numel()) * staged.itemsize();
  if (src.device().is_cpu() && dst.device().is_cuda()) {
    cuda::memcpy_h2d(landed.data_ptr(), staged.data_ptr(), nbytes, dst.device().index);
  } else if (src.device().is_cuda() && dst.device().is_cpu()) {
    cuda::memcpy_d2h(landed.data_ptr(), staged.data_ptr(), nbytes, src.device().index);
  } else {
    cuda::memcpy_d2d(landed.data_ptr(), staged.data_ptr(), nbytes, dst.device().index);
  }
  same_device_copy(dst, landed, op);
}

}  // namespace ember
