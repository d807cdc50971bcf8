// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016) for 3x3, stride-1 float32 conv2d:
// every 4x4 output tile is A^T [ sum_c (G g G^T) . (B^T d B) ] A over its 6x6 input patch d,
// so the 36 products of the transformed domain are 36 GEMMs (O x C) @ (C x tiles): 36 / 16 =
// 2.25 multiplies per output and input channel instead of 9. The transforms are per-capability
// kernels here; python/winograd_conv.cpp runs them over blocks of tiles with our GEMM between.
#pragma once
#include "core/dispatch.h"

namespace ember {

struct Device;

constexpr int64_t kWinoAlpha = 36;  // 6 x 6 points of the transformed tile
constexpr int64_t kWinoLanes = 16;  // tiles per vector step; leading dimensions are multiples

// One convolution as the kernels see it. Output (y, x) reads input (y - pt + i, x - pl + j),
// i, j in [0, 3), zero outside the input: pt, pl may be negative or exceed 2 (the bottom and
// right padding follow from oh, ow), which is how the input gradient reuses the forward.
struct WinoGeom {
  int64_t n, c, h, w;  // input (n, c, h, w)
  int64_t o, oh, ow;   // output (n, o, oh, ow)
  int64_t pt, pl;
  int64_t th, tw;      // 4x4 tiles per image: ceil(oh / 4), ceil(ow / 4)
};

// U (36, o, c) = G g G^T per filter g, from w (o, c, 3, 3); with `flip`, w is the (c, o, 3, 3)
// weight of the convolution whose input gradient this computes, read transposed and rotated.
struct WinoWeightArgs {
  int64_t o, c;
  const float* w;
  bool flip;
  float* u;
};
using WinoWeightFn = void (*)(const WinoWeightArgs&);
extern DispatchTable<WinoWeightFn> winograd_weight_kernel;

// V (36, c, ld), its matrices astride apart, = B^T d B for tiles [t0, t0 + nt) of the
// (n, th, tw) tile order; up to 15 columns past nt may be written too (junk), so ld >= nt + 16.
struct WinoInputArgs {
  WinoGeom g;
  const float* x;  // (n, c, h, w)
  int64_t t0, nt;
  float* v;
  int64_t ld, astride;
};
using WinoInputFn = void (*)(const WinoInputArgs&);
extern DispatchTable<WinoInputFn> winograd_input_kernel;

// y tiles [t0, t0 + nt) = A^T M A (+ bias), from M (36, o, ld) (matrices astride apart); the
// parts of tiles beyond the output's edge are dropped. Reads up to 15 columns past nt.
struct WinoOutputArgs {
  WinoGeom g;
  const float* m;
  int64_t ld, astride;
  int64_t t0, nt;
  const float* bias;  // (o) or null
  float* y;           // (n, o, oh, ow)
};
using WinoOutputFn = void (*)(const WinoOutputArgs&);
extern DispatchTable<WinoOutputFn> winograd_output_kernel;

// Weight gradient (y = A^T [U . V] A is linear in U = G g G^T, so dL/dg = G^T dU G with
// dU = sum over tiles of (A gy A^T) . V): this writes A gy A^T for tiles [t0, t0 + nt) into
// v (36, o, ld), reading x as grad_output (n, o, oh, ow); zero columns up to the next multiple
// of 16, so ld >= round_up(nt, 16).
using WinoGradOutputFn = void (*)(const WinoInputArgs&);
extern DispatchTable<WinoGradOutputFn> winograd_grad_output_kernel;

// gw (o, c, 3, 3) = G^T dU G from dU (36, o, c).
struct WinoWeightGradArgs {
  int64_t o, c;
  const float* du;
  float* gw;
};
using WinoWeightGradFn = void (*)(const WinoWeightGradArgs&);
extern DispatchTable<WinoWeightGradFn> winograd_weight_grad_kernel;

// The whole convolution, parallel over blocks of tiles (baseline code, python/winograd_conv.cpp).
// w: (g.o, g.c, 3, 3), or with flip the (g.c, g.o, 3, 3) weight of the forward convolution.
void winograd_conv2d(const WinoGeom& g, const float* x, const float* w, bool flip,
                     const float* bias, float* y, Device dev);
// Its weight gradient gw (g.o, g.c, 3, 3) from x and gy (g.n, g.o, g.oh, g.ow).
void winograd_conv2d_weight_grad(const WinoGeom& g, const float* x, const float* gy, float* gw,
                                 Device dev);

}  // namespace ember
