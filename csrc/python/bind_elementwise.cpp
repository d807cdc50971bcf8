// Elementwise ops: promotion, broadcasting, output allocation and in-place rules, then one
// kernel call. PyTorch's semantics: true division and float math promote integers to float32;
// float16/bfloat16 compute in float32 and round once at the end.
//
// Type promotion (PyTorch's result_type; "scalar" = Python bool/int/float):
//   operands                         result            example
//   same dtype                       that dtype        int32 + int32 -> int32
//   int32 + int64 tensors            int64             floats likewise: f16 + f32 -> f32
//   float16 + bfloat16               float32
//   int tensor + float scalar        float32           int32 + 1.5 -> float32
//   int32 tensor + int scalar        int32             the scalar never widens a tensor
//   float16 tensor + float scalar    float16
//   bool tensor + int scalar         int64             category bool < int < float
//   0-d tensor + n-d tensor          n-d's dtype, unless the 0-d one is of a higher category
//   bool + bool                      bool              add = or, mul = and; sub raises
//   int / int, sqrt(int), exp(bool)  float32           true division and float math
//   a == b, isnan, logical_and       bool              compared in the promoted dtype
//   a // b, a % b on ints            int               ZeroDivisionError for a zero divisor
// In-place ops keep self's dtype and shape: a float result into an int tensor, or a broadcast
// that would grow self, raises.
#include "cpu/elementwise.h"
#include <cmath>
#include <vector>

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
  Same,       // add, abs ...: the promoted dtype
  Floating,   // div, exp ...: integers and bool become float32
  FloatOnly,  // gelu, elu ...: TypeError for integers and bool (as PyTorch)
  Bool,       // comparisons, logical ops: bool, computed in the promoted dtype
};

// What a bool compute dtype does.
enum class Bools {
  Native,  // the kernel takes bool
  ViaInt,  // computed in int32, cast back (bool add = or, mul = and)
  Int64,   // the result is int64 (square: pow(bool, 2))
  Reject,  // TypeError (neg, sub, floor_divide ...)
};

struct Spec {
  const char* name;
  const DispatchTable<ElemFn>* table;
  Result rule;
  Bools bools;
  bool ints_only = false;   // bitwise ops
  bool zero_check = false;  // integer division: ZeroDivisionError
};

// The compute dtype, and the result dtype in `result`.
// `a`/`b` describe the operands in error messages (b may be null); the text is built only
// when an error is raised, keeping it off the per-call path.
DType plan(const Spec& s, const char* op, DType promoted, const Operand* a, const Operand* b,
           DType& result) {
  auto what = [a, b] { return describe(*a) + (b ? " and " + describe(*b) : std::string()); };
  if (s.ints_only && is_floating(promoted))
    fail<TypeError>(op, "needs integer or bool operands, got ", what());
  if (s.rule == Result::FloatOnly && !is_floating(promoted))
    fail<TypeError>(op, "needs floating point input, got ", what());
  bool to_float = s.rule == Result::Floating && !is_floating(promoted);
  DType compute = compute_dtype(to_float ? DType::Float32 : promoted);
  result = s.rule == Result::Bool ? DType::Bool : (to_float ? DType::Float32 : promoted);
  if (compute != DType::Bool) return compute;
  switch (s.bools) {
    case Bools::Native: return compute;
    case Bools::ViaInt: return DType::Int32;
    case Bools::Int64: result = DType::Int64; return DType::Int64;
    case Bools::Reject: break;
  }
  fail<TypeError>(op, "not supported for bool input (", what(), ")");
}

void check_no_zero(const char* op, const Tensor& t) {
  Tensor c = t.contiguous();
  int64_t n = c.numel();
  bool zero = false;
  if (c.dtype() == DType::Int32) {
    const int32_t* p = reinterpret_cast<const int32_t*>(c.data_ptr());
    for (int64_t i = 0; i < n; ++i) zero |= p[i] == 0;
  } else {
    const int64_t* p = reinterpret_cast<const int64_t*>(c.data_ptr());
    for (int64_t i = 0; i < n; ++i) zero |= p[i] == 0;
  }
  if (zero) {
    std::string msg = std::string("[") + op + "] integer division by zero";
    PyErr_SetString(PyExc_ZeroDivisionError, msg.c_str());
    throw py::error_already_set();
  }
}

ElemIter iter_with(const char* op, const Tensor& out, std::initializer_list<const Tensor*> in,
                   double alpha, double beta) {
  ElemIter it = make_elem_iter(op, out, in);
  it.alpha = alpha;
  it.beta = beta;
  return it;
}

// Writes `value` (computed out of place) into self for an in-place op.
py::object store_inplace(const char* op, py::handle self_h, Tensor self, const Tensor& value,
                         DType result) {
  check_inplace(op, self, value.shape(), result);
  if (value.data_ptr() != self.data_ptr()) copy_(self, value, op);
  self.storage()->bump_version();
  return py::reinterpret_borrow<py::object>(self_h);
}

// out = op(a, b) with broadcasting; `inplace` writes into a (which must be a tensor).
py::object binary(const Spec& s, const char* op, py::handle a_h, py::handle b_h, double alpha,
                  bool inplace) {
  Operand a = to_operand(op, a_h), b = to_operand(op, b_h);
  if (inplace && a.is_scalar()) fail<TypeError>(op, "in-place op on a scalar");
  Device device = common_device(op, {&a, &b});
  DType result;
  DType compute = plan(s, op, result_type({&a, &b}), &a, &b, result);
  if (is_integral(compute) && alpha != std::floor(alpha))
    fail<TypeError>(op, "alpha ", alpha, " must be an integer for integer inputs");
  if (s.table == &pow_kernel && is_integral(compute) && b.scalar_kind == 1 &&
      b.scalar.cast<int64_t>() < 0)
    fail<ValueError>(op, "integers to negative integer powers are not allowed");
  Tensor ta = materialize(a, compute, device);
  Tensor tb = materialize(b, compute, device);
  Shape shape = ta.shape() == tb.shape() ? ta.shape() : broadcast_shapes(op, ta.shape(), tb.shape());
  if (s.zero_check && is_integral(compute) && device.is_cpu()) check_no_zero(op, tb);
  DType out_dtype = s.rule == Result::Bool ? DType::Bool : compute;
  if (inplace) {
    Tensor self = a.tensor;
    check_inplace(op, self, shape, result);
    if (self.dtype() == out_dtype) {  // straight into self
      tb = unalias(self, tb);
      ElemIter it = iter_with(op, self, {&ta, &tb}, alpha, 0.0);
      run_elementwise(*s.table, it, device);
      self.storage()->bump_version();
      return py::reinterpret_borrow<py::object>(a_h);
    }
  }
  Tensor out = alloc_like_inputs(shape, out_dtype, device, {&ta, &tb});
  ElemIter it = iter_with(op, out, {&ta, &tb}, alpha, 0.0);
  run_elementwise(*s.table, it, device);
  if (result != out_dtype) out = out.to(result);
  if (inplace) return store_inplace(op, a_h, a.tensor, out, result);
  return py::cast(std::move(out));
}

py::object unary(const Spec& s, const char* op, py::handle x_h, double alpha, double beta,
                 bool inplace) {
  Operand xo = to_operand(op, x_h);
  if (xo.is_scalar()) fail<TypeError>(op, "expected a Tensor, got ", describe(xo));
  const Tensor& x = xo.tensor;
  DType result;
  DType compute = plan(s, op, x.dtype(), &xo, nullptr, result);
  DType out_dtype = s.rule == Result::Bool ? DType::Bool : compute;
  Tensor in = x.dtype() == compute ? x : x.to(compute);
  if (inplace) check_inplace(op, x, x.shape(), result);
  bool direct = inplace && x.dtype() == out_dtype;
  Tensor out = direct ? x : alloc_like_inputs(x.shape(), out_dtype, x.device(), {&in});
  ElemIter it = iter_with(op, out, {&in}, alpha, beta);
  run_elementwise(*s.table, it, x.device());
  if (result != out_dtype) out = out.to(result);
  if (inplace) return store_inplace(op, x_h, x, out, result);
  return py::cast(std::move(out));
}

double finite_max(DType t) {
  switch (t) {
    case DType::Float16: return 65504.0;
    case DType::BFloat16: return 3.3895313892515355e38;
    case DType::Float32: return 3.4028234663852886e38;
    default: return 1.7976931348623157e308;
  }
}

py::object nan_to_num(py::handle x_h, double nan, py::object posinf, py::object neginf,
                      bool inplace) {
  const char* op = inplace ? "nan_to_num_" : "nan_to_num";
  Operand xo = to_operand(op, x_h);
  if (xo.is_scalar()) fail<TypeError>(op, "expected a Tensor, got ", describe(xo));
  const Tensor& x = xo.tensor;
  if (!is_floating(x.dtype()))
    return inplace ? py::reinterpret_borrow<py::object>(x_h) : py::cast(x.clone());
  double big = finite_max(x.dtype());
  double pos = posinf.is_none() ? big : posinf.cast<double>();
  double neg = neginf.is_none() ? -big : neginf.cast<double>();
  DType compute = compute_dtype(x.dtype());
  Tensor in = x.to(compute);
  Tensor ninf = scalar_tensor(py::float_(neg), compute, x.device());
  Tensor out = alloc_like_inputs(x.shape(), compute, x.device(), {&in});
  ElemIter it = iter_with(op, out, {&in, &ninf}, nan, pos);
  run_elementwise(nan_to_num_kernel, it, x.device());
  out = out.to(x.dtype());
  if (inplace) return store_inplace(op, x_h, x, out, x.dtype());
  return py::cast(std::move(out));
}

py::object where(py::handle c_h, py::handle a_h, py::handle b_h) {
  const char* op = "where";
  Operand c = to_operand(op, c_h), a = to_operand(op, a_h), b = to_operand(op, b_h);
  if (c.is_scalar() || c.tensor.dtype() != DType::Bool)
    fail<TypeError>(op, "condition must be a bool tensor, got ", describe(c));
  Device device = common_device(op, {&c, &a, &b});
  DType result = result_type({&a, &b});
  Tensor ta = materialize(a, result, device), tb = materialize(b, result, device);
  Shape shape = broadcast_shapes(op, c.tensor.shape(), broadcast_shapes(op, ta.shape(), tb.shape()));
  Tensor out = alloc_like_inputs(shape, result, device, {&c.tensor, &ta, &tb});
  ElemIter it = make_elem_iter(op, out, {&c.tensor, &ta, &tb});
  it.dtype = result;
  run_elementwise(where_kernel, it, device);
  return py::cast(std::move(out));
}

// clamp with scalar bounds is one kernel; tensor bounds compose maximum and minimum.
py::object clamp(py::handle x_h, py::object lo, py::object hi, bool inplace) {
  const char* op = inplace ? "clamp_" : "clamp";
  if (lo.is_none() && hi.is_none()) fail<ValueError>(op, "at least one of min and max is needed");
  Operand x = to_operand(op, x_h);
  if (x.is_scalar()) fail<TypeError>(op, "expected a Tensor, got ", describe(x));
  Operand l = lo.is_none() ? Operand{} : to_operand(op, lo);
  Operand h = hi.is_none() ? Operand{} : to_operand(op, hi);
  static const Spec kMax{"maximum", &maximum_kernel, Result::Same, Bools::Native};
  static const Spec kMin{"minimum", &minimum_kernel, Result::Same, Bools::Native};
  if ((!lo.is_none() && !l.is_scalar()) || (!hi.is_none() && !h.is_scalar())) {
    py::object y = py::reinterpret_borrow<py::object>(x_h);
    if (!lo.is_none()) y = binary(kMax, op, y, lo, 1.0, false);
    if (!hi.is_none()) y = binary(kMin, op, y, hi, 1.0, false);
    if (!inplace) return y;
    const Tensor& v = y.cast<const Tensor&>();
    return store_inplace(op, x_h, x.tensor, v, v.dtype());
  }
  std::vector<const Operand*> ops{&x};
  if (!lo.is_none()) ops.push_back(&l);
  if (!hi.is_none()) ops.push_back(&h);
  DType promoted = ops.size() == 2 ? result_type({ops[0], ops[1]})
                                   : result_type({ops[0], ops[1], ops[2]});
  double a = lo.is_none() ? -INFINITY : lo.cast<double>();
  double b = hi.is_none() ? INFINITY : hi.cast<double>();
  DType compute = compute_dtype(promoted == DType::Bool ? DType::Int32 : promoted);
  if (is_integral(compute)) {  // bounds representable in the integer type
    double big = compute == DType::Int32 ? 2147483647.0 : 9.2233720368547748e18;
    a = std::max(a, -big);
    b = std::min(b, big);
  }
  Tensor in = materialize(x, compute, x.tensor.device());
  Tensor out = alloc_like_inputs(in.shape(), compute, in.device(), {&in});
  ElemIter it = iter_with(op, out, {&in}, a, b);
  run_elementwise(clamp_kernel, it, in.device());
  if (promoted != compute) out = out.to(promoted);
  if (inplace) return store_inplace(op, x_h, x.tensor, out, promoted);
  return py::cast(std::move(out));
}

const Spec kBinary[] = {
    {"mul", &mul_kernel, Result::Same, Bools::ViaInt},
    {"floor_divide", &div_floor_kernel, Result::Same, Bools::Reject, false, true},
    {"remainder", &remainder_kernel, Result::Same, Bools::Reject, false, true},
    {"pow", &pow_kernel, Result::Same, Bools::Reject},
    {"maximum", &maximum_kernel, Result::Same, Bools::Native},
    {"minimum", &minimum_kernel, Result::Same, Bools::Native},
    {"eq", &eq_kernel, Result::Bool, Bools::Native},
    {"ne", &ne_kernel, Result::Bool, Bools::Native},
    {"lt", &lt_kernel, Result::Bool, Bools::Native},
    {"le", &le_kernel, Result::Bool, Bools::Native},
    {"gt", &gt_kernel, Result::Bool, Bools::Native},
    {"ge", &ge_kernel, Result::Bool, Bools::Native},
    {"logical_and", &logical_and_kernel, Result::Bool, Bools::Native},
    {"logical_or", &logical_or_kernel, Result::Bool, Bools::Native},
    {"logical_xor", &logical_xor_kernel, Result::Bool, Bools::Native},
    {"bitwise_and", &bitwise_and_kernel, Result::Same, Bools::Native, true},
    {"bitwise_or", &bitwise_or_kernel, Result::Same, Bools::Native, true},
    {"bitwise_xor", &bitwise_xor_kernel, Result::Same, Bools::Native, true},
};

// Unary ops without parameters.
const Spec kUnary[] = {
    {"neg", &neg_kernel, Result::Same, Bools::Reject},
    {"abs", &abs_kernel, Result::Same, Bools::Reject},
    {"sign", &sign_kernel, Result::Same, Bools::Native},
    {"square", &square_kernel, Result::Same, Bools::Int64},
    {"relu", &relu_kernel, Result::Same, Bools::Reject},
    {"floor", &floor_kernel, Result::Same, Bools::Reject},
    {"ceil", &ceil_kernel, Result::Same, Bools::Reject},
    {"trunc", &trunc_kernel, Result::Same, Bools::Reject},
    {"exp", &exp_kernel, Result::Floating, Bools::Reject},
    {"expm1", &expm1_kernel, Result::Floating, Bools::Reject},
    {"log", &log_kernel, Result::Floating, Bools::Reject},
    {"log1p", &log1p_kernel, Result::Floating, Bools::Reject},
    {"log2", &log2_kernel, Result::Floating, Bools::Reject},
    {"sqrt", &sqrt_kernel, Result::Floating, Bools::Reject},
    {"rsqrt", &rsqrt_kernel, Result::Floating, Bools::Reject},
    {"reciprocal", &reciprocal_kernel, Result::Floating, Bools::Reject},
    {"sin", &sin_kernel, Result::Floating, Bools::Reject},
    {"cos", &cos_kernel, Result::Floating, Bools::Reject},
    {"tanh", &tanh_kernel, Result::Floating, Bools::Reject},
    {"sigmoid", &sigmoid_kernel, Result::Floating, Bools::Reject},
    {"erf", &erf_kernel, Result::Floating, Bools::Reject},
    {"silu", &silu_kernel, Result::FloatOnly, Bools::Reject},
    {"logical_not", &logical_not_kernel, Result::Bool, Bools::Native},
    {"bitwise_not", &bitwise_not_kernel, Result::Same, Bools::Native, true},
};

const Spec kAdd{"add", &add_kernel, Result::Same, Bools::ViaInt};
const Spec kSub{"sub", &sub_kernel, Result::Same, Bools::Reject};
const Spec kDiv{"div", &div_kernel, Result::Floating, Bools::Reject};
const Spec kDivTrunc{"div", &div_trunc_kernel, Result::Same, Bools::Reject, false, true};
const Spec kDivFloor{"div", &div_floor_kernel, Result::Same, Bools::Reject, false, true};
const Spec kRound{"round", &round_kernel, Result::Same, Bools::Reject};
const Spec kGelu{"gelu", &gelu_kernel, Result::FloatOnly, Bools::Reject};
const Spec kLeaky{"leaky_relu", &leaky_relu_kernel, Result::FloatOnly, Bools::Reject};
const Spec kElu{"elu", &elu_kernel, Result::FloatOnly, Bools::Reject};
const Spec kSoftplus{"softplus", &softplus_kernel, Result::FloatOnly, Bools::Reject};

// isnan & co. on integers: x != x is all false, x == x all true.
py::object classify(const char* op, const DispatchTable<ElemFn>& table, bool int_value,
                    py::handle x_h) {
  static const Spec kEq{"eq", &eq_kernel, Result::Bool, Bools::Native};
  static const Spec kNe{"ne", &ne_kernel, Result::Bool, Bools::Native};
  Operand x = to_operand(op, x_h);
  if (x.is_scalar()) fail<TypeError>(op, "expected a Tensor, got ", describe(x));
  if (!is_floating(x.tensor.dtype())) return binary(int_value ? kEq : kNe, op, x_h, x_h, 1, false);
  Spec s{op, &table, Result::Bool, Bools::Native};
  return unary(s, op, x_h, 0.0, 0.0, false);
}

py::object div(py::handle a, py::handle b, const std::string& mode, bool inplace) {
  const char* op = inplace ? "div_" : "div";
  if (mode.empty()) return binary(kDiv, op, a, b, 1.0, inplace);
  if (mode == "trunc") return binary(kDivTrunc, op, a, b, 1.0, inplace);
  if (mode == "floor") return binary(kDivFloor, op, a, b, 1.0, inplace);
  fail<ValueError>(op, "rounding_mode must be None, 'trunc' or 'floor', got '", mode, "'");
}

// The Tensor operators as METH_FASTCALL functions: on a 1-element tensor pybind11's dispatcher
// costs about a fifth of the whole `a + b`.
template <const Spec* S>
PyObject* fast_binary(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_Format(PyExc_TypeError, "[%s] expected 2 arguments, got %zd", S->name, nargs);
    return nullptr;
  }
  return call_translated([&] { return binary(*S, S->name, args[0], args[1], 1.0, false); });
}


const Spec kMulOp = kBinary[0];  // mul

}  // namespace

void bind_elementwise(py::module_& m) {
  for (const Spec& s : kBinary) {
    m.def(s.name, [&s](py::handle a, py::handle b) { return binary(s, s.name, a, b, 1.0, false); });
    std::string iname = std::string(s.name) + "_";
    m.def(iname.c_str(), [&s, iname](py::handle a, py::handle b) {
      return binary(s, iname.c_str(), a, b, 1.0, true);
    });
  }
  for (const Spec& s : kUnary) {
    m.def(s.name, [&s](py::handle x) { return unary(s, s.name, x, 0.0, 0.0, false); });
    std::string iname = std::string(s.name) + "_";
    m.def(iname.c_str(),
          [&s, iname](py::handle x) { return unary(s, iname.c_str(), x, 0.0, 0.0, true); });
  }
  for (bool ip : {false, true}) {
    const char* add = ip ? "add_" : "add";
    const char* sub = ip ? "sub_" : "sub";
    m.def(add, [ip, add](py::handle a, py::handle b, double alpha) {
      return binary(kAdd, add, a, b, alpha, ip);
    }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
    m.def(sub, [ip, sub](py::handle a, py::handle b, double alpha) {
      return binary(kSub, sub, a, b, alpha, ip);
    }, py::arg("a"), py::arg("b"), py::arg("alpha") = 1.0);
    m.def(ip ? "div_" : "div", [ip](py::handle a, py::handle b, py::object mode) {
      return div(a, b, mode.is_none() ? std::string() : mode.cast<std::string>(), ip);
    }, py::arg("a"), py::arg("b"), py::arg("rounding_mode") = py::none());
    m.def(ip ? "round_" : "round", [ip](py::handle x, int64_t decimals) {
      const char* op = ip ? "round_" : "round";
      const Tensor& t = to_operand(op, x).tensor;
      if (decimals != 0 && t.defined() && !is_floating(t.dtype()))
        fail<TypeError>(op, "decimals needs a floating point input, got ", dtype_name(t.dtype()));
      return unary(kRound, op, x, double(decimals), std::pow(10.0, std::abs(double(decimals))), ip);
    }, py::arg("x"), py::arg("decimals") = 0);
    m.def(ip ? "gelu_" : "gelu", [ip](py::handle x, const std::string& approximate) {
      if (approximate != "none" && approximate != "tanh")
        fail<ValueError>("gelu", "approximate must be 'none' or 'tanh', got '", approximate, "'");
      return unary(kGelu, "gelu", x, approximate == "tanh" ? 1.0 : 0.0, 0.0, ip);
    }, py::arg("x"), py::arg("approximate") = "none");
    m.def(ip ? "leaky_relu_" : "leaky_relu", [ip](py::handle x, double slope) {
      return unary(kLeaky, "leaky_relu", x, slope, 0.0, ip);
    }, py::arg("x"), py::arg("negative_slope") = 0.01);
    m.def(ip ? "elu_" : "elu", [ip](py::handle x, double alpha, double scale) {
      return unary(kElu, "elu", x, alpha, scale, ip);
    }, py::arg("x"), py::arg("alpha") = 1.0, py::arg("scale") = 1.0);
    m.def(ip ? "softplus_" : "softplus", [ip](py::handle x, double beta, double threshold) {
      return unary(kSoftplus, "softplus", x, beta, threshold, ip);
    }, py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0);
    m.def(ip ? "clamp_" : "clamp", [ip](py::handle x, py::object lo, py::object hi) {
      return clamp(x, lo, hi, ip);
    }, py::arg("x"), py::arg("min") = py::none(), py::arg("max") = py::none());
    m.def(ip ? "nan_to_num_" : "nan_to_num",
          [ip](py::handle x, double nan, py::object posinf, py::object neginf) {
            return nan_to_num(x, nan, posinf, neginf, ip);
          }, py::arg("x"), py::arg("nan") = 0.0, py::arg("posinf") = py::none(),
          py::arg("neginf") = py::none());
  }
  static PyMethodDef operators[] = {
      {"op_add", fastcall(fast_binary<&kAdd>), METH_FASTCALL, "a + b (Tensor.__add__)"},
      {"op_sub", fastcall(fast_binary<&kSub>), METH_FASTCALL, "a - b (Tensor.__sub__)"},
      {"op_mul", fastcall(fast_binary<&kMulOp>), METH_FASTCALL, "a * b (Tensor.__mul__)"},
      {"op_div", fastcall(fast_binary<&kDiv>), METH_FASTCALL, "a / b (Tensor.__truediv__)"},
      {nullptr, nullptr, 0, nullptr}};
  if (PyModule_AddFunctions(m.ptr(), operators) != 0) throw py::error_already_set();
  m.def("isnan", [](py::handle x) { return classify("isnan", isnan_kernel, false, x); });
  m.def("isinf", [](py::handle x) { return classify("isinf", isinf_kernel, false, x); });
  m.def("isfinite", [](py::handle x) { return classify("isfinite", isfinite_kernel, true, x); });
  m.def("where", &where);
}

}  // namespace py_bind
}  // namespace ember
