// conv2d on CUDA as whole ops: the binding (python/bind_conv.cpp) validates the arguments as
// for the CPU and hands CUDA tensors to conv2d_cuda / conv2d_backward_cuda
// (python/conv_cuda.cpp), which cast, allocate and call the device entries that
// csrc/cuda/conv.cu registers. Plain C++: the CPU-only build compiles it too (the tables then
// have no CUDA slot, and CUDA tensors cannot exist).
#pragma once
#include <array>

#include "core/dispatch.h"
#include "cpu/conv.h"

namespace ember {

// Contiguous NCHW float32 / float64 operands on one device. g is the per-group geometry
// (g.c == c / groups); pointers not wanted are null.
struct ConvOpArgs {
  int64_t n, c, o, groups;
  ConvGeom g;
  DType dtype;
  const void* x;
  const void* w;     // (o, c / groups, kh, kw)
  const void* bias;  // forward: (o) or null
  void* y;           // forward: (n, o, oh, ow)
  const void* gy;    // backward: (n, o, oh, ow)
  void* gx;          // backward: (n, c, h, w), overwritten
  void* gw;          // backward: like w, overwritten
  void* gb;          // backward: (o), overwritten
};
using ConvOpFn = void (*)(const ConvOpArgs&);
extern DispatchTable<ConvOpFn> conv2d_forward_cuda_kernel;
extern DispatchTable<ConvOpFn> conv2d_backward_cuda_kernel;

// `shape` carries n, c, o, groups and g; the rest is filled here. bias: undefined for none.
// Results are in the compute dtype of `shape.dtype`; the caller casts them back.
Tensor conv2d_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, ConvOpArgs shape);
std::array<Tensor, 3> conv2d_backward_cuda(const Tensor& gy, const Tensor& x, const Tensor& w,
                                           ConvOpArgs shape, bool need_x, bool need_w,
                                           bool need_b);

}  // namespace ember
