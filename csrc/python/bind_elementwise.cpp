// Elementwise ops: promotion, broadcasting, output allocation and in-place rules, then one
// kernel call. PyTorch's semantics: true division and float math promote integers to float32;
// float16/bfloat16 compute in float32 and round once at the end.
#include "cpu/elementwise.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(add_kernel, ElemFn);
EMBER_DEFINE_KERNEL(sub_kernel, ElemFn);
EMBER_DEFINE_KERNEL(mul_kernel, ElemFn);
EMBER_DEFINE_KERNEL(div_kernel, ElemFn);
EMBER_DEFINE_KERNEL(div_trunc_kernel, ElemFn);
EMBER_DEFINE_KERNEL(div_floor_kernel, ElemFn);
EMBER_DEFINE_KERNEL(remainder_kernel, ElemFn);
EMBER_DEFINE_KERNEL(pow_kernel, ElemFn);
EMBER_DEFINE_KERNEL(maximum_kernel, ElemFn);
EMBER_DEFINE_KERNEL(minimum_kernel, ElemFn);
EMBER_DEFINE_KERNEL(eq_kernel, ElemFn);
EMBER_DEFINE_KERNEL(ne_kernel, ElemFn);
EMBER_DEFINE_KERNEL(lt_kernel, ElemFn);
EMBER_DEFINE_KERNEL(le_kernel, ElemFn);
EMBER_DEFINE_KERNEL(gt_kernel, ElemFn);
EMBER_DEFINE_KERNEL(ge_kernel, ElemFn);
EMBER_DEFINE_KERNEL(logical_and_kernel, ElemFn);
EMBER_DEFINE_KERNEL(logical_or_kernel, ElemFn);
EMBER_DEFINE_KERNEL(logical_xor_kernel, ElemFn);
EMBER_DEFINE_KERNEL(logical_not_kernel, ElemFn);
EMBER_DEFINE_KERNEL(bitwise_and_kernel, ElemFn);
EMBER_DEFINE_KERNEL(bitwise_or_kernel, ElemFn);
EMBER_DEFINE_KERNEL(bitwise_xor_kernel, ElemFn);
EMBER_DEFINE_KERNEL(bitwise_not_kernel, ElemFn);
EMBER_DEFINE_KERNEL(neg_kernel, ElemFn);
EMBER_DEFINE_KERNEL(abs_kernel, ElemFn);
EMBER_DEFINE_KERNEL(sign_kernel, ElemFn);
EMBER_DEFINE_KERNEL(square_kernel, ElemFn);
EMBER_DEFINE_KERNEL(relu_kernel, ElemFn);
EMBER_DEFINE_KERNEL(floor_kernel, ElemFn);
EMBER_DEFINE_KERNEL(ceil_kernel, ElemFn);
EMBER_DEFINE_KERNEL(trunc_kernel, ElemFn);
EMBER_DEFINE_KERNEL(round_kernel, ElemFn);
EMBER_DEFINE_KERNEL(clamp_kernel, ElemFn);
EMBER_DEFINE_KERNEL(exp_kernel, ElemFn);
EMBER_DEFINE_KERNEL(expm1_kernel, ElemFn);
EMBER_DEFINE_KERNEL(log_kernel, ElemFn);
EMBER_DEFINE_KERNEL(log1p_kernel, ElemFn);
EMBER_DEFINE_KERNEL(log2_kernel, ElemFn);
EMBER_DEFINE_KERNEL(sqrt_kernel, ElemFn);
EMBER_DEFINE_KERNEL(rsqrt_kernel, ElemFn);
EMBER_DEFINE_KERNEL(reciprocal_kernel, ElemFn);
EMBER_DEFINE_KERNEL(sin_kernel, ElemFn);
EMBER_DEFINE_KERNEL(cos_kernel, ElemFn);
EMBER_DEFINE_KERNEL(tanh_kernel, ElemFn);
EMBER_DEFINE_KERNEL(sigmoid_kernel, ElemFn);
EMBER_DEFINE_KERNEL(erf_kernel, ElemFn);
EMBER_DEFINE_KERNEL(silu_kernel, ElemFn);
EMBER_DEFINE_KERNEL(gelu_kernel, ElemFn);
EMBER_DEFINE_KERNEL(leaky_relu_kernel, ElemFn);
EMBER_DEFINE_KERNEL(elu_kernel, ElemFn);
EMBER_DEFINE_KERNEL(softplus_kernel, ElemFn);
EMBER_DEFINE_KERNEL(isnan_kernel, ElemFn);
EMBER_DEFINE_KERNEL(isinf_kernel, ElemFn);
EMBER_DEFINE_KERNEL(isfinite_kernel, ElemFn);
EMBER_DEFINE_KERNEL(nan_to_num_kernel, ElemFn);
EMBER_DEFINE_KERNEL(where_kernel, ElemFn);

namespace py_bind {
namespace {

// How an op's result dtype follows from the promoted input dtype.
enum class Result {
  Same,      // add, mul, neg ...: the promoted dtype
  Floating,  // div, exp ...: integers and bool become float32
};

DType result_dtype(Result rule, DType promoted) {
  if (rule == Result::Floating && !is_floating(promoted)) return DType::Float32;
  return promoted;
}

// out = op(a, b) with broadcasting; `inplace` writes into a (which must be a tensor).
py::object binary(const char* op, const DispatchTable<ElemFn>& table, Result rule,
                  py::handle a_h, py::handle b_h, double alpha, bool inplace) {
  Operand a = to_operand(op, a_h), b = to_operand(op, b_h);
  Device device = common_device(op, {&a, &b});
  DType result = result_dtype(rule, result_type({&a, &b}));
  if (result == DType::Bool && table.name != std::string("add_kernel") &&
      table.name != std::string("mul_kernel"))
    fail<TypeError>(op, "not supported for bool operands (", describe(a), ", ", describe(b), ")");
  DType compute = compute_dtype(result);
  if (compute == DType::Bool) compute = DType::Int32;  // bool add/mul: compute, then cast back
  Tensor ta = materialize(a, compute, device);
  Tensor tb = materialize(b, compute, device);
  Shape shape = ta.shape() == tb.shape() ? ta.shape() : broadcast_shapes(op, ta.shape(), tb.shape());
  if (inplace) {
    Tensor self = a.tensor;
    check_inplace(op, self, shape, result);
    tb = unalias(self, tb);
    Tensor out = self.dtype() == compute ? self : Tensor::empty(shape, compute, device);
    ElemIter it = make_elem_iter(op, out, {&ta, &tb});
    it.alpha = alpha;
    run_elementwise(table, it, device);
    if (out.data_ptr() != self.data_ptr()) copy_(self, out, op);
    self.storage()->bump_version();
    return py::reinterpret_borrow<py::object>(a_h);
  }
  Tensor out = alloc_like_inputs(shape, compute, device, {&ta, &tb});
  ElemIter it = make_elem_iter(op, out, {&ta, &tb});
  it.alpha = alpha;
  run_elementwise(table, it, device);
  return py::cast(result == compute ? std::move(out) : out.to(result));
}

py::object unary(const char* op, const DispatchTable<ElemFn>& table, Result rule,
                 const Tensor& x, bool inplace) {
  DType result = result_dtype(rule, x.dtype());
  DType compute = compute_dtype(result);
  if (inplace && result != x.dtype() && !(is_floating(x.dtype()) && is_floating(result)))
    fail<TypeError>(op, "result type ", dtype_name(result),
                    " can't be cast to the in-place output dtype ", dtype_name(x.dtype()));
  Tensor in = x.dtype() == compute ? x : x.to(compute);
  Tensor out = inplace && x.dtype() == compute ? x : alloc_like_inputs(x.shape(), compute,
                                                                         x.device(), {&in});
  ElemIter it = make_elem_iter(op, out, {&in});
  run_elementwise(table, it, x.device());
  if (inplace) {
    Tensor self = x;
    if (out.data_ptr() != x.data_ptr()) copy_(self, out, op);
    x.storage()->bump_version();
    return py::cast(x);
  }
  return py::cast(result == compute ? std::move(out) : out.to(result));
}

}  // namespace

void bind_elementwise(py::module_& m) {
  auto def_binary = [&m](const char* name, const char* iname, const DispatchTable<ElemFn>& table,
                         Result rule) {
    m.def(name, [name, &table, rule](py::handle a, py::handle b) {
      return binary(name, table, rule, a, b, 1.0, false);
    });
    m.def(iname, [iname, &table, rule](py::handle a, py::handle b) {
      return binary(iname, table, rule, a, b, 1.0, true);
    });
  };
  m.def("add", [](py::handle a, py::handle b, double alpha) {
    return binary("add", add_kernel, Result::Same, a, b, alpha, false);
  }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
  m.def("add_", [](py::handle a, py::handle b, double alpha) {
    return binary("add_", add_kernel, Result::Same, a, b, alpha, true);
  }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
  m.def("sub", [](py::handle a, py::handle b, double alpha) {
    return binary("sub", sub_kernel, Result::Same, a, b, alpha, false);
  }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
  m.def("sub_", [](py::handle a, py::handle b, double alpha) {
    return binary("sub_", sub_kernel, Result::Same, a, b, alpha, true);
  }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
  def_binary("mul", "mul_", mul_kernel, Result::Same);
  def_binary("div", "div_", div_kernel, Result::Floating);

  m.def("exp", [](const Tensor& x) { return unary("exp", exp_kernel, Result::Floating, x, false); });
  m.def("exp_", [](const Tensor& x) { return unary("exp_", exp_kernel, Result::Floating, x, true); });
  m.def("neg", [](const Tensor& x) { return unary("neg", neg_kernel, Result::Same, x, false); });
  m.def("neg_", [](const Tensor& x) { return unary("neg_", neg_kernel, Result::Same, x, true); });
}

}  // namespace py_bind
}  // namespace ember
