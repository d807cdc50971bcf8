// conv2d building blocks: im2col / col2im over one (image, group) slab, direct depthwise
// forward and backward kernels, a direct forward for few input channels and the per-channel
// bias gradient. The orchestration (GEMM calls, batching, threads)
// lives in python/bind_conv.cpp; kernels see contiguous float32 or float64 NCHW operands and
// run single-threaded unless stated, since the caller already splits the batch.
#pragma once
#include "core/dispatch.h"

namespace ember {

struct ConvGeom {
  int64_t c, h, w;        // input channels of the slab (one group), height, width
  int64_t kh, kw;         // kernel
  int64_t oh, ow;         // output
  int64_t sh, sw;         // stride
  int64_t pt, pl;         // top and left padding (bottom/right follow from oh, ow)
  int64_t dh, dw;         // dilation
};

struct ColArgs {
  ConvGeom g;
  void* img;    // (c, h, w) slab: im2col reads it, col2im accumulates into it (+=)
  void* col;    // (c * kh * kw, oh * ow) with rows `ld` apart: im2col writes, col2im reads
  int64_t ld;   // >= oh * ow; several images side by side make one wider GEMM operand
  DType dtype;  // float32 or float64
};
using ColFn = void (*)(const ColArgs&);
extern DispatchTable<ColFn> im2col_kernel;
extern DispatchTable<ColFn> col2im_kernel;

// Depthwise forward over the whole batch, parallel over (n, o): output channel o reads input
// channel o / mult, where mult = o_total / c. y = conv(x, w) + bias (bias may be null).
struct DepthwiseArgs {
  ConvGeom g;  // c is the total number of input channels here
  int64_t n, mult;
  const void* x;
  const void* w;     // (c * mult, 1, kh, kw)
  const void* bias;  // (c * mult) or null
  void* y;
  DType dtype;
};
using DepthwiseFn = void (*)(const DepthwiseArgs&);
extern DispatchTable<DepthwiseFn> conv_depthwise_kernel;

// Depthwise backward, parallel over input channels (each owns its gx planes and the gw rows
// of its mult output channels, so nothing races). gx / gw null: not wanted.
struct DepthwiseBackwardArgs {
  ConvGeom g;  // c: all input channels
  int64_t n, mult;
  const void* gy;  // (n, c * mult, oh, ow)
  const void* x;
  const void* w;
  void* gx;  // (n, c, h, w), overwritten
  void* gw;  // (c * mult, 1, kh, kw), overwritten
  DType dtype;
};
using DepthwiseBackwardFn = void (*)(const DepthwiseBackwardArgs&);
extern DispatchTable<DepthwiseBackwardFn> conv_depthwise_backward_kernel;

// Dense forward (groups == 1) computed straight from the input, for few input channels
// (where im2col would copy each input value kh * kw times for a shallow GEMM). Parallel over
// (image, band of output rows).
struct DirectArgs {
  ConvGeom g;  // c: input channels
  int64_t n, o;
  const void* x;
  const void* w;     // (o, c, kh, kw)
  const void* bias;  // (o) or null
  void* y;
  DType dtype;
};
using DirectFn = void (*)(const DirectArgs&);
extern DispatchTable<DirectFn> conv_direct_kernel;

// gb[o] = sum over n and the plane of grad_y[n, o, :]; (n, o, plane) contiguous.
struct ChannelSumArgs {
  int64_t n, o, plane;
  const void* g;
  void* out;
  DType dtype;
};
using ChannelSumFn = void (*)(const ChannelSumArgs&);
extern DispatchTable<ChannelSumFn> channel_sum_kernel;

}  // namespace ember
