// Normalisation ops with fused kernels: batch_norm, layer_norm, group_norm and their backward
// functions, which the Python autograd Functions call. Arguments are checked here; kernels get
// contiguous float32/float64 operands (float16/bfloat16 compute in float32, statistics come
// back in the compute dtype, results in the input's dtype).
#include <algorithm>
#include <cmath>
#include <string>

#include "core/parallel.h"
#include "cpu/norm.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(batch_norm_kernel, BatchNormFn);
EMBER_DEFINE_KERNEL(batch_norm_backward_kernel, BatchNormFn);
EMBER_DEFINE_KERNEL(row_norm_kernel, RowNormFn);
EMBER_DEFINE_KERNEL(row_norm_backward_kernel, RowNormFn);

namespace py_bind {
namespace {




void check_floating(const char* op, const char* what, const Tensor& t) {
  if (!is_floating(t.dtype()))
    fail<TypeError>(op, "expected a floating point ", what, ", got ", describe(t));
}

// An optional per-channel operand: undefined for None, else checked to hold `n` values and
// returned contiguous in the compute dtype `cd`.
Tensor per_channel(const char* op, const char* what, const py::object& obj, int64_t n,
                   const Tensor& x, DType cd) {
  if (obj.is_none()) return Tensor();
  const Tensor& t = obj.cast<const Tensor&>();
  check_floating(op, what, t);
  if (t.device() != x.device())
    fail<ValueError>(op, what, " is on ", t.device().str(), " but the input is on ",
                     x.device().str());
  if (t.numel() != n)
    fail<ValueError>(op, what, " should have ", n, " elements (one per normalized channel of ",
                     "the input of shape ", shape_str(x.shape()), "), got shape ",
                     shape_str(t.shape()));
  return cast(t, cd).contiguous();
}

const void* ptr_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }
void* mut_or_null(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

// Filled on the host, then moved: the row-norm backward's scratch stays on the host too, since
// the CUDA kernels do not use it.
Tensor filled(const Shape& shape, DType cd, double v, Device device) {
  Tensor t = Tensor::empty(shape, cd, Device{});
  const int64_t n = t.numel();
  if (cd == DType::Float64) {
    std::fill_n(reinterpret_cast<double*>(t.data_ptr()), n, v);
  } else {
    std::fill_n(reinterpret_cast<float*>(t.data_ptr()), n, static_cast<float>(v));
  }
  return t.to(device);
}

py::object grad_or_none(bool need, const Tensor& t, DType res) {
  return need ? py::cast(cast(t, res)) : py::none();
}

// ---- batch_norm --------------------------------------------------------------------------

struct BnLayout {
  int64_t n = 0, c = 0, s = 1;
};

BnLayout bn_layout(const char* op, const Tensor& x) {
  if (x.ndim() < 2)
    fail<ValueError>(op, "expected an input of shape (N, C) or (N, C, *), got ",
                     describe(x));
  check_floating(op, "input", x);
  BnLayout l{x.shape()[0], x.shape()[1], 1};
  for (int64_t d = 2; d < x.ndim(); ++d) l.s *= x.shape()[d];
  return l;
}

// A running statistic the kernel may update: a contiguous compute-dtype tensor, which is the
// caller's own when it already is one (else the result is copied back afterwards).
Tensor running(const char* op, const char* what, const py::object& obj, int64_t c,
               const Tensor& x, DType cd) {
  return per_channel(op, what, obj, c, x, cd);
}

void write_back(const py::object& obj, const Tensor& updated) {
  if (obj.is_none()) return;
  Tensor dst = obj.cast<Tensor>();
  if (dst.storage() != updated.storage()) copy_(dst, updated, "batch_norm");
  dst.storage()->bump_version();
}

py::tuple batch_norm_op(const Tensor& x, const py::object& weight, const py::object& bias,
                        const py::object& running_mean, const py::object& running_var,
                        bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  const BnLayout l = bn_layout(op, x);
  const DType cd = compute_dtype(x.dtype());
  Tensor w = per_channel(op, "weight", weight, l.c, x, cd);
  Tensor b = per_channel(op, "bias", bias, l.c, x, cd);
  Tensor rm = running(op, "running_mean", running_mean, l.c, x, cd);
  Tensor rv = running(op, "running_var", running_var, l.c, x, cd);
  if (!training && (!rm.defined() || !rv.defined()))
    fail<ValueError>(op, "running_mean and running_var must be given in evaluation mode");
  if (training && l.n * l.s == 1)
    fail<ValueError>(op, "Expected more than 1 value per channel when training, got input ",
                     "size ", shape_str(x.shape()));
  Tensor in = cast(x, cd).contiguous();
  Tensor y = Tensor::empty(x.shape(), cd, x.device());
  Tensor mean = filled(Shape{l.c}, cd, NAN, x.device());
  Tensor invstd = filled(Shape{l.c}, cd, NAN, x.device());
  if (in.numel() > 0) {
    BatchNormArgs a{};
    a.n = l.n, a.c = l.c, a.s = l.s;
    a.x = in.data_ptr(), a.y = y.data_ptr();
    a.weight = ptr_or_null(w), a.bias = ptr_or_null(b);
    a.mean = mean.data_ptr(), a.invstd = invstd.data_ptr();
    a.running_mean = mut_or_null(rm), a.running_var = mut_or_null(rv);
    a.momentum = momentum, a.eps = eps, a.training = training, a.dtype = cd;
    run_kernel(batch_norm_kernel, a, in.numel(), x.device());
    if (training) {
      write_back(running_mean, rm);
      write_back(running_var, rv);
    }
  }
  return py::make_tuple(cast(y, x.dtype()), mean, invstd);
}

py::tuple batch_norm_backward_op(const Tensor& grad, const Tensor& x, const py::object& weight,
                                 const Tensor& save_mean, const Tensor& save_invstd,
                                 bool training, bool need_x, bool need_w, bool need_b) {
  const char* op = "batch_norm_backward";
  const BnLayout l = bn_layout(op, x);
  check_floating(op, "grad_output", grad);
  if (grad.shape() != x.shape())
    fail<ValueError>(op, "grad_output of shape ", shape_str(grad.shape()),
                     " does not match the input of shape ", shape_str(x.shape()));
  const DType cd = compute_dtype(x.dtype());
  Tensor w = per_channel(op, "weight", weight, l.c, x, cd);
  Tensor mean = per_channel(op, "save_mean", py::cast(save_mean), l.c, x, cd);
  Tensor invstd = per_channel(op, "save_invstd", py::cast(save_invstd), l.c, x, cd);
  Tensor in = cast(x, cd).contiguous(), g = cast(grad, cd).contiguous();
  Tensor gx = need_x ? Tensor::empty(x.shape(), cd, x.device()) : Tensor();
  Tensor gw = filled(Shape{l.c}, cd, 0.0, x.device());
  Tensor gb = filled(Shape{l.c}, cd, 0.0, x.device());
  if (in.numel() > 0) {
    BatchNormArgs a{};
    a.n = l.n, a.c = l.c, a.s = l.s;
    a.x = in.data_ptr(), a.grad = g.data_ptr(), a.y = mut_or_null(gx);
    a.weight = ptr_or_null(w), a.mean = mean.data_ptr(), a.invstd = invstd.data_ptr();
    a.grad_weight = need_w ? gw.data_ptr() : nullptr;
    a.grad_bias = need_b ? gb.data_ptr() : nullptr;
    a.training = training, a.dtype = cd;
    run_kernel(batch_norm_backward_kernel, a, in.numel(), x.device());
  }
  const DType wdt = weight.is_none() ? x.dtype() : weight.cast<const Tensor&>().dtype();
  return py::make_tuple(grad_or_none(need_x, gx, x.dtype()), grad_or_none(need_w, gw, wdt),
                        grad_or_none(need_b, gb, wdt));
}

// ---- layer_norm / group_norm -------------------------------------------------------------

struct RowLayout {
  int64_t rows, wrows, chans, inner;
  Shape stat_shape;
};

RowLayout ln_layout(const Tensor& x, int64_t k) {
  const char* op = "layer_norm";
  check_floating(op, "input", x);
  int64_t tail = 1, d = x.ndim();
  while (d > 0 && tail < k) tail *= x.shape()[--d];
  if (k <= 0 || tail != k)
    fail<ValueError>(op, "normalized shape of ", k, " elements does not match the trailing ",
                     "dims of the input of shape ", shape_str(x.shape()));
  Shape stat(x.shape().begin(), x.shape().begin() + d);
  return RowLayout{shape_numel(stat), 1, k, 1, stat};
}

RowLayout gn_layout(const Tensor& x, int64_t groups) {
  const char* op = "group_norm";
  check_floating(op, "input", x);
  if (x.ndim() < 2)
    fail<ValueError>(op, "expected an input of shape (N, C, *), got ", describe(x));
  const int64_t n = x.shape()[0], c = x.shape()[1];
  if (groups <= 0 || c % groups != 0)
    fail<ValueError>(op, "Expected number of channels in input to be divisible by ",
                     "num_groups, but got input of shape ", shape_str(x.shape()), " and ",
                     "num_groups=", groups);
  int64_t s = 1;
  for (int64_t d = 2; d < x.ndim(); ++d) s *= x.shape()[d];
  return RowLayout{n * groups, groups, c / groups, s, Shape{n, groups}};
}

py::tuple row_norm_op(const char* op, const Tensor& x, const RowLayout& l,
                      const py::object& weight, const py::object& bias, double eps) {
  const DType cd = compute_dtype(x.dtype());
  Tensor w = per_channel(op, "weight", weight, l.wrows * l.chans, x, cd);
  Tensor b = per_channel(op, "bias", bias, l.wrows * l.chans, x, cd);
  Tensor in = cast(x, cd).contiguous();
  Tensor y = Tensor::empty(x.shape(), cd, x.device());
  Tensor mean = Tensor::empty(l.stat_shape, cd, x.device());
  Tensor rstd = Tensor::empty(l.stat_shape, cd, x.device());
  if (in.numel() > 0) {
    RowNormArgs a{};
    a.rows = l.rows, a.wrows = l.wrows, a.chans = l.chans, a.inner = l.inner;
    a.x = in.data_ptr(), a.y = y.data_ptr();
    a.weight = ptr_or_null(w), a.bias = ptr_or_null(b);
    a.mean = mean.data_ptr(), a.rstd = rstd.data_ptr();
    a.eps = eps, a.dtype = cd;
    run_kernel(row_norm_kernel, a, in.numel(), x.device());
  } else if (mean.numel() > 0) {  // rows of no values: NaN statistics, as a mean of nothing
    mean = filled(l.stat_shape, cd, NAN, x.device());
    rstd = filled(l.stat_shape, cd, NAN, x.device());
  }
  return py::make_tuple(cast(y, x.dtype()), mean, rstd);
}

py::tuple row_norm_backward_op(const char* op, const Tensor& grad, const Tensor& x,
                               const RowLayout& l, const py::object& weight, const Tensor& mean,
                               const Tensor& rstd, bool need_x, bool need_w, bool need_b) {
  check_floating(op, "grad_output", grad);
  if (grad.shape() != x.shape())
    fail<ValueError>(op, "grad_output of shape ", shape_str(grad.shape()),
                     " does not match the input of shape ", shape_str(x.shape()));
  const DType cd = compute_dtype(x.dtype());
  const int64_t width = l.wrows * l.chans;
  Tensor w = per_channel(op, "weight", weight, width, x, cd);
  Tensor mu = per_channel(op, "mean", py::cast(mean), l.rows, x, cd);
  Tensor rs = per_channel(op, "rstd", py::cast(rstd), l.rows, x, cd);
  Tensor in = cast(x, cd).contiguous(), g = cast(grad, cd).contiguous();
  Tensor gx = need_x ? Tensor::empty(x.shape(), cd, x.device()) : Tensor();
  Tensor gw = filled(Shape{width}, cd, 0.0, x.device());
  Tensor gb = filled(Shape{width}, cd, 0.0, x.device());
  if (in.numel() > 0) {
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), l.rows));
    const int64_t nscratch = need_w || need_b ? parts * 2 * width : 0;
    Tensor scratch = Tensor::empty(Shape{nscratch}, DType::Float64, Device{});
    RowNormArgs a{};
    a.rows = l.rows, a.wrows = l.wrows, a.chans = l.chans, a.inner = l.inner;
    a.x = in.data_ptr(), a.grad = g.data_ptr(), a.y = mut_or_null(gx);
    a.weight = ptr_or_null(w), a.mean = mu.data_ptr(), a.rstd = rs.data_ptr();
    a.grad_weight = need_w ? gw.data_ptr() : nullptr;
    a.grad_bias = need_b ? gb.data_ptr() : nullptr;
    a.scratch = reinterpret_cast<double*>(scratch.data_ptr()), a.parts = parts, a.dtype = cd;
    run_kernel(row_norm_backward_kernel, a, in.numel(), x.device());
  }
  const DType wdt = weight.is_none() ? x.dtype() : weight.cast<const Tensor&>().dtype();
  return py::make_tuple(grad_or_none(need_x, gx, x.dtype()),
                        grad_or_none(need_w, gw, wdt), grad_or_none(need_b, gb, wdt));
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm", &batch_norm_op, py::arg("input"), py::arg("weight"), py::arg("bias"),
        py::arg("running_mean"), py::arg("running_var"), py::arg("training"),
        py::arg("momentum"), py::arg("eps"));
  m.def("batch_norm_backward", &batch_norm_backward_op, py::arg("grad_output"),
        py::arg("input"), py::arg("weight"), py::arg("save_mean"), py::arg("save_invstd"),
        py::arg("training"), py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true);
  m.def("layer_norm", [](const Tensor& x, int64_t k, const py::object& w, const py::object& b,
                         double eps) {
    return row_norm_op("layer_norm", x, ln_layout(x, k), w, b, eps);
  }, py::arg("input"), py::arg("normalized_numel"), py::arg("weight"), py::arg("bias"),
     py::arg("eps"));
  m.def("layer_norm_backward", [](const Tensor& g, const Tensor& x, int64_t k,
                                  const py::object& w, const Tensor& mean, const Tensor& rstd,
                                  bool nx, bool nw, bool nb) {
    return row_norm_backward_op("layer_norm_backward", g, x, ln_layout(x, k), w, mean, rstd,
                                nx, nw, nb);
  }, py::arg("grad_output"), py::arg("input"), py::arg("normalized_numel"), py::arg("weight"),
     py::arg("mean"), py::arg("rstd"), py::arg("need_input") = true,
     py::arg("need_weight") = true, py::arg("need_bias") = true);
  m.def("group_norm", [](const Tensor& x, int64_t groups, const py::object& w,
                         const py::object& b, double eps) {
    return row_norm_op("group_norm", x, gn_layout(x, groups), w, b, eps);
  }, py::arg("input"), py::arg("num_groups"), py::arg("weight"), py::arg("bias"),
     py::arg("eps"));
  m.def("group_norm_backward", [](const Tensor& g, const Tensor& x, int64_t groups,
                                  const py::object& w, const Tensor& mean, const Tensor& rstd,
                                  bool nx, bool nw, bool nb) {
    return row_norm_backward_op("group_norm_backward", g, x, gn_layout(x, groups), w, mean,
                                rstd, nx, nw, nb);
  }, py::arg("grad_output"), py::arg("input"), py::arg("num_groups"), py::arg("weight"),
     py::arg("mean"), py::arg("rstd"), py::arg("need_input") = true,
     py::arg("need_weight") = true, py::arg("need_bias") = true);
}

}  // namespace py_bind
}  // namespace ember
