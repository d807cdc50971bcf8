// Neural-network ops with fused kernels: softmax, log_softmax, cross_entropy and their
// backward functions, which the Python autograd Functions call. Arguments are checked here;
// kernels get contiguous float32/float64 operands (float16/bfloat16 and integer softmax inputs
// compute in float32; results come back in the input's floating dtype).
#include <cmath>
#include <string>
#include <vector>

#include "cpu/loss.h"
#include "cpu/softmax.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(softmax_kernel, SoftmaxFn);
EMBER_DEFINE_KERNEL(softmax_backward_kernel, SoftmaxFn);
EMBER_DEFINE_KERNEL(cross_entropy_kernel, CrossEntropyFn);
EMBER_DEFINE_KERNEL(cross_entropy_backward_kernel, CrossEntropyFn);

namespace py_bind {
namespace {




void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail<ValueError>(op, "expected tensors on one device, got ", a.device().str(), " and ",
                     b.device().str());
}

void check_floating(const char* op, const char* what, const Tensor& t) {
  if (!is_floating(t.dtype()))
    fail<TypeError>(op, "expected a floating point ", what, ", got ", describe(t));
}

// ---- softmax / log_softmax ---------------------------------------------------------------

SoftmaxArgs slab(const Shape& shape, int64_t dim, DType dtype, bool log) {
  SoftmaxArgs a{1, 1, 1, nullptr, nullptr, nullptr, dtype, log};
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    int64_t& part = d < dim ? a.outer : d == dim ? a.dim : a.inner;
    part *= shape[d];
  }
  return a;
}

Tensor softmax_op(const char* op, const Tensor& x, int64_t dim, bool log) {
  dim = wrap_dim(op, dim, x.ndim(), x.shape());
  const DType res = is_floating(x.dtype()) ? x.dtype() : DType::Float32;
  Tensor in = cast(x, compute_dtype(res)).contiguous();
  Tensor out = Tensor::empty(x.shape(), in.dtype(), x.device());
  if (in.numel() > 0) {
    SoftmaxArgs a = slab(in.shape(), dim, in.dtype(), log);
    a.x = in.data_ptr();
    a.y = out.data_ptr();
    run_kernel(softmax_kernel, a, in.numel(), in.device());
  }
  return cast(out, res);
}

Tensor softmax_backward_op(const char* op, const Tensor& grad, const Tensor& out, int64_t dim,
                           bool log) {
  check_floating(op, "grad_output", grad);
  check_floating(op, "output", out);
  check_same_device(op, grad, out);
  if (grad.shape() != out.shape())
    fail<ValueError>(op, "grad_output of shape ", shape_str(grad.shape()),
                     " does not match the output of shape ", shape_str(out.shape()));
  dim = wrap_dim(op, dim, out.ndim(), out.shape());
  const DType res = promote_types(grad.dtype(), out.dtype());
  const DType cd = compute_dtype(res);
  Tensor g = cast(grad, cd).contiguous(), y = cast(out, cd).contiguous();
  Tensor gx = Tensor::empty(out.shape(), cd, out.device());
  if (y.numel() > 0) {
    SoftmaxArgs a = slab(y.shape(), dim, cd, log);
    a.x = y.data_ptr();
    a.grad = g.data_ptr();
    a.y = gx.data_ptr();
    run_kernel(softmax_backward_kernel, a, y.numel(), y.device());
  }
  return cast(gx, res);
}

// ---- cross_entropy ------------------------------------------------------------------------

enum class Reduction { None, Mean, Sum };

Reduction parse_reduction(const std::string& r) {
  if (r == "none") return Reduction::None;
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  fail<ValueError>("cross_entropy", "reduction must be 'none', 'mean' or 'sum', got '", r, "'");
}

// The operands of a cross-entropy call, checked and laid out as the kernels want them.
struct CeInputs {
  Tensor x;       // logits with the class dim moved last, contiguous, compute dtype
  Tensor target;  // int64 class indices (rows), or
  Tensor prob;    // probabilities laid out like x
  Tensor weight;  // (C,) compute dtype, or undefined
  Shape rows_shape;     // the input's shape without the class dim: the 'none' output's
  int64_t rows = 0, classes = 0;
  DType res = DType::Float32;
  double denom = 0;     // 'mean' divisor: sum of weights of non-ignored targets, or rows
  bool moved = false;   // the class dim was not last, so results must be moved back
};

// Moves dim 1 of an (N, C, d1, ...) tensor last: (N, d1, ..., C).
Tensor class_last(const Tensor& t) {
  Shape perm;
  perm.push_back(0);
  for (int64_t d = 2; d < t.ndim(); ++d) perm.push_back(d);
  perm.push_back(1);
  return t.permute(perm);
}

// Checks every index (in range or ignored) and sums the weights of the counted ones.
double check_targets(const CeInputs& in, int64_t ignore_index, const Tensor& input) {
  const int64_t* t = reinterpret_cast<const int64_t*>(in.target.data_ptr());
  std::vector<double> w;
  if (in.weight.defined()) {
    Tensor wd = in.weight.to(DType::Float64).contiguous();
    const double* p = reinterpret_cast<const double*>(wd.data_ptr());
    w.assign(p, p + in.classes);
  }
  double denom = 0;
  for (int64_t r = 0; r < in.rows; ++r) {
    if (t[r] == ignore_index) continue;
    if (t[r] < 0 || t[r] >= in.classes)
      fail<IndexError>("cross_entropy", "target ", t[r], " is out of bounds: expected a class",
                       " in [0, ", in.classes, ") or ignore_index ", ignore_index,
                       " (input of shape ", shape_str(input.shape()), ")");
    denom += w.empty() ? 1.0 : w[t[r]];
  }
  return denom;
}

CeInputs prepare(const Tensor& input, const Tensor& target, const py::object& weight,
                 int64_t ignore_index, double smoothing) {
  const char* op = "cross_entropy";
  if (input.ndim() == 0)
    fail<ValueError>(op, "input must have at least 1 dim (classes), got a 0-d tensor");
  check_floating(op, "input", input);
  check_same_device(op, input, target);
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    fail<ValueError>(op, "label_smoothing must be in [0, 1], got ", smoothing);
  CeInputs in;
  const int64_t cdim = input.ndim() == 1 ? 0 : 1;
  in.classes = input.shape()[cdim];
  for (int64_t d = 0; d < input.ndim(); ++d)
    if (d != cdim) in.rows_shape.push_back(input.shape()[d]);
  in.rows = shape_numel(in.rows_shape);
  in.res = input.dtype();
  in.moved = input.ndim() > 2;
  const DType cd = compute_dtype(input.dtype());
  in.x = cast(in.moved ? class_last(input) : input, cd).contiguous();
  if (!weight.is_none()) {
    const Tensor& w = weight.cast<const Tensor&>();
    check_same_device(op, input, w);
    check_floating(op, "weight", w);
    if (w.ndim() != 1 || w.shape()[0] != in.classes)
      fail<ValueError>(op, "weight must be 1-D with one entry per class (", in.classes,
                       "), got ", describe(w));
    in.weight = cast(w, cd).contiguous();
  }
  if (is_floating(target.dtype())) {
    if (target.shape() != input.shape())
      fail<ValueError>(op, "probability target of shape ", shape_str(target.shape()),
                       " must match the input of shape ", shape_str(input.shape()));
    in.prob = cast(in.moved ? class_last(target) : target, cd).contiguous();
    in.denom = static_cast<double>(in.rows);
  } else if (is_integral(target.dtype())) {
    if (target.shape() != in.rows_shape)
      fail<ValueError>(op, "target of shape ", shape_str(target.shape()),
                       " does not match the input of shape ", shape_str(input.shape()),
                       ": class-index targets need shape ", shape_str(in.rows_shape));
    in.target = cast(target, DType::Int64).contiguous();
    if (in.target.device().is_cpu()) {
      in.denom = check_targets(in, ignore_index, input);
    } else {  // checked on the host: a bad index must raise, not fault on the device
      CeInputs host = in;
      host.target = in.target.to(Device{});
      if (in.weight.defined()) host.weight = in.weight.to(Device{});
      in.denom = check_targets(host, ignore_index, input);
    }
  } else {
    fail<TypeError>(op, "target must hold class indices (int64 or int32) or probabilities ",
                    "(floating point), got ", describe(target));
  }
  return in;
}

CrossEntropyArgs ce_args(const CeInputs& in, int64_t ignore_index, double smoothing) {
  CrossEntropyArgs a{};
  a.rows = in.rows;
  a.classes = in.classes;
  a.x = in.x.data_ptr();
  a.target = in.target.defined() ? reinterpret_cast<const int64_t*>(in.target.data_ptr())
                                 : nullptr;
  a.prob = in.prob.defined() ? in.prob.data_ptr() : nullptr;
  a.weight = in.weight.defined() ? in.weight.data_ptr() : nullptr;
  a.ignore_index = ignore_index;
  a.smoothing = smoothing;
  a.dtype = in.x.dtype();
  a.grad_scale = 1.0;
  return a;
}

// Sum of the per-row losses, accumulated in double.
double total(const Tensor& loss) {
  const int64_t n = loss.numel();
  double s = 0;
  if (loss.dtype() == DType::Float32) {
    const float* p = reinterpret_cast<const float*>(loss.data_ptr());
    for (int64_t i = 0; i < n; ++i) s += p[i];
  } else {
    const double* p = reinterpret_cast<const double*>(loss.data_ptr());
    for (int64_t i = 0; i < n; ++i) s += p[i];
  }
  return s;
}

Tensor cross_entropy_op(const Tensor& input, const Tensor& target, const py::object& weight,
                        const std::string& reduction, int64_t ignore_index, double smoothing) {
  const Reduction red = parse_reduction(reduction);
  CeInputs in = prepare(input, target, weight, ignore_index, smoothing);
  Tensor loss = Tensor::empty(in.rows_shape, in.x.dtype(), input.device());
  CrossEntropyArgs a = ce_args(in, ignore_index, smoothing);
  a.loss = loss.data_ptr();
  if (in.rows > 0) run_kernel(cross_entropy_kernel, a, in.x.numel(), input.device());
  if (red == Reduction::None) return cast(loss, in.res);
  double s = total(loss.to(Device{}));
  // 0 / 0 gives NaN: a mean over nothing, or over targets that are all ignored.
  if (red == Reduction::Mean) s = in.denom == 0 ? NAN : s / in.denom;
  return scalar_tensor(py::float_(s), in.res, input.device());
}

Tensor cross_entropy_backward_op(const Tensor& grad_output, const Tensor& input,
                                 const Tensor& target, const py::object& weight,
                                 const std::string& reduction, int64_t ignore_index,
                                 double smoothing) {
  const char* op = "cross_entropy_backward";
  const Reduction red = parse_reduction(reduction);
  CeInputs in = prepare(input, target, weight, ignore_index, smoothing);
  check_floating(op, "grad_output", grad_output);
  check_same_device(op, input, grad_output);
  const Shape want = red == Reduction::None ? in.rows_shape : Shape{};
  if (grad_output.shape() != want)
    fail<ValueError>(op, "grad_output of shape ", shape_str(grad_output.shape()),
                     " does not match the loss of shape ", shape_str(want), " (reduction '",
                     reduction, "')");
  // Per-row grads on the input's device (the kernel reads them); a reduced grad on the host.
  Tensor g = cast(red == Reduction::None ? grad_output : grad_output.to(Device{}),
                  DType::Float64).contiguous();
  CrossEntropyArgs a = ce_args(in, ignore_index, smoothing);
  if (red == Reduction::None) {
    a.grad_out = reinterpret_cast<const double*>(g.data_ptr());
  } else {
    a.grad_scale = *reinterpret_cast<const double*>(g.data_ptr());
    if (red == Reduction::Mean) a.grad_scale /= in.denom;  // inf or NaN when denom == 0
  }
  Tensor gx = Tensor::empty(in.x.shape(), in.x.dtype(), input.device());
  a.grad_in = gx.data_ptr();
  if (gx.numel() > 0) run_kernel(cross_entropy_backward_kernel, a, gx.numel(), input.device());
  if (!in.moved) return cast(gx, in.res);
  Shape back;  // inverse of class_last
  back.push_back(0);
  back.push_back(input.ndim() - 1);
  for (int64_t d = 1; d < input.ndim() - 1; ++d) back.push_back(d);
  return cast(gx.permute(back), in.res).contiguous();
}

}  // namespace

void bind_nn(py::module_& m) {
  m.def("softmax", [](const Tensor& x, int64_t dim) {
    return softmax_op("softmax", x, dim, false);
  }, py::arg("x"), py::arg("dim"));
  m.def("log_softmax", [](const Tensor& x, int64_t dim) {
    return softmax_op("log_softmax", x, dim, true);
  }, py::arg("x"), py::arg("dim"));
  m.def("softmax_backward", [](const Tensor& g, const Tensor& out, int64_t dim) {
    return softmax_backward_op("softmax_backward", g, out, dim, false);
  }, py::arg("grad_output"), py::arg("output"), py::arg("dim"));
  m.def("log_softmax_backward", [](const Tensor& g, const Tensor& out, int64_t dim) {
    return softmax_backward_op("log_softmax_backward", g, out, dim, true);
  }, py::arg("grad_output"), py::arg("output"), py::arg("dim"));
  m.def("cross_entropy", &cross_entropy_op, py::arg("input"), py::arg("target"),
        py::arg("weight") = py::none(), py::arg("reduction") = "mean",
        py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0);
  m.def("cross_entropy_backward", &cross_entropy_backward_op, py::arg("grad_output"),
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("reduction") = "mean", py::arg("ignore_index") = -100,
        py::arg("label_smoothing") = 0.0);
}

}  // namespace py_bind
}  // namespace ember
