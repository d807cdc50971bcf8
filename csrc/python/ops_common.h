// Argument handling shared by the op bindings: operands that may be Python scalars, PyTorch's
// type promotion, output allocation, the in-place rules, and running an ElemIter kernel.
#pragma once
#include <initializer_list>

#include "core/dispatch.h"
#include "core/iter_build.h"
#include "python/bindings.h"

namespace ember::py_bind {

// A tensor or a Python scalar (bool/int/float, NumPy scalars included). Scalars take part in
// type promotion at the lowest priority, as PyTorch's wrapped numbers do.
struct Operand {
  Tensor tensor;         // defined for tensors
  py::object scalar;     // set for scalars
  int scalar_kind = -1;  // 0 bool, 1 int, 2 float
  bool is_scalar() const { return scalar_kind >= 0; }
};

Operand to_operand(const char* op, py::handle h);

// PyTorch's result_type: dimensioned tensors first, then 0-d tensors, then scalars; a lower
// priority class only matters when its category (bool < integer < floating) is higher.
DType result_type(std::initializer_list<const Operand*> ops);
std::string describe(const Operand& o);  // "float32 tensor of shape (2, 3)" / "int scalar"

// The device all tensor operands share; RuntimeError naming the op when they differ.
Device common_device(const char* op, std::initializer_list<const Operand*> ops);

// The operand as a tensor of `dtype` on `device` (scalars become 0-d tensors).
Tensor materialize(const Operand& o, DType dtype, Device device);

// Output of an elementwise op over same-shaped inputs: keeps their common memory layout when
// every input has the same strides and is dense (so a.T + b.T stays fast), else row-major.
Tensor alloc_like_inputs(const Shape& shape, DType dtype, Device device,
                         std::initializer_list<const Tensor*> inputs);

// In-place ops write `result` dtype values into `self`: PyTorch refuses a float result into an
// integer tensor, and a broadcast that would change self's shape.
void check_inplace(const char* op, const Tensor& self, const Shape& result_shape,
                   DType result_dtype);

// Runs an elementwise kernel, releasing the GIL when the work is large enough to matter.
void run_elementwise(const DispatchTable<ElemFn>& table, const ElemIter& it, Device device);

// Elements of work below which a kernel runs with the GIL held (releasing costs more).
constexpr int64_t kReleaseGilWork = 32768;

// Runs the device's kernel from `table` on `args`, without the GIL when `work` is large.
template <class Fn, class Args>
void run_kernel(const DispatchTable<Fn>& table, const Args& args, int64_t work, Device device) {
  Fn fn = table.pick(device);
  if (work >= kReleaseGilWork || device.is_cuda()) {
    py::gil_scoped_release no_gil;
    fn(args);
  } else {
    fn(args);
  }
}

// "float32 tensor of shape (2, 3)", for error messages.
std::string describe(const Tensor& t);

// `t` in dtype `d` (the same tensor when it already is).
inline Tensor cast(const Tensor& t, DType d) { return t.dtype() == d ? t : t.to(d); }

// Gives the inputs their own copy when one partially overlaps the in-place output.
Tensor unalias(const Tensor& out, const Tensor& in);

// Runs `f` and returns its result as a new reference, or nullptr with the Python error set,
// for functions that bypass pybind11's dispatcher (and so its exception translators).
template <class F>
PyObject* call_translated(const F& f) {
  try {
    return f().release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    if (!set_python_error(e)) PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// A METH_FASTCALL function as the PyCFunction a PyMethodDef holds.
inline PyCFunction fastcall(PyObject* (*f)(PyObject*, PyObject* const*, Py_ssize_t)) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

}  // namespace ember::py_bind
