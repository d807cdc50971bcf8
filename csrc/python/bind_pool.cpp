// 2-d pooling and upsampling: max_pool2d, avg_pool2d, adaptive_{avg,max}_pool2d,
// upsample_{nearest,bilinear}2d and their backward functions, which the Python autograd
// Functions (python/ember/nn/_pool.py) call. Inputs are (N, C, H, W) or unbatched (C, H, W);
// arguments and output sizes are checked here with PyTorch's rules (ATen's Pool.h), kernels get
// contiguous float32/float64 planes (float16/bfloat16 compute in float32).
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cpu/pool.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(pool2d_kernel, PoolFn);
EMBER_DEFINE_KERNEL(pool2d_backward_kernel, PoolFn);

namespace py_bind {
namespace {

using Pair = std::vector<int64_t>;
using Scales = std::optional<std::vector<double>>;


// A 1- or 2-element size argument as (h, w); `fallback` when empty (stride defaults to kernel).
std::pair<int64_t, int64_t> hw(const char* op, const char* what, const Pair& v,
                               const Pair& fallback = {}) {
  if (v.empty() && !fallback.empty()) return hw(op, what, fallback);
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() == 2) return {v[0], v[1]};
  fail<ValueError>(op, what, " must be an int or a pair of ints, got ", v.size(), " values");
}

// The input as a contiguous (N, C, H, W) tensor in the compute dtype.
Tensor as_planes(const char* op, const Tensor& x) {
  if (x.ndim() != 3 && x.ndim() != 4)
    fail<ValueError>(op, "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got ",
                     describe(x));
  if (!is_floating(x.dtype()))
    fail<TypeError>(op, "expected a floating point input, got ", describe(x));
  for (int64_t d = x.ndim() - 3; d < x.ndim(); ++d)
    if (x.shape()[d] == 0)
      fail<ValueError>(op, "expected non-zero channel and spatial sizes, got ", describe(x));
  Tensor t = x.to(compute_dtype(x.dtype())).contiguous();
  return x.ndim() == 3 ? t.unsqueeze(0) : t;
}

PoolArgs base_args(PoolMode mode, const Tensor& x4, int64_t oh, int64_t ow) {
  PoolArgs a{};
  a.mode = mode;
  a.dtype = x4.dtype();
  a.planes = x4.shape()[0] * x4.shape()[1];
  a.ih = x4.shape()[2];
  a.iw = x4.shape()[3];
  a.oh = oh;
  a.ow = ow;
  a.kh = a.kw = a.sh = a.sw = a.dh = a.dw = 1;
  return a;
}

// Backward kernels zero the input gradient first, so they run even when the output is empty.
void run(const DispatchTable<PoolFn>& table, const PoolArgs& a, Device device,
         bool backward = false) {
  if (a.planes == 0 || a.ih * a.iw == 0 || (a.oh * a.ow == 0 && !backward)) return;
  run_kernel(table, a, a.planes * (a.ih * a.iw + a.oh * a.ow), device);
}

Tensor finish(const Tensor& y4, const Tensor& x) {
  Tensor y = x.ndim() == 3 ? y4.squeeze(0) : y4;
  return y.dtype() == x.dtype() ? y : y.to(x.dtype());
}

// ---- windowed pooling ---------------------------------------------------------------------

struct Window {
  int64_t kh, kw, sh, sw, ph, pw, dh = 1, dw = 1, oh, ow;
};

int64_t pool_out(int64_t in, int64_t k, int64_t p, int64_t s, int64_t d, bool ceil) {
  const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

Window window(const char* op, const Tensor& x, const Pair& k, const Pair& s, const Pair& p,
              const Pair& d, bool ceil) {
  Window w;
  std::tie(w.kh, w.kw) = hw(op, "kernel_size", k);
  std::tie(w.sh, w.sw) = hw(op, "stride", s, k);
  std::tie(w.ph, w.pw) = hw(op, "padding", p);
  std::tie(w.dh, w.dw) = hw(op, "dilation", d);
  if (w.kh <= 0 || w.kw <= 0)
    fail<ValueError>(op, "kernel_size must be positive, got (", w.kh, ", ", w.kw, ")");
  if (w.sh <= 0 || w.sw <= 0)
    fail<ValueError>(op, "stride must be positive, got (", w.sh, ", ", w.sw, ")");
  if (w.dh <= 0 || w.dw <= 0)
    fail<ValueError>(op, "dilation must be positive, got (", w.dh, ", ", w.dw, ")");
  if (w.ph < 0 || w.pw < 0 || w.ph > w.kh / 2 || w.pw > w.kw / 2)
    fail<ValueError>(op, "padding (", w.ph, ", ", w.pw, ") must be non-negative and at most ",
                     "half the kernel size (", w.kh, ", ", w.kw, ")");
  const int64_t ih = x.shape()[x.ndim() - 2], iw = x.shape()[x.ndim() - 1];
  w.oh = pool_out(ih, w.kh, w.ph, w.sh, w.dh, ceil);
  w.ow = pool_out(iw, w.kw, w.pw, w.sw, w.dw, ceil);
  if (w.oh < 1 || w.ow < 1)
    fail<ValueError>(op, "input of shape ", shape_str(x.shape()), " is too small for kernel (",
                     w.kh, ", ", w.kw, "), padding (", w.ph, ", ", w.pw, ") and dilation (",
                     w.dh, ", ", w.dw, "): output size (", w.oh, ", ", w.ow, ")");
  return w;
}

void set_window(PoolArgs& a, const Window& w) {
  a.kh = w.kh, a.kw = w.kw, a.sh = w.sh, a.sw = w.sw;
  a.ph = w.ph, a.pw = w.pw, a.dh = w.dh, a.dw = w.dw;
}

std::tuple<Tensor, Tensor> max_forward(PoolMode mode, const Tensor& x, PoolArgs a,
                                       const Tensor& x4) {
  Tensor y = Tensor::empty(Shape{x4.shape()[0], x4.shape()[1], a.oh, a.ow}, x4.dtype(),
                           x.device());
  Tensor ind = Tensor::empty(y.shape(), DType::Int64, x.device());
  a.mode = mode;
  a.x = x4.data_ptr();
  a.y = y.data_ptr();
  a.ind = reinterpret_cast<int64_t*>(ind.data_ptr());
  run(pool2d_kernel, a, x.device());
  return {finish(y, x), x.ndim() == 3 ? ind.squeeze(0) : ind};
}

std::tuple<Tensor, Tensor> max_pool2d(const Tensor& x, const Pair& k, const Pair& s,
                                      const Pair& p, const Pair& d, bool ceil) {
  const char* op = "max_pool2d";
  Tensor x4 = as_planes(op, x);
  const Window w = window(op, x, k, s, p, d, ceil);
  PoolArgs a = base_args(PoolMode::Max, x4, w.oh, w.ow);
  set_window(a, w);
  return max_forward(PoolMode::Max, x, a, x4);
}

Tensor avg_pool2d(const Tensor& x, const Pair& k, const Pair& s, const Pair& p, bool ceil,
                  bool count_include_pad, std::optional<int64_t> divisor) {
  const char* op = "avg_pool2d";
  Tensor x4 = as_planes(op, x);
  if (divisor && *divisor == 0) fail<ValueError>(op, "divisor_override must be non-zero");
  const Window w = window(op, x, k, s, p, {1}, ceil);
  PoolArgs a = base_args(PoolMode::Avg, x4, w.oh, w.ow);
  set_window(a, w);
  a.count_include_pad = count_include_pad;
  a.divisor = divisor.value_or(0);
  Tensor y = Tensor::empty(Shape{x4.shape()[0], x4.shape()[1], a.oh, a.ow}, x4.dtype(),
                           x.device());
  a.x = x4.data_ptr();
  a.y = y.data_ptr();
  run(pool2d_kernel, a, x.device());
  return finish(y, x);
}

Scales checked_scales(const char* op, const Scales& s) {
  if (s && s->size() != 1 && s->size() != 2)
    fail<ValueError>(op, "scales must hold 1 or 2 values, got ", s->size());
  return s;
}

void set_scales(PoolArgs& a, const Scales& s) {
  if (s) a.scale_h = s->front(), a.scale_w = s->back();
}

// ---- adaptive pooling and upsampling --------------------------------------------------------

std::pair<int64_t, int64_t> out_hw(const char* op, const Pair& size) {
  auto [oh, ow] = hw(op, "output_size", size);
  if (oh < 0 || ow < 0)
    fail<ValueError>(op, "output_size must be non-negative, got (", oh, ", ", ow, ")");
  return {oh, ow};
}

Tensor resample(const char* op, PoolMode mode, const Tensor& x, const Pair& size,
                bool align, const Scales& scales) {
  Tensor x4 = as_planes(op, x);
  auto [oh, ow] = out_hw(op, size);
  PoolArgs a = base_args(mode, x4, oh, ow);
  a.align_corners = align;
  set_scales(a, scales);
  Tensor y = Tensor::empty(Shape{x4.shape()[0], x4.shape()[1], oh, ow}, x4.dtype(),
                           x.device());
  a.x = x4.data_ptr();
  a.y = y.data_ptr();
  run(pool2d_kernel, a, x.device());
  return finish(y, x);
}

std::tuple<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, const Pair& size) {
  const char* op = "adaptive_max_pool2d";
  Tensor x4 = as_planes(op, x);
  auto [oh, ow] = out_hw(op, size);
  return max_forward(PoolMode::AdaptiveMax, x, base_args(PoolMode::AdaptiveMax, x4, oh, ow), x4);
}

// ---- backward -----------------------------------------------------------------------------

// grad_x for an input of `input_shape` from grad_y, checked against the output shape `want`.
Tensor backward(const char* op, PoolArgs a, const Tensor& gy, const Shape& input_shape,
                const Shape& want, const Tensor* ind) {
  if (!is_floating(gy.dtype()))
    fail<TypeError>(op, "expected a floating point grad_output, got ", describe(gy));
  if (gy.shape() != want)
    fail<ValueError>(op, "grad_output of shape ", shape_str(gy.shape()), " does not match ",
                     "the output of shape ", shape_str(want), " for an input of shape ",
                     shape_str(input_shape));
  Tensor g = gy.to(compute_dtype(gy.dtype())).contiguous();
  Tensor idx;
  if (ind) {
    if (ind->shape() != want || ind->dtype() != DType::Int64 || ind->device() != gy.device())
      fail<ValueError>(op, "indices must be an int64 tensor of shape ", shape_str(want),
                       " on ", gy.device().str(), ", got ", describe(*ind), " on ",
                       ind->device().str());
    idx = ind->contiguous();
    const int64_t* p = reinterpret_cast<const int64_t*>(idx.data_ptr());
    const int64_t plane = a.ih * a.iw;
    // A bad index would write outside the plane; device memory is not readable here.
    for (int64_t i = 0; idx.device().is_cpu() && i < idx.numel(); ++i)
      if (p[i] < 0 || p[i] >= plane)
        fail<IndexError>(op, "index ", p[i], " is out of range for input planes of ", a.ih,
                         " x ", a.iw);
    a.ind_in = p;
  }
  Tensor gx = Tensor::empty(input_shape, g.dtype(), gy.device());
  a.dtype = g.dtype();
  a.gy = g.data_ptr();
  a.gx = gx.data_ptr();
  run(pool2d_backward_kernel, a, gy.device(), true);
  return gx.dtype() == gy.dtype() ? gx : gx.to(gy.dtype());
}

Shape checked_input_shape(const char* op, const Pair& s) {
  if (s.size() != 3 && s.size() != 4)
    fail<ValueError>(op, "input_shape must have 3 or 4 dims, got ", s.size());
  const Shape shape(s.begin(), s.end());
  // Only the batch may be empty, as for the forward input.
  for (size_t d = 0; d < s.size(); ++d)
    if (s[d] < 0 || (s[d] == 0 && d + 3 >= s.size()))
      fail<ValueError>(op, "input_shape must have non-zero channel and spatial sizes, got ",
                       shape_str(shape));
  return shape;
}

PoolArgs shape_args(PoolMode mode, const Shape& in, const Tensor& gy) {
  PoolArgs a{};
  a.mode = mode;
  a.kh = a.kw = a.sh = a.sw = a.dh = a.dw = 1;
  a.planes = 1;
  for (size_t d = 0; d + 2 < in.size(); ++d) a.planes *= in[d];
  a.ih = in[in.size() - 2];
  a.iw = in[in.size() - 1];
  a.oh = gy.ndim() >= 2 ? gy.shape()[gy.ndim() - 2] : 0;
  a.ow = gy.ndim() >= 2 ? gy.shape()[gy.ndim() - 1] : 0;
  return a;
}

Shape want_shape(const Shape& in, int64_t oh, int64_t ow) {
  Shape s(in.begin(), in.end() - 2);
  s.push_back(oh);
  s.push_back(ow);
  return s;
}

Tensor max_pool2d_backward(const Tensor& gy, const Tensor& ind, const Pair& input_shape) {
  const char* op = "max_pool2d_backward";
  const Shape in = checked_input_shape(op, input_shape);
  PoolArgs a = shape_args(PoolMode::Max, in, gy);
  return backward(op, a, gy, in, want_shape(in, a.oh, a.ow), &ind);
}

Tensor avg_pool2d_backward(const Tensor& gy, const Pair& input_shape, const Pair& k,
                           const Pair& s, const Pair& p, bool ceil, bool count_include_pad,
                           std::optional<int64_t> divisor) {
  const char* op = "avg_pool2d_backward";
  const Shape in = checked_input_shape(op, input_shape);
  const Window w = window(op, Tensor::empty(in, DType::Float32), k, s, p, {1}, ceil);
  PoolArgs a = shape_args(PoolMode::Avg, in, gy);
  set_window(a, w);
  a.oh = w.oh, a.ow = w.ow;
  a.count_include_pad = count_include_pad;
  a.divisor = divisor.value_or(0);
  return backward(op, a, gy, in, want_shape(in, w.oh, w.ow), nullptr);
}

Tensor shape_backward(const char* op, PoolMode mode, const Tensor& gy, const Pair& input_shape,
                      bool align, const Scales& scales) {
  const Shape in = checked_input_shape(op, input_shape);
  PoolArgs a = shape_args(mode, in, gy);
  a.align_corners = align;
  set_scales(a, checked_scales(op, scales));
  return backward(op, a, gy, in, want_shape(in, a.oh, a.ow), nullptr);
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("max_pool2d", &max_pool2d, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode"));
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad_output"),
        py::arg("indices"), py::arg("input_shape"));
  m.def("avg_pool2d", &avg_pool2d, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("ceil_mode"), py::arg("count_include_pad"),
        py::arg("divisor_override"));
  m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad_output"),
        py::arg("input_shape"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("divisor_override"));
  m.def("adaptive_avg_pool2d", [](const Tensor& x, const Pair& size) {
    return resample("adaptive_avg_pool2d", PoolMode::AdaptiveAvg, x, size, false, {});
  }, py::arg("x"), py::arg("output_size"));
  m.def("adaptive_avg_pool2d_backward", [](const Tensor& g, const Pair& in) {
    return shape_backward("adaptive_avg_pool2d_backward", PoolMode::AdaptiveAvg, g, in, false,
                          {});
  }, py::arg("grad_output"), py::arg("input_shape"));
  m.def("adaptive_max_pool2d", &adaptive_max_pool2d, py::arg("x"), py::arg("output_size"));
  m.def("upsample_nearest2d", [](const Tensor& x, const Pair& size, const Scales& sc) {
    const char* op = "upsample_nearest2d";
    return resample(op, PoolMode::Nearest, x, size, false, checked_scales(op, sc));
  }, py::arg("x"), py::arg("output_size"), py::arg("scales") = py::none());
  m.def("upsample_nearest2d_backward",
        [](const Tensor& g, const Pair& in, const Scales& sc) {
    return shape_backward("upsample_nearest2d_backward", PoolMode::Nearest, g, in, false, sc);
  }, py::arg("grad_output"), py::arg("input_shape"), py::arg("scales") = py::none());
  m.def("upsample_bilinear2d",
        [](const Tensor& x, const Pair& size, bool align, const Scales& sc) {
    const char* op = "upsample_bilinear2d";
    return resample(op, PoolMode::Bilinear, x, size, align, checked_scales(op, sc));
  }, py::arg("x"), py::arg("output_size"), py::arg("align_corners"),
     py::arg("scales") = py::none());
  m.def("upsample_bilinear2d_backward",
        [](const Tensor& g, const Pair& in, bool align, const Scales& sc) {
    return shape_backward("upsample_bilinear2d_backward", PoolMode::Bilinear, g, in, align, sc);
  }, py::arg("grad_output"), py::arg("input_shape"), py::arg("align_corners"),
     py::arg("scales") = py::none());
}

}  // namespace py_bind
}  // namespace ember
