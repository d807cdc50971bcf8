#include "python/ops_common.h"

#include <algorithm>
#include <numeric>

namespace ember::py_bind {

namespace {

constexpr int kCatBool = 0, kCatInt = 1, kCatFloat = 2;

int category(DType t) { return t == DType::Bool ? kCatBool : is_floating(t) ? kCatFloat : kCatInt; }

// Undefined is modelled as -1.
int combine_categories(int higher, int lower) {
  if (higher >= 0 && is_floating(static_cast<DType>(higher))) return higher;
  if (higher == static_cast<int>(DType::Bool) ||
      (lower >= 0 && is_floating(static_cast<DType>(lower)))) {
    if (higher < 0) return lower;
    if (lower < 0) return higher;
    return static_cast<int>(promote_types(static_cast<DType>(higher), static_cast<DType>(lower)));
  }
  return higher >= 0 ? higher : lower;
}

int promote(int acc, DType t) {
  return acc < 0 ? static_cast<int>(t)
                 : static_cast<int>(promote_types(static_cast<DType>(acc), t));
}

std::string type_name(py::handle h) {
  return std::string(py::str(py::type::of(h).attr("__name__")));
}

}  // namespace

Operand to_operand(const char* op, py::handle h) {
  Operand o;
  if (PyObject* inner = unwrap_tensor(h.ptr())) {
    o.tensor = py::handle(inner).cast<const Tensor&>();
    return o;
  }
  PyObject* p = h.ptr();
  if (PyBool_Check(p)) {
    o.scalar_kind = kCatBool;
  } else if (PyLong_Check(p)) {
    o.scalar_kind = kCatInt;
  } else if (PyFloat_Check(p)) {
    o.scalar_kind = kCatFloat;
  } else if (py::isinstance<Tensor>(h)) {
    o.tensor = h.cast<const Tensor&>();
    return o;
  } else if (py::hasattr(h, "__array__") || py::hasattr(h, "__array_interface__")) {
    // NumPy scalars by value, arrays as tensors.
    py::object arr = py::module_::import("numpy").attr("asarray")(h);
    if (arr.attr("ndim").cast<int>() == 0) return to_operand(op, arr.attr("item")());
    o.tensor = py::module_::import("ember").attr("tensor")(arr).cast<Tensor>();
    return o;
  } else {
    fail<TypeError>(op, "unsupported operand type ", type_name(h),
                    " (expected a Tensor, bool, int or float)");
  }
  o.scalar = py::reinterpret_borrow<py::object>(h);
  return o;
}

DType result_type(std::initializer_list<const Operand*> ops) {
  int dim = -1, zero = -1, wrapped = -1;
  for (const Operand* o : ops) {
    if (o->is_scalar()) {
      DType t = o->scalar_kind == kCatBool  ? DType::Bool
                : o->scalar_kind == kCatInt ? DType::Int64
                                            : DType::Float32;
      wrapped = promote(wrapped, t);
    } else if (o->tensor.ndim() == 0) {
      zero = promote(zero, o->tensor.dtype());
    } else {
      dim = promote(dim, o->tensor.dtype());
    }
  }
  int r = combine_categories(dim, combine_categories(zero, wrapped));
  return static_cast<DType>(r < 0 ? static_cast<int>(DType::Float32) : r);
}

std::string describe(const Operand& o) {
  if (o.is_scalar()) {
    static const char* kinds[] = {"bool", "int", "float"};
    return std::string(kinds[o.scalar_kind]) + " scalar";
  }
  return std::string(dtype_name(o.tensor.dtype())) + " tensor of shape " +
         shape_str(o.tensor.shape()) + " on " + o.tensor.device().str();
}

Device common_device(const char* op, std::initializer_list<const Operand*> ops) {
  const Operand* first = nullptr;
  for (const Operand* o : ops) {
    if (o->is_scalar()) continue;
    if (!first) {
      first = o;
    } else if (o->tensor.device() != first->tensor.device()) {
      fail<std::runtime_error>(op, "expected all tensors on one device, got ", describe(*first),
                               " and ", describe(*o));
    }
  }
  return first ? first->tensor.device() : Device{};
}

Tensor scalar_tensor(py::handle value, DType dtype, Device device) {
  Tensor t = Tensor::empty({}, dtype, Device{});
  char* p = t.data_ptr();
  PyObject* v = value.ptr();
  if (PyBool_Check(v) || PyLong_Check(v)) {
    int overflow = 0;
    long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) fail<ValueError>("tensor", "integer ", std::string(py::str(value)),
                                   " does not fit in int64");
    switch (dtype) {
      case DType::Bool: *reinterpret_cast<bool*>(p) = i != 0; break;
      case DType::Int32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(i); break;
      case DType::Int64: *reinterpret_cast<int64_t*>(p) = i; break;
      case DType::Float16:
        *reinterpret_cast<uint16_t*>(p) = float_to_half(static_cast<float>(i));
        break;
      case DType::BFloat16:
        *reinterpret_cast<uint16_t*>(p) = float_to_bf16(static_cast<float>(i));
        break;
      case DType::Float32: *reinterpret_cast<float*>(p) = static_cast<float>(i); break;
      case DType::Float64: *reinterpret_cast<double*>(p) = static_cast<double>(i); break;
    }
  } else {
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    switch (dtype) {
      case DType::Bool: *reinterpret_cast<bool*>(p) = d != 0.0; break;
      case DType::Int32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(d); break;
      case DType::Int64: *reinterpret_cast<int64_t*>(p) = static_cast<int64_t>(d); break;
      case DType::Float16: *reinterpret_cast<uint16_t*>(p) = float_to_half(float(d)); break;
      case DType::BFloat16: *reinterpret_cast<uint16_t*>(p) = float_to_bf16(float(d)); break;
      case DType::Float32: *reinterpret_cast<float*>(p) = static_cast<float>(d); break;
      case DType::Float64: *reinterpret_cast<double*>(p) = d; break;
    }
  }
  return device.is_cpu() ? t : t.to(device);
}

Tensor materialize(const Operand& o, DType dtype, Device device) {
  if (o.is_scalar()) return scalar_tensor(o.scalar, dtype, device);
  return o.tensor.dtype() == dtype ? o.tensor : o.tensor.to(dtype);
}

Tensor alloc_like_inputs(const Shape& shape, DType dtype, Device device,
                         std::initializer_list<const Tensor*> inputs) {
  const Tensor* first = nullptr;
  bool same = true;
  for (const Tensor* t : inputs) {
    if (t->shape() != shape) {
      same = false;
      break;
    }
    if (!first) {
      first = t;
    } else if (t->strides() != first->strides()) {
      same = false;
      break;
    }
  }
  if (!same || !first || first->is_contiguous() || !first->is_non_overlapping_and_dense())
    return Tensor::empty(shape, dtype, device);
  // Same strides as the inputs over a fresh dense block of the same extent.
  Tensor out = Tensor::empty({first->numel()}, dtype, device);
  return out.as_strided(shape, first->strides(), 0);
}

void check_inplace(const char* op, const Tensor& self, const Shape& result_shape,
                   DType result_dtype) {
  if (result_shape != self.shape())
    fail<ValueError>(op, "in-place output of shape ", shape_str(self.shape()),
                     " does not match the broadcast shape ", shape_str(result_shape));
  DType s = self.dtype();
  int cs = category(s), cr = category(result_dtype);
  if (cr > cs)
    fail<TypeError>(op, "result type ", dtype_name(result_dtype),
                    " can't be cast to the in-place output dtype ", dtype_name(s));
}

void run_elementwise(const DispatchTable<ElemFn>& table, const ElemIter& it, Device device) {
  if (it.numel == 0) return;
  ElemFn fn = table.pick(device);
  if (it.numel >= kReleaseGilWork || device.is_cuda()) {
    py::gil_scoped_release no_gil;
    fn(it);
  } else {
    fn(it);
  }
}

std::string describe(const Tensor& t) {
  return std::string(dtype_name(t.dtype())) + " tensor of shape " + shape_str(t.shape());
}

Tensor unalias(const Tensor& out, const Tensor& in) {
  if (out.may_overlap(in) &&
      (out.data_ptr() != in.data_ptr() || out.strides() != in.strides() ||
       out.shape() != in.shape()))
    return in.clone();
  return in;
}

}  // namespace ember::py_bind
