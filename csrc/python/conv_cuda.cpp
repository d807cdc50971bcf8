// The CUDA side of conv2d's binding: casts and allocates on the device, then runs the whole-op
// entries of cuda/conv.cu. Arguments arrive validated by bind_conv.cpp.
#include "cuda/conv_op.h"
#include "python/ops_common.h"

namespace ember {

// CUDA-only tables, so not listed in `_C.kernels()` (whose tables all have a CPU slot): the
// CPU computes conv2d from the im2col / GEMM tables in bind_conv.cpp. pick() on a build
// without CUDA raises NotImplementedError.
DispatchTable<ConvOpFn> conv2d_forward_cuda_kernel("conv2d_forward_cuda_kernel");
DispatchTable<ConvOpFn> conv2d_backward_cuda_kernel("conv2d_backward_cuda_kernel");

Tensor conv2d_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, ConvOpArgs a) {
  const Tensor xin = py_bind::cast(x, a.dtype).contiguous();
  const Tensor win = py_bind::cast(w, a.dtype).contiguous();
  Tensor bin = bias.defined() ? py_bind::cast(bias, a.dtype).contiguous() : Tensor();
  Tensor y = Tensor::empty({a.n, a.o, a.g.oh, a.g.ow}, a.dtype, x.device());
  if (y.numel() == 0) return y;
  a.x = xin.data_ptr();
  a.w = win.data_ptr();
  a.bias = bin.defined() ? bin.data_ptr() : nullptr;
  a.y = y.data_ptr();
  py_bind::run_kernel(conv2d_forward_cuda_kernel, a, y.numel(), x.device());
  return y;
}

std::array<Tensor, 3> conv2d_backward_cuda(const Tensor& gy, const Tensor& x, const Tensor& w,
                                           ConvOpArgs a, bool need_x, bool need_w,
                                           bool need_b) {
  const Tensor g = py_bind::cast(gy, a.dtype).contiguous();
  const Tensor xin = py_bind::cast(x, a.dtype).contiguous();
  const Tensor win = py_bind::cast(w, a.dtype).contiguous();
  std::array<Tensor, 3> r;
  if (need_x) r[0] = Tensor::empty(x.shape(), a.dtype, x.device());
  if (need_w) r[1] = Tensor::empty(w.shape(), a.dtype, x.device());
  if (need_b) r[2] = Tensor::empty({a.o}, a.dtype, x.device());
  if (!need_x && !need_w && !need_b) return r;
  a.gy = g.data_ptr();
  a.x = xin.data_ptr();
  a.w = win.data_ptr();
  a.gx = need_x ? r[0].data_ptr() : nullptr;
  a.gw = need_w ? r[1].data_ptr() : nullptr;
  a.gb = need_b ? r[2].data_ptr() : nullptr;
  py_bind::run_kernel(conv2d_backward_cuda_kernel, a, g.numel() + x.numel(), x.device());
  return r;
}

}  // namespace ember
