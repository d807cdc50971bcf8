// conv2d forward and backward. im2col turns each (image, group) into a (C/g * kh * kw, Ho * Wo)
// matrix so that the convolution is one GEMM, W_g @ col, with the bias fused as a per-row
// term; 1x1 stride-1 unpadded convolutions use the input itself as that matrix. Direct kernels
// (conv.cpp) instead: depthwise ones (forward and backward) and the forward of dense ones with
// at most 4 input channels (the stem). Backward: gw_g += gy_g @ col^T, gx = col2im(W_g^T @ gy_g).
// GEMM shapes: small images are put side by side (one wider GEMM for several images), large
// ones are cut into bands of output rows (a cache-sized col per GEMM).
// Threads: with at least two images each thread (with its own scratch) takes blocks of images
// from a shared counter and runs single-threaded GEMMs; otherwise the GEMM gets every thread.
// Work: 2 * N * O * Ho * Wo * C/g * kh * kw FLOPs forward, twice that backward, i.e.
// 2 * C/g * kh * kw per output element: 1152 for 64->64 3x3, 294 for the 3->64 7x7 stem, 128
// for a 64->256 1x1 (compute-bound), but 18 for 1->32 3x3 and for a 3x3 depthwise: bound by
// the memory traffic, at least input + output once (8 bytes per output element in float32
// for the depthwise: 51 MB, 2.1 ms at 24 GB/s for N32 64x56x56), i.e. 2.25 FLOP per byte.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv.h"
#include "cpu/gemm/gemm.h"
#include "cpu/winograd.h"
#include "cuda/conv_op.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(im2col_kernel, ColFn);
EMBER_DEFINE_KERNEL(col2im_kernel, ColFn);
EMBER_DEFINE_KERNEL(conv_depthwise_kernel, DepthwiseFn);
EMBER_DEFINE_KERNEL(conv_depthwise_backward_kernel, DepthwiseBackwardFn);
EMBER_DEFINE_KERNEL(conv_direct_kernel, DirectFn);
EMBER_DEFINE_KERNEL(channel_sum_kernel, ChannelSumFn);

namespace py_bind {
namespace {

constexpr const char* kOp = "conv2d";

struct Conv {
  int64_t n, c, o, groups, cg, og;
  ConvGeom g;      // per-group geometry (g.c == cg)
  int64_t k, l;    // GEMM depth cg * kh * kw and width oh * ow
  bool direct;     // 1x1, stride 1, no padding: the input is the col matrix
  DType cd;
};



Conv make_conv(const Tensor& x, const Tensor& w, const std::vector<int64_t>& stride,
               const std::vector<int64_t>& pad, const std::vector<int64_t>& dil, int64_t groups) {
  if (x.ndim() != 4 || w.ndim() != 4)
    fail<ValueError>(kOp, "expected a 4-d input (N, C, H, W) and a 4-d weight, got input ",
                     describe(x), " and weight ", describe(w));
  if (!is_floating(x.dtype()) || !is_floating(w.dtype()))
    fail<TypeError>(kOp, "expected floating point input and weight, got input ", describe(x),
                    " and weight ", describe(w));
  if (x.device() != w.device())
    fail<ValueError>(kOp, "expected input and weight on the same device, got ",
                     x.device().str(), " and ", w.device().str());
  if (stride.size() != 2 || pad.size() != 4 || dil.size() != 2)
    fail<ValueError>(kOp, "expected 2 strides, 4 paddings and 2 dilations");
  if (stride[0] <= 0 || stride[1] <= 0 || dil[0] <= 0 || dil[1] <= 0)
    fail<ValueError>(kOp, "stride and dilation must be positive, got stride (", stride[0], ", ",
                     stride[1], ") and dilation (", dil[0], ", ", dil[1], ")");
  for (int64_t p : pad)
    if (p < 0) fail<ValueError>(kOp, "padding must be non-negative, got ", p);
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  if (groups <= 0) fail<ValueError>(kOp, "groups must be positive, got ", groups);
  if (ws[0] % groups != 0)
    fail<ValueError>(kOp, "groups=", groups, " does not divide the ", ws[0],
                     " output channels of weight of shape ", shape_str(ws));
  if (xs[1] % groups != 0 || xs[1] != ws[1] * groups)
    fail<ValueError>(kOp, "input of shape ", shape_str(xs), " has ", xs[1],
                     " channels but weight of shape ", shape_str(ws), " with groups=", groups,
                     " expects ", ws[1] * groups);
  if (ws[1] == 0) fail<ValueError>(kOp, "weight of shape ", shape_str(ws), " has no channels");
  Conv cv{};
  cv.n = xs[0];
  cv.c = xs[1];
  cv.o = ws[0];
  cv.groups = groups;
  cv.cg = ws[1];
  cv.og = cv.o / groups;
  ConvGeom& g = cv.g;
  g = {cv.cg, xs[2], xs[3], ws[2], ws[3], 0, 0, stride[0], stride[1], pad[0], pad[2],
       dil[0], dil[1]};
  const int64_t eh = dil[0] * (ws[2] - 1) + 1, ew = dil[1] * (ws[3] - 1) + 1;
  const int64_t ph = xs[2] + pad[0] + pad[1], pw = xs[3] + pad[2] + pad[3];
  if (eh > ph || ew > pw)
    fail<ValueError>(kOp, "kernel of size (", eh, ", ", ew, ") (dilated) is larger than the ",
                     "padded input of size (", ph, ", ", pw, "); input ", shape_str(xs),
                     ", weight ", shape_str(ws));
  g.oh = (ph - eh) / stride[0] + 1;
  g.ow = (pw - ew) / stride[1] + 1;
  cv.k = cv.cg * g.kh * g.kw;
  cv.l = g.oh * g.ow;
  cv.direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && pad[0] == 0 && pad[1] == 0 &&
              pad[2] == 0 && pad[3] == 0;
  cv.cd = compute_dtype(promote_types(x.dtype(), w.dtype()));
  return cv;
}

bool depthwise(const Conv& cv) { return cv.cg == 1 && cv.groups == cv.c && cv.groups > 1; }

// Winograd F(4x4, 3x3) (cpu/winograd.h) for float32 3x3 stride-1 convolutions. "auto" takes
// it where it measured faster than im2col; "winograd" wherever it applies (tests, benchmarks).
// The initial choice comes from EMBER_CONV_ALGORITHM.
const char* const kConvAlgorithms[] = {"auto", "im2col", "winograd"};
enum ConvAlgorithm : int { kAuto = 0, kIm2col = 1, kWinograd = 2 };

int parse_conv_algorithm(const std::string& name) {
  for (int i = 0; i < 3; ++i)
    if (name == kConvAlgorithms[i]) return i;
  fail<ValueError>("set_conv_algorithm", "expected 'auto', 'im2col' or 'winograd', got '", name,
                   "'");
  return kAuto;
}

std::atomic<int> conv_algorithm{[] {
  const char* env = std::getenv("EMBER_CONV_ALGORITHM");
  for (int i = 0; env && i < 3; ++i)
    if (std::string(env) == kConvAlgorithms[i]) return i;
  return static_cast<int>(kAuto);
}()};

// Whether the convolution of cin channels into cout channels of an oh x ow output (the input
// gradient swaps them) goes through Winograd.
bool use_winograd(const Conv& cv, int64_t cin, int64_t cout, int64_t oh, int64_t ow) {
  const int algo = conv_algorithm.load();
  const ConvGeom& g = cv.g;
  if (algo == kIm2col || cv.cd != DType::Float32 || cv.groups != 1 || g.kh != 3 || g.kw != 3 ||
      g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1 || cv.n == 0 || oh == 0 || ow == 0)
    return false;
  if (algo == kWinograd) return true;
  // Measured (1 thread, AVX-512): faster than im2col in the forward and both gradients from
  // 8 channels on (16 keeps a margin) and down to 3x3 outputs (9 of a tile's 16 used); slower
  // on a handful of tiles (4 images of 4x4). The transformed filters take 36 * cin * cout
  // floats (4x the weight): above a million filters (151 MB) im2col keeps memory down.
  const int64_t tiles = (oh + 3) / 4 * ((ow + 3) / 4);
  return cin >= 16 && cout >= 16 && cin * cout <= (int64_t{1} << 20) && cv.n * tiles >= 32 &&
         2 * oh * ow >= tiles * 16;
}

// The forward convolution, or with input_grad the one of grad_output with the rotated,
// transposed weight that gives the input gradient.
WinoGeom wino_geom(const Conv& cv, bool input_grad) {
  const ConvGeom& g = cv.g;
  WinoGeom w = input_grad ? WinoGeom{cv.n, cv.o, g.oh, g.ow, cv.c, g.h, g.w, 2 - g.pt, 2 - g.pl}
                          : WinoGeom{cv.n, cv.c, g.h, g.w, cv.o, g.oh, g.ow, g.pt, g.pl};
  w.th = (w.oh + 3) / 4;
  w.tw = (w.ow + 3) / 4;
  return w;
}

// Few input channels: im2col would copy each input value kh * kw times to feed a GEMM of
// depth C * kh * kw only; the direct kernel reads a padded copy of the input instead. Measured
// (1 thread, float32): 25% faster for 4->32 3x3 and 3->32 5x5 on 64x64, even with the GEMM
// for the 3->64 7x7 stride-2 stem, but 1.5x slower for 1->32 3x3 (depth 9: the stores of its
// register block are not amortised), hence the minimum depth.
bool direct_dense(const Conv& cv) {
  return cv.groups == 1 && cv.cg <= 4 && cv.k >= 27 && !cv.direct && cv.g.ow >= 8;
}

GemmProblem gemm(const Conv& cv, int64_t m, int64_t n, int64_t k, const void* a, int64_t rsa,
                 int64_t csa, const void* b, int64_t rsb, int64_t csb, void* c, double beta,
                 int threads) {
  return gemm_problem(cv.cd, m, n, k, a, rsa, csa, b, rsb, csb, c, n, beta, threads);
}

int64_t batch_chunks(int64_t n) {
  const int threads = get_num_threads();
  return (threads > 1 && n >= 2) ? std::min<int64_t>(threads, n) : 1;
}

// Runs body(chunk, first_image, end_image, gemm_threads, first_of_chunk) over blocks of at
// most nb images. With several threads and images each thread is a chunk (with its own
// scratch). For the forward (`dynamic`) a chunk takes the next block from a shared counter: a
// static split waits for its slowest part, and on a shared machine one core is often busy
// with something else. The backward sums a weight-gradient partial per chunk, so there each
// chunk gets a fixed range of images: which images a partial holds, and so the rounding of
// the sum, must not depend on thread timing (a run and its resumed copy match bit for bit).
// Otherwise a single chunk runs every block with GEMMs that take every thread. ran[ch]: chunk
// ch ran a block.
template <class F>
void for_batches(int64_t n, int64_t nb, bool dynamic, std::vector<char>& ran, const F& body) {
  const int threads = get_num_threads();
  const int64_t chunks = batch_chunks(n);
  ran.assign(chunks, 0);
  if (chunks == 1) {
    for (int64_t i = 0; i < n; i += nb) body(0, i, std::min(n, i + nb), threads, i == 0);
    ran[0] = n > 0;
    return;
  }
  if (!dynamic) {
    parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t ch = b; ch < e; ++ch) {
        const int64_t lo = n * ch / chunks, hi = n * (ch + 1) / chunks;
        for (int64_t i = lo; i < hi; i += nb) body(ch, i, std::min(hi, i + nb), 1, i == lo);
        ran[ch] = hi > lo;
      }
    });
    return;
  }
  // Blocks small enough that every thread gets about two.
  nb = std::max<int64_t>(1, std::min(nb, n / (2 * chunks)));
  std::atomic<int64_t> next{0};
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      for (int64_t i = next.fetch_add(nb); i < n; i = next.fetch_add(nb)) {
        body(ch, i, std::min(n, i + nb), 1, !ran[ch]);
        ran[ch] = 1;
      }
    }
  });
}

// Columns per GEMM. im2col writes col (K x cols) and the GEMM's packing reads it back right
// away, making a copy of the same size, so col is sized to a share of the L2 cache (2 MiB on
// the machines measured), but at least kMinCols wide so that packing W is amortised.
constexpr int64_t kColBytes = 512 << 10, kMinCols = 128, kMaxCols = 2048;
int64_t gemm_cols(const Conv& cv) {
  const int64_t per_col = cv.k * static_cast<int64_t>(itemsize(cv.cd));
  return std::clamp<int64_t>(kColBytes / per_col, kMinCols, kMaxCols);
}

// Small outputs are batched side by side (col is K x (nb * L)) so that each GEMM is wide
// enough; the output then goes through a scratch matrix. A large image is convolved a band of
// output rows at a time: a band is a convolution of fewer output rows with the top padding
// shifted by the rows skipped.
bool banded(const Conv& cv) { return !cv.direct && cv.l >= 2 * gemm_cols(cv); }
int64_t band_rows(const Conv& cv) { return std::max<int64_t>(1, gemm_cols(cv) / cv.g.ow); }

int64_t block_images(const Conv& cv) {
  if (cv.direct || banded(cv)) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(gemm_cols(cv) / cv.l, cv.n));
}

// Scratch of one chunk: col (K x nb*L) and, when nb > 1, an (og x nb*L) output/grad matrix.
struct Scratch {
  int64_t nb, col_bytes, tmp_bytes;
  explicit Scratch(const Conv& cv) : nb(block_images(cv)) {
    const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
    const int64_t band = banded(cv) ? band_rows(cv) * cv.g.ow : nb * cv.l;
    col_bytes = cv.direct ? 0 : isz * cv.k * std::min(band, nb * cv.l);
    tmp_bytes = nb > 1 ? isz * cv.og * nb * cv.l : 0;
  }
  int64_t bytes() const { return col_bytes + tmp_bytes; }
};

// Copies rows of L between a (og x m*L) block matrix and images i0.. of an (N, O, L) tensor.
void block_copy(const Conv& cv, char* nchw, char* block, int64_t i0, int64_t m, int64_t gi,
                bool to_block) {
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd)), width = m * cv.l;
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t o = 0; o < cv.og; ++o) {
      char* t = nchw + ((i0 + j) * cv.o + gi * cv.og + o) * cv.l * isz;
      char* b = block + (o * width + j * cv.l) * isz;
      std::memcpy(to_block ? b : t, to_block ? t : b, cv.l * isz);
    }
  }
}

void im2col_block(const Conv& cv, const char* xp, char* col, int64_t i0, int64_t m, int64_t gi,
                  Device dev) {
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
  const int64_t plane = cv.g.h * cv.g.w;
  ColFn fn = im2col_kernel.pick(dev);
  for (int64_t j = 0; j < m; ++j)
    fn(ColArgs{cv.g, const_cast<char*>(xp + ((i0 + j) * cv.c + gi * cv.cg) * plane * isz),
               col + j * cv.l * isz, m * cv.l, cv.cd});
}

void forward_banded(const Conv& cv, const char* src, const char* wg, const char* bg, char* yg,
                    char* col, int threads, Device dev) {
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
  const int64_t rows = band_rows(cv);
  for (int64_t oy0 = 0; oy0 < cv.g.oh; oy0 += rows) {
    ConvGeom band = cv.g;
    band.oh = std::min(rows, cv.g.oh - oy0);
    band.pt = cv.g.pt - oy0 * cv.g.sh;
    const int64_t width = band.oh * band.ow;
    im2col_kernel.pick(dev)(ColArgs{band, const_cast<char*>(src), col, width, cv.cd});
    GemmProblem p = gemm(cv, cv.og, width, cv.k, wg, cv.k, 1, col, width, 1,
                         yg + oy0 * cv.g.ow * isz, 0.0, threads);
    p.rsc = cv.l;
    if (bg) {
      p.bias_kind = GemmBias::PerRow;
      p.bias = bg;
      p.bias_stride = 1;
    }
    gemm_kernel.pick(dev)(p);
  }
}

void forward_chunk(const Conv& cv, const char* xp, const char* wp, const char* bp, char* yp,
                   char* scratch, int64_t b, int64_t e, int threads, Device dev) {
  const Scratch sc(cv);
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
  const int64_t plane = cv.g.h * cv.g.w;
  char* col = scratch;
  char* tmp = scratch + sc.col_bytes;
  GemmFn gemm_fn = gemm_kernel.pick(dev);
  for (int64_t i0 = b; i0 < e; i0 += sc.nb) {
    const int64_t m = std::min(sc.nb, e - i0), width = m * cv.l;
    for (int64_t gi = 0; gi < cv.groups; ++gi) {
      const char* src = xp + (i0 * cv.c + gi * cv.cg) * plane * isz;
      if (banded(cv)) {
        forward_banded(cv, src, wp + gi * cv.og * cv.k * isz, bp ? bp + gi * cv.og * isz : bp,
                       yp + (i0 * cv.o + gi * cv.og) * cv.l * isz, col, threads, dev);
        continue;
      }
      if (!cv.direct) im2col_block(cv, xp, col, i0, m, gi, dev);
      char* out = m > 1 ? tmp : yp + (i0 * cv.o + gi * cv.og) * cv.l * isz;
      GemmProblem p = gemm(cv, cv.og, width, cv.k, wp + gi * cv.og * cv.k * isz, cv.k, 1,
                           cv.direct ? src : col, width, 1, out, 0.0, threads);
      if (bp) {
        p.bias_kind = GemmBias::PerRow;
        p.bias = bp + gi * cv.og * isz;
        p.bias_stride = 1;
      }
      gemm_fn(p);
      if (m > 1) block_copy(cv, yp, tmp, i0, m, gi, false);
    }
  }
}

// ---- CUDA tensors: whole-op kernels (cuda/conv.cu through python/conv_cuda.cpp) ----------

ConvOpArgs op_args(const Conv& cv) {
  ConvOpArgs a{};
  a.n = cv.n, a.c = cv.c, a.o = cv.o, a.groups = cv.groups, a.g = cv.g, a.dtype = cv.cd;
  return a;
}

Tensor forward_cuda(const Tensor& x, const Tensor& w, const std::optional<Tensor>& bias,
                    const Conv& cv) {
  if (bias && (bias->ndim() != 1 || bias->shape()[0] != cv.o ||
               !is_floating(bias->dtype()) || bias->device() != x.device()))
    fail<ValueError>(kOp, "expected a floating bias of shape (", cv.o, ") on ",
                     x.device().str(), ", got ", describe(*bias), " on ", bias->device().str());
  Tensor y = conv2d_cuda(x, w, bias ? *bias : Tensor(), op_args(cv));
  return cast(y, promote_types(x.dtype(), w.dtype()));
}

py::tuple backward_cuda(const Tensor& grad, const Tensor& x, const Tensor& w, const Conv& cv,
                        bool need_x, bool need_w, bool need_b) {
  const Shape ys{cv.n, cv.o, cv.g.oh, cv.g.ow};
  if (grad.shape() != ys || !is_floating(grad.dtype()) || grad.device() != x.device())
    fail<ValueError>(kOp, "grad_output ", describe(grad), " on ", grad.device().str(),
                     " does not match the output shape ", shape_str(ys), " on ",
                     x.device().str());
  const auto r = conv2d_backward_cuda(grad, x, w, op_args(cv), need_x, need_w, need_b);
  const DType res = promote_types(x.dtype(), w.dtype());
  auto out = [&](const Tensor& t) -> py::object {
    return t.defined() ? py::cast(cast(t, res)) : py::none();
  };
  return py::make_tuple(out(r[0]), out(r[1]), out(r[2]));
}

// ---- CPU ---------------------------------------------------------------------------------

Tensor forward_impl(const Tensor& x, const Tensor& w, const std::optional<Tensor>& bias,
                    const Conv& cv) {
  if (x.device().is_cuda()) return forward_cuda(x, w, bias, cv);
  const DType res = promote_types(x.dtype(), w.dtype());
  const Tensor xin = cast(x, cv.cd).contiguous(), win = cast(w, cv.cd).contiguous();
  Tensor bin;
  if (bias) {
    if (bias->ndim() != 1 || bias->shape()[0] != cv.o || !is_floating(bias->dtype()))
      fail<ValueError>(kOp, "expected a floating bias of shape (", cv.o, "), got ",
                       describe(*bias));
    bin = cast(*bias, cv.cd).contiguous();
  }
  Tensor y = Tensor::empty({cv.n, cv.o, cv.g.oh, cv.g.ow}, cv.cd, x.device());
  if (y.numel() == 0) return cast(y, res);
  const char* xp = xin.data_ptr();
  const char* wp = win.data_ptr();
  const char* bp = bin.defined() ? bin.data_ptr() : nullptr;
  char* yp = y.data_ptr();
  const Device dev = x.device();
  py::gil_scoped_release no_gil;
  if (use_winograd(cv, cv.c, cv.o, cv.g.oh, cv.g.ow)) {
    winograd_conv2d(wino_geom(cv, false), reinterpret_cast<const float*>(xp),
                    reinterpret_cast<const float*>(wp), false,
                    reinterpret_cast<const float*>(bp), reinterpret_cast<float*>(yp), dev);
    return cast(y, res);
  }
  if (depthwise(cv)) {
    DepthwiseArgs a{cv.g, cv.n, cv.og, xp, wp, bp, yp, cv.cd};
    a.g.c = cv.c;
    conv_depthwise_kernel.pick(dev)(a);
    return cast(y, res);
  }
  if (direct_dense(cv)) {
    conv_direct_kernel.pick(dev)(DirectArgs{cv.g, cv.n, cv.o, xp, wp, bp, yp, cv.cd});
    return cast(y, res);
  }
  const Scratch sc(cv);
  std::unique_ptr<char[]> buf(new char[sc.bytes() * batch_chunks(cv.n) + 1]);
  std::vector<char> ran;
  for_batches(cv.n, sc.nb, true, ran, [&](int64_t ch, int64_t b, int64_t e, int threads, bool) {
    forward_chunk(cv, xp, wp, bp, yp, buf.get() + ch * sc.bytes(), b, e, threads, dev);
  });
  return cast(y, res);
}

template <class T>
void add_into(char* dst, const char* src, int64_t n) {
  T* d = reinterpret_cast<T*>(dst);
  const T* s = reinterpret_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

// Backward of one (image, group) of a banded convolution: per band of output rows, gw_g +=
// gy_band @ col_band^T and col2im(W_g^T @ gy_band) into gx (zeroed first). `first`: gw_g is
// overwritten by the first band.
void backward_banded(const Conv& cv, const char* gy, const char* src, const char* wg, char* gx,
                     char* gw, char* col, bool first, int threads, Device dev) {
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
  const int64_t rows = band_rows(cv);
  if (gx) std::memset(gx, 0, cv.cg * cv.g.h * cv.g.w * isz);
  GemmFn gemm_fn = gemm_kernel.pick(dev);
  for (int64_t oy0 = 0; oy0 < cv.g.oh; oy0 += rows) {
    ConvGeom band = cv.g;
    band.oh = std::min(rows, cv.g.oh - oy0);
    band.pt = cv.g.pt - oy0 * cv.g.sh;
    const int64_t width = band.oh * band.ow;
    const char* gyb = gy + oy0 * cv.g.ow * isz;  // (og x width), rows cv.l apart
    if (gw) {
      im2col_kernel.pick(dev)(ColArgs{band, const_cast<char*>(src), col, width, cv.cd});
      gemm_fn(gemm(cv, cv.og, cv.k, width, gyb, cv.l, 1, col, 1, width, gw,
                   first && oy0 == 0 ? 0.0 : 1.0, threads));
    }
    if (gx) {
      gemm_fn(gemm(cv, cv.k, width, cv.og, wg, 1, cv.k, gyb, cv.l, 1, col, 0.0, threads));
      col2im_kernel.pick(dev)(ColArgs{band, gx, col, width, cv.cd});
    }
  }
}

// gw (into gw_out, overwritten when `first`, else accumulated) and gx for images [b, e).
void backward_chunk(const Conv& cv, char* gyp, const char* xp, const char* wp, char* gxp,
                    char* gw_out, char* scratch, int64_t b, int64_t e, bool first, int threads,
                    Device dev) {
  const Scratch sc(cv);
  const int64_t isz = static_cast<int64_t>(itemsize(cv.cd));
  const int64_t plane = cv.g.h * cv.g.w;
  char* col = scratch;
  char* tmp = scratch + sc.col_bytes;
  GemmFn gemm_fn = gemm_kernel.pick(dev);
  for (int64_t i0 = b; i0 < e; i0 += sc.nb) {
    const int64_t m = std::min(sc.nb, e - i0), width = m * cv.l;
    for (int64_t gi = 0; gi < cv.groups; ++gi) {
      const int64_t slab_off = (i0 * cv.c + gi * cv.cg) * plane * isz;
      const char* gy = gyp + (i0 * cv.o + gi * cv.og) * cv.l * isz;
      if (banded(cv)) {
        backward_banded(cv, gy, xp + slab_off, wp + gi * cv.og * cv.k * isz,
                        gxp ? gxp + slab_off : nullptr,
                        gw_out ? gw_out + gi * cv.og * cv.k * isz : nullptr, col,
                        first && i0 == b, threads, dev);
        continue;
      }
      if (m > 1) {
        block_copy(cv, gyp, tmp, i0, m, gi, true);
        gy = tmp;
      }
      if (gw_out) {
        if (!cv.direct) im2col_block(cv, xp, col, i0, m, gi, dev);
        // gw_g (og x k) += gy_g (og x width) @ col^T (width x k)
        gemm_fn(gemm(cv, cv.og, cv.k, width, gy, width, 1, cv.direct ? xp + slab_off : col, 1,
                     width, gw_out + gi * cv.og * cv.k * isz, first && i0 == b ? 0.0 : 1.0,
                     threads));
      }
      if (gxp) {
        // col (k x width) = W_g^T (k x og) @ gy_g (og x width), scattered back per image
        char* gx = gxp + slab_off;
        gemm_fn(gemm(cv, cv.k, width, cv.og, wp + gi * cv.og * cv.k * isz, 1, cv.k, gy, width,
                     1, cv.direct ? gx : col, 0.0, threads));
        for (int64_t j = 0; !cv.direct && j < m; ++j) {
          char* img = gxp + ((i0 + j) * cv.c + gi * cv.cg) * plane * isz;
          std::memset(img, 0, cv.cg * plane * isz);
          col2im_kernel.pick(dev)(ColArgs{cv.g, img, col + j * cv.l * isz, width, cv.cd});
        }
      }
    }
  }
}

py::tuple backward_impl(const Tensor& grad, const Tensor& x, const Tensor& w, const Conv& cv,
                        bool need_x, bool need_w, bool need_b) {
  if (x.device().is_cuda()) return backward_cuda(grad, x, w, cv, need_x, need_w, need_b);
  const Shape ys{cv.n, cv.o, cv.g.oh, cv.g.ow};
  if (grad.shape() != ys || !is_floating(grad.dtype()))
    fail<ValueError>(kOp, "grad_output ", describe(grad), " does not match the output shape ",
                     shape_str(ys));
  const DType res_x = promote_types(x.dtype(), w.dtype());
  const Tensor gy = cast(grad, cv.cd).contiguous();
  const Tensor xin = cast(x, cv.cd).contiguous(), win = cast(w, cv.cd).contiguous();
  Tensor gx, gw, gb;
  if (need_x) gx = Tensor::empty(x.shape(), cv.cd, x.device());
  if (need_w) gw = Tensor::empty(w.shape(), cv.cd, x.device());
  if (need_b) gb = Tensor::empty({cv.o}, cv.cd, x.device());
  const size_t isz = itemsize(cv.cd);
  const int64_t wnum = w.numel();
  {
    py::gil_scoped_release no_gil;
    if (gx.defined() && cv.l == 0) std::memset(gx.data_ptr(), 0, gx.numel() * isz);
    if (gw.defined() && (cv.n == 0 || cv.l == 0)) std::memset(gw.data_ptr(), 0, wnum * isz);
    if (gb.defined())
      channel_sum_kernel.pick(x.device())(ChannelSumArgs{cv.n, cv.o, cv.l, gy.data_ptr(),
                                                         gb.data_ptr(), cv.cd});
    const bool wino_x = need_x && cv.n > 0 && cv.l > 0 &&
                        use_winograd(cv, cv.o, cv.c, cv.g.h, cv.g.w);
    if (wino_x)
      winograd_conv2d(wino_geom(cv, true), reinterpret_cast<const float*>(gy.data_ptr()),
                      reinterpret_cast<const float*>(win.data_ptr()), true, nullptr,
                      reinterpret_cast<float*>(gx.data_ptr()), x.device());
    const bool wino_w = need_w && cv.n > 0 && cv.l > 0 &&
                        use_winograd(cv, cv.c, cv.o, cv.g.oh, cv.g.ow);
    if (wino_w)
      winograd_conv2d_weight_grad(wino_geom(cv, false),
                                  reinterpret_cast<const float*>(xin.data_ptr()),
                                  reinterpret_cast<const float*>(gy.data_ptr()),
                                  reinterpret_cast<float*>(gw.data_ptr()), x.device());
    need_x = need_x && !wino_x;  // the rest computes what is left
    need_w = need_w && !wino_w;
    if ((need_x || need_w) && cv.n > 0 && cv.l > 0 && depthwise(cv)) {
      DepthwiseBackwardArgs a{cv.g, cv.n, cv.og, gy.data_ptr(), xin.data_ptr(),
                              win.data_ptr(), need_x ? gx.data_ptr() : nullptr,
                              need_w ? gw.data_ptr() : nullptr, cv.cd};
      a.g.c = cv.c;
      conv_depthwise_backward_kernel.pick(x.device())(a);
    } else if ((need_x || need_w) && cv.n > 0 && cv.l > 0) {
      const Scratch sc(cv);
      const int64_t per = sc.bytes() + (need_w ? static_cast<int64_t>(isz) * wnum : 0);
      std::unique_ptr<char[]> buf(new char[per * batch_chunks(cv.n) + 1]);
      std::vector<char> ran;
      for_batches(cv.n, sc.nb, false, ran,
                  [&](int64_t ch, int64_t b, int64_t e, int t, bool first) {
        char* mine = buf.get() + ch * per;
        char* gw_out = !need_w ? nullptr : ch == 0 ? gw.data_ptr() : mine + sc.bytes();
        backward_chunk(cv, gy.data_ptr(), xin.data_ptr(), win.data_ptr(),
                       need_x ? gx.data_ptr() : nullptr, gw_out, mine, b, e, first, t,
                       x.device());
      });
      if (need_w && !ran[0]) std::memset(gw.data_ptr(), 0, wnum * isz);
      for (int64_t ch = 1; need_w && ch < static_cast<int64_t>(ran.size()); ++ch) {
        if (!ran[ch]) continue;
        const char* part = buf.get() + ch * per + sc.bytes();
        if (cv.cd == DType::Float64) add_into<double>(gw.data_ptr(), part, wnum);
        else add_into<float>(gw.data_ptr(), part, wnum);
      }
    }
  }
  auto out = [](const Tensor& t, DType d) -> py::object {
    return t.defined() ? py::cast(cast(t, d)) : py::none();
  };
  return py::make_tuple(out(gx, res_x), out(gw, res_x), out(gb, res_x));
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("set_conv_algorithm", [](const std::string& name) {
    conv_algorithm.store(parse_conv_algorithm(name));
  }, py::arg("name"));
  m.def("get_conv_algorithm", [] { return std::string(kConvAlgorithms[conv_algorithm.load()]); });
  m.def("conv2d", [](const Tensor& x, const Tensor& w, const std::optional<Tensor>& bias,
                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                     const std::vector<int64_t>& dilation, int64_t groups) {
    return forward_impl(x, w, bias, make_conv(x, w, stride, padding, dilation, groups));
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"),
     py::arg("padding"), py::arg("dilation"), py::arg("groups"));
  m.def("conv2d_backward", [](const Tensor& g, const Tensor& x, const Tensor& w,
                              const std::vector<int64_t>& stride,
                              const std::vector<int64_t>& padding,
                              const std::vector<int64_t>& dilation, int64_t groups, bool need_x,
                              bool need_w, bool need_b) {
    return backward_impl(g, x, w, make_conv(x, w, stride, padding, dilation, groups), need_x,
                         need_w, need_b);
  }, py::arg("grad_output"), py::arg("input"), py::arg("weight"), py::arg("stride"),
     py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("need_input"),
     py::arg("need_weight"), py::arg("need_bias"));
}

}  // namespace py_bind
}  // namespace ember
