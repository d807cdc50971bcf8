// 2-d pooling and upsampling over NCHW planes: plain arguments and dispatch tables. The binding
// (python/bind_pool.cpp) checks the arguments, computes the output size, casts float16 /
// bfloat16 to float32, makes every operand contiguous and allocates the results; kernels see
// `planes` (N * C) contiguous (ih, iw) input planes in float32 or float64 and are never called
// when the input or the output is empty.
#pragma once
#include "core/dispatch.h"

namespace ember {

enum class PoolMode : int { Max, Avg, AdaptiveAvg, AdaptiveMax, Nearest, Bilinear };

struct PoolArgs {
  PoolMode mode;
  DType dtype;                 // float32 or float64, every floating operand
  int64_t planes;              // N * C
  int64_t ih, iw, oh, ow;      // input and output plane sizes
  int64_t kh, kw, sh, sw;      // Max / Avg: kernel and stride
  int64_t ph, pw, dh, dw;      // Max / Avg: padding; Max: dilation
  bool count_include_pad;      // Avg
  int64_t divisor;             // Avg: divisor_override, or 0 for none
  bool align_corners;          // Bilinear
  double scale_h, scale_w;     // Nearest / Bilinear: the user's scale factor, or 0 for none
  // Forward: x (input) -> y (output) and ind (Max / AdaptiveMax: flat index in ih * iw).
  // Backward: gy (grad of the output) and ind -> gx (grad of the input, fully written).
  const void* x;
  void* y;
  int64_t* ind;
  const void* gy;
  void* gx;
  const int64_t* ind_in;
};
using PoolFn = void (*)(const PoolArgs&);

extern DispatchTable<PoolFn> pool2d_kernel;
extern DispatchTable<PoolFn> pool2d_backward_kernel;

}  // namespace ember
