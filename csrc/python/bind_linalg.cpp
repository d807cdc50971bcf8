// The matmul family: matmul (NumPy semantics), mm, bmm, addmm, baddbmm, mv, dot, outer,
// linear. Every op reduces to one call of gemm_kernel on views of its operands:
//   - transposed, sliced, expanded (0-stride) and negative-stride operands pass their strides,
//     never a copy;
//   - batch dims broadcast by NumPy rules become per-matrix element offsets;
//   - when B is shared by the whole batch and A's batch dims and rows merge into one stride,
//     the batch folds into M: (B, T, K) @ (K, N) is one (B*T) x K GEMM (Linear on 3-D input);
//   - a bias that is constant along rows or columns of the output rides the kernel's fused
//     bias instead of being copied into C.
// The result is always a new contiguous tensor of the operands' dtype.
#include <optional>
#include <vector>

#include "core/parallel.h"
#include "cpu/gemm/gemm.h"
#include "python/bindings.h"
#include "python/ops_common.h"

namespace ember::py_bind {
namespace {

struct Bias {
  GemmBias kind = GemmBias::None;
  const Tensor* values = nullptr;
  int64_t stride = 0;
};

std::string shapes(const Tensor& a, const Tensor& b) {
  return shape_str(a.shape()) + " and " + shape_str(b.shape());
}

// dtype and device agreement of the two factors (and of `input`, the added term, if any).
void check_operands(const char* op, const Tensor& a, const Tensor& b,
                    const Tensor* input = nullptr) {
  if (a.dtype() != b.dtype())
    fail<TypeError>(op, "expected m1 and m2 to have the same dtype, but got ",
                    dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), " (shapes ",
                    shapes(a, b), ")");
  if (a.dtype() == DType::Bool)
    fail<TypeError>(op, "not supported for bool tensors (shapes ", shapes(a, b), ")");
  if (a.device() != b.device())
    fail<std::runtime_error>(op, "expected both operands on one device, got ",
                             a.device().str(), " and ", b.device().str());
  if (!input) return;
  if (input->dtype() != a.dtype())
    fail<TypeError>(op, "expected input and the matrices to have the same dtype, but got ",
                    dtype_name(input->dtype()), " and ", dtype_name(a.dtype()));
  if (input->device() != a.device())
    fail<std::runtime_error>(op, "expected input and the matrices on one device, got ",
                             input->device().str(), " and ", a.device().str());
}

void check_inner(const char* op, const Tensor& a, const Tensor& b, int64_t ka, int64_t kb) {
  if (ka != kb)
    fail<ValueError>(op, "shapes ", shapes(a, b), " cannot be multiplied (", ka, " != ", kb,
                     ")");
}

// The stride of dims [0, end) of t merged into one dim, or false when they do not merge.
// Size-1 dims never break a merge (their stride is meaningless).
bool merged_stride(const Tensor& t, int64_t end, int64_t* stride) {
  bool have = false;
  int64_t next = 0;
  *stride = t.strides()[end - 1];
  for (int64_t d = end - 1; d >= 0; --d) {
    const int64_t size = t.shape()[d], s = t.strides()[d];
    if (size == 1) continue;
    if (have && s != next) return false;
    if (!have) *stride = s;
    have = true;
    next = s * size;
  }
  return true;
}

// Element offsets of every matrix of a, then of b, then of the contiguous output (batch
// entries each), walking the batch index like an odometer.
std::vector<int64_t> batch_offsets(const Tensor& a, const Tensor& b, const Shape& out,
                                   int64_t batch) {
  const int64_t nb = static_cast<int64_t>(out.size()) - 2;
  const int64_t mn = out[nb] * out[nb + 1];
  std::vector<int64_t> offsets(3 * batch), idx(nb, 0);
  int64_t ao = 0, bo = 0;
  for (int64_t i = 0; i < batch; ++i) {
    offsets[i] = ao;
    offsets[batch + i] = bo;
    offsets[2 * batch + i] = i * mn;
    for (int64_t d = nb - 1; d >= 0; --d) {
      ao += a.strides()[d];
      bo += b.strides()[d];
      if (++idx[d] < out[d]) break;
      ao -= a.strides()[d] * idx[d];
      bo -= b.strides()[d] * idx[d];
      idx[d] = 0;
    }
  }
  return offsets;
}

// out[batch..., m, n] = alpha * a @ b + beta * out + bias, where `out` is contiguous (and
// holds the term beta scales when beta != 0), a is batch_a + (m, k) and b batch_b + (k, n)
// with batch_a and batch_b broadcasting to out's batch dims.
void run_gemm(const Tensor& a, const Tensor& b, Tensor& out, double alpha, double beta,
              const Bias& bias) {
  if (out.numel() == 0) return;
  const int64_t nd = out.ndim(), nb = nd - 2;
  const int64_t m = out.shape()[nd - 2], n = out.shape()[nd - 1], k = a.shape().back();
  Shape ash(out.shape()), bsh(out.shape());
  ash[nd - 1] = k;
  bsh[nd - 2] = k;
  const Tensor ae = a.expand(ash), be = b.expand(bsh);

  GemmProblem p{};
  p.dtype = a.dtype();
  p.out_dtype = out.dtype();
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = ae.data_ptr();
  p.rsa = ae.strides()[nd - 2];
  p.csa = ae.strides()[nd - 1];
  p.b = be.data_ptr();
  p.rsb = be.strides()[nd - 2];
  p.csb = be.strides()[nd - 1];
  p.c = out.data_ptr();
  p.rsc = n;
  p.csc = 1;
  p.batch = 1;
  p.alpha = alpha;
  p.beta = beta;
  p.bias_kind = bias.kind;
  p.bias = bias.values ? bias.values->data_ptr() : nullptr;
  p.bias_stride = bias.stride;
  p.num_threads = get_num_threads();

  int64_t batch = 1;
  bool b_shared = true;
  for (int64_t d = 0; d < nb; ++d) {
    batch *= out.shape()[d];
    b_shared &= be.strides()[d] == 0 || out.shape()[d] == 1;
  }
  std::vector<int64_t> offsets;
  int64_t folded_rsa = 0;
  if (nb > 0 && b_shared && bias.kind != GemmBias::PerRow &&
      merged_stride(ae, nd - 1, &folded_rsa)) {
    p.m = batch * m;
    p.rsa = folded_rsa;
  } else if (batch > 1) {
    offsets = batch_offsets(ae, be, out.shape(), batch);
    p.batch = batch;
    p.a_offsets = offsets.data();
    p.b_offsets = offsets.data() + batch;
    p.c_offsets = offsets.data() + 2 * batch;
  }

  GemmFn fn = gemm_kernel.pick(out.device());
  const double work = static_cast<double>(batch) * m * n * (k + 1);
  if (work >= 32768 || out.device().is_cuda()) {
    py::gil_scoped_release no_gil;
    fn(p);
  } else {
    fn(p);
  }
}

// Appends dims to a batch shape.
Shape with_tail(Shape s, std::initializer_list<int64_t> tail) {
  for (int64_t v : tail) s.push_back(v);
  return s;
}

// NumPy broadcasting of two batch shapes; the error names the operands' full shapes.
Shape broadcast_batch(const char* op, const Tensor& a, const Tensor& b, const Shape& x,
                      const Shape& y) {
  const size_t nd = std::max(x.size(), y.size());
  Shape out(nd, 1);
  for (size_t i = 0; i < nd; ++i) {
    int64_t u = i < nd - x.size() ? 1 : x[i - (nd - x.size())];
    int64_t v = i < nd - y.size() ? 1 : y[i - (nd - y.size())];
    if (u != v && u != 1 && v != 1)
      fail<ValueError>(op, "batch dims of shapes ", shapes(a, b), " do not broadcast (", u,
                       " vs ", v, ")");
    out[i] = u == 1 ? v : u;
  }
  return out;
}

// a (..., m, k) @ b (..., k, n) with broadcast batch dims, into a new tensor.
Tensor batched_product(const char* op, const Tensor& a, const Tensor& b, const Tensor& a0,
                       const Tensor& b0, double alpha = 1.0, const Bias& bias = {}) {
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  check_inner(op, a0, b0, as.back(), bs[bs.size() - 2]);
  Shape batch = broadcast_batch(op, a0, b0, Shape(as.begin(), as.end() - 2),
                                Shape(bs.begin(), bs.end() - 2));
  Tensor out = Tensor::empty(with_tail(batch, {as[as.size() - 2], bs.back()}), a.dtype(),
                             a.device());
  run_gemm(a, b, out, alpha, 0.0, bias);
  return out;
}

void require_dims(const char* op, const Tensor& a, const Tensor& b, int64_t da, int64_t db,
                  const char* what) {
  if (a.ndim() != da || b.ndim() != db)
    fail<ValueError>(op, "expected ", what, ", got shapes ", shapes(a, b));
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  if (a.ndim() == 0 || b.ndim() == 0)
    fail<ValueError>(op, "both arguments need at least 1 dim, got shapes ", shapes(a, b));
  check_operands(op, a, b);
  // NumPy: a 1-D left operand is a row, a 1-D right operand a column; the added dim goes.
  const Tensor a2 = a.ndim() == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = b.ndim() == 1 ? b.unsqueeze(1) : b;
  Tensor out = batched_product(op, a2, b2, a, b);
  if (a.ndim() > 1 && b.ndim() > 1) return out;
  Shape s(out.shape());
  if (a.ndim() == 1) s.erase(s.end() - 2);
  if (b.ndim() == 1) s.erase(s.end() - 1);
  return out.view(s);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  require_dims("mm", a, b, 2, 2, "2-D matrices");
  check_operands("mm", a, b);
  return batched_product("mm", a, b, a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  require_dims("bmm", a, b, 3, 3, "3-D batches of matrices");
  check_operands("bmm", a, b);
  if (a.shape()[0] != b.shape()[0])
    fail<ValueError>("bmm", "batch sizes of shapes ", shapes(a, b), " differ (",
                     a.shape()[0], " != ", b.shape()[0], ")");
  return batched_product("bmm", a, b, a, b);
}

Tensor mv(const Tensor& a, const Tensor& v) {
  require_dims("mv", a, v, 2, 1, "a 2-D matrix and a 1-D vector");
  check_operands("mv", a, v);
  return batched_product("mv", a, v.unsqueeze(1), a, v).view({a.shape()[0]});
}

Tensor dot(const Tensor& a, const Tensor& b) {
  require_dims("dot", a, b, 1, 1, "two 1-D vectors");
  check_operands("dot", a, b);
  return batched_product("dot", a.unsqueeze(0), b.unsqueeze(1), a, b).view(Shape{});
}

Tensor outer(const Tensor& a, const Tensor& b) {
  require_dims("outer", a, b, 1, 1, "two 1-D vectors");
  check_operands("outer", a, b);
  return batched_product("outer", a.unsqueeze(1), b.unsqueeze(0), a, b);
}

// alpha and beta as doubles; PyTorch refuses float factors for integer tensors.
double factor(const char* op, const char* name, py::handle v, DType dtype) {
  if (PyFloat_Check(v.ptr()) && is_integral(dtype))
    fail<TypeError>(op, "for integer tensors ", name, " must be an integer, got ",
                    py::str(v).cast<std::string>());
  if (!PyFloat_Check(v.ptr()) && !PyLong_Check(v.ptr()))
    fail<TypeError>(op, name, " must be a number, got ",
                    py::str(py::type::of(v)).cast<std::string>());
  return v.cast<double>();
}

// beta * input + alpha * a @ b, input broadcast to the output (ops addmm and baddbmm).
// With beta == 1 an input constant along rows (a bias vector) or columns is fused into the
// kernel; beta == 0 ignores input entirely (NaN in it does not propagate), as in BLAS.
Tensor add_product(const char* op, const Tensor& input, const Tensor& a, const Tensor& b,
                   double alpha, double beta) {
  const int64_t nd = a.ndim();
  const Shape& os_a = a.shape();
  Shape out_shape(os_a.begin(), os_a.end() - 1);
  out_shape.push_back(b.shape().back());
  bool fits = input.ndim() <= nd;
  for (int64_t i = 0; fits && i < input.ndim(); ++i) {
    int64_t s = input.shape()[input.ndim() - 1 - i];
    fits = s == 1 || s == out_shape[nd - 1 - i];
  }
  if (!fits)
    fail<ValueError>(op, "input of shape ", shape_str(input.shape()),
                     " does not broadcast to the output shape ", shape_str(out_shape), " of ",
                     shapes(a, b));
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  Bias bias;
  if (beta == 0) {
    run_gemm(a, b, out, alpha, 0.0, bias);
    return out;
  }
  // The input's size along rows and columns of the output, and whether its batch is shared.
  const int64_t ni = input.ndim();
  const int64_t rows = ni >= 2 ? input.shape()[ni - 2] : 1;
  const int64_t cols = ni >= 1 ? input.shape()[ni - 1] : 1;
  bool shared = true;
  for (int64_t i = 0; i + 2 < ni; ++i) shared &= input.shape()[i] == 1;
  if (beta == 1 && shared && (rows == 1 || cols == 1)) {
    bias.values = &input;
    if (rows == 1) {
      bias.kind = GemmBias::PerColumn;
      bias.stride = cols == 1 ? 0 : input.strides()[ni - 1];
    } else {
      bias.kind = GemmBias::PerRow;
      bias.stride = input.strides()[ni - 2];
    }
    run_gemm(a, b, out, alpha, 0.0, bias);
    return out;
  }
  copy_(out, input, op);
  run_gemm(a, b, out, alpha, beta, bias);
  return out;
}

Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, py::handle beta,
             py::handle alpha) {
  const char* op = "addmm";
  require_dims(op, a, b, 2, 2, "2-D matrices");
  check_operands(op, a, b, &input);
  check_inner(op, a, b, a.shape()[1], b.shape()[0]);
  return add_product(op, input, a, b, factor(op, "alpha", alpha, a.dtype()),
                     factor(op, "beta", beta, a.dtype()));
}

Tensor baddbmm(const Tensor& input, const Tensor& a, const Tensor& b, py::handle beta,
               py::handle alpha) {
  const char* op = "baddbmm";
  require_dims(op, a, b, 3, 3, "3-D batches of matrices");
  check_operands(op, a, b, &input);
  if (a.shape()[0] != b.shape()[0])
    fail<ValueError>(op, "batch sizes of shapes ", shapes(a, b), " differ (", a.shape()[0],
                     " != ", b.shape()[0], ")");
  check_inner(op, a, b, a.shape()[2], b.shape()[1]);
  return add_product(op, input, a, b, factor(op, "alpha", alpha, a.dtype()),
                     factor(op, "beta", beta, a.dtype()));
}

// input (..., in) @ weight.T + bias, weight (out, in) or (in,); the transpose is a stride swap.
Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  const char* op = "linear";
  if (input.ndim() == 0 || weight.ndim() == 0 || weight.ndim() > 2)
    fail<ValueError>(op, "expected input with at least 1 dim and a 1-D or 2-D weight, got "
                     "shapes ", shapes(input, weight));
  check_operands(op, input, weight, bias ? &*bias : nullptr);
  const Tensor w = weight.ndim() == 2 ? weight.transpose(0, 1) : weight.unsqueeze(1);
  const int64_t features = w.shape()[1];
  if (input.shape().back() != w.shape()[0])
    fail<ValueError>(op, "input shape ", shape_str(input.shape()), " and weight shape ",
                     shape_str(weight.shape()), " do not match (", input.shape().back(),
                     " != ", w.shape()[0], ")");
  Bias fused;
  if (bias) {
    const Tensor& bv = *bias;
    if (bv.ndim() > 1 || (bv.ndim() == 1 && bv.shape()[0] != features && bv.shape()[0] != 1))
      fail<ValueError>(op, "bias of shape ", shape_str(bv.shape()), " does not match ",
                       features, " output features (weight shape ",
                       shape_str(weight.shape()), ")");
    fused.kind = GemmBias::PerColumn;
    fused.values = &bv;
    fused.stride = bv.ndim() == 1 && bv.shape()[0] > 1 ? bv.strides()[0] : 0;
  }
  const Tensor a = input.ndim() == 1 ? input.unsqueeze(0) : input;
  Tensor out = batched_product(op, a, w, input, weight, 1.0, fused);
  if (input.ndim() > 1 && weight.ndim() > 1) return out;
  Shape s(out.shape());
  if (input.ndim() == 1) s.erase(s.end() - 2);
  if (weight.ndim() == 1) s.erase(s.end() - 1);
  return out.view(s);
}

// `a @ b` as a METH_FASTCALL function: on small matrices pybind11's dispatcher is a visible
// share of the call.
PyObject* fast_matmul(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError, "[matmul] expected 2 arguments, got %zd", nargs);
    return nullptr;
  }
  return call_translated([&] {
    py::detail::make_caster<Tensor> a, b;
    if (!a.load(args[0], false) || !b.load(args[1], false))
      fail<TypeError>("matmul", "expected two Tensors, got ",
                      Py_TYPE(args[0])->tp_name, " and ", Py_TYPE(args[1])->tp_name);
    return py::cast(matmul(py::detail::cast_op<const Tensor&>(a),
                           py::detail::cast_op<const Tensor&>(b)));
  });
}

}  // namespace

void bind_linalg(py::module_& m) {
  m.def("matmul", &matmul, py::arg("input"), py::arg("other"));
  static PyMethodDef operators[] = {
      {"op_matmul", fastcall(fast_matmul), METH_FASTCALL, "a @ b (Tensor.__matmul__)"},
      {nullptr, nullptr, 0, nullptr}};
  if (PyModule_AddFunctions(m.ptr(), operators) != 0) throw py::error_already_set();
  m.def("mm", &mm, py::arg("input"), py::arg("mat2"));
  m.def("bmm", &bmm, py::arg("input"), py::arg("mat2"));
  m.def("mv", &mv, py::arg("input"), py::arg("vec"));
  m.def("dot", &dot, py::arg("input"), py::arg("other"));
  m.def("outer", &outer, py::arg("input"), py::arg("vec2"));
  m.def("addmm", &addmm, py::arg("input"), py::arg("mat1"), py::arg("mat2"),
        py::arg("beta") = 1, py::arg("alpha") = 1);
  m.def("baddbmm", &baddbmm, py::arg("input"), py::arg("batch1"), py::arg("batch2"),
        py::arg("beta") = 1, py::arg("alpha") = 1);
  m.def("linear", &linear, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none());
}

}  // namespace ember::py_bind
