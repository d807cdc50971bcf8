// Shared by the csrc/python/bind_*.cpp files: conversions between Python values and core
// types, and the per-family binding entry points called from module.cpp.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/tensor.h"

namespace ember::py_bind {

namespace py = pybind11;

// Sets the Python exception matching an ember error (ValueError, TypeError, IndexError,
// NotImplementedError); false for any other exception, which the caller maps itself.
bool set_python_error(const std::exception& e);

// ember.Tensor is a Python class with a `_c` slot holding a _C.Tensor. C++ reads and writes
// that slot directly, so ops take and return ember.Tensor objects without Python frames.
void set_tensor_class(py::handle cls);
// The _C.Tensor inside an ember.Tensor (borrowed), or nullptr when `obj` is not one.
PyObject* unwrap_tensor(PyObject* obj);
// Wraps a new reference to a _C.Tensor into an ember.Tensor (steals `c`).
PyObject* wrap_tensor(PyObject* c);
// The _C.Tensor Python type, and a new _C.Tensor object owning `t` (a new reference).
PyTypeObject* core_tensor_type();
PyObject* new_core_tensor(Tensor&& t);

// DType <-> the integer codes the Python layer uses (python/ember/_dtype.py mirrors them).
DType dtype_from_code(int code);
Device device_from_str(const std::string& s);
// A Python sequence or int of sizes as a Shape; TypeError names `op` otherwise.
Shape shape_from_py(const char* op, py::handle sizes);
py::tuple shape_to_py(const Shape& shape);

// A Python scalar (bool/int/float) held as a 0-d CPU tensor of `dtype`.
Tensor scalar_tensor(py::handle value, DType dtype, Device device);

void bind_tensor(py::module_& m);       // class, views, NumPy buffer, DLPack
void bind_creation(py::module_& m);     // empty/full/arange/linspace/eye, from Python data
void bind_elementwise(py::module_& m);  // arithmetic, math, comparison, logical, where
void bind_reduce(py::module_& m);       // sum/mean/.../cumsum
void bind_index(py::module_& m);        // cat/stack, gather/scatter, advanced indexing
void bind_random(py::module_& m);       // Philox generator, rand/randn/randint/bernoulli
void bind_runtime(py::module_& m);      // threads, capability, memory, CUDA queries, probes
void bind_probe(py::module_& m);        // peak FMA throughput and memory bandwidth probes
void bind_gemm(py::module_& m);         // raw GEMM kernel access, blocking and cache queries
void bind_linalg(py::module_& m);       // matmul, mm, bmm, addmm, baddbmm, mv, dot, outer, linear
void bind_nn(py::module_& m);           // softmax, log_softmax, cross_entropy (+ backward)
void bind_optim(py::module_& m);        // fused multi-tensor SGD/Adam/RMSprop/Adagrad steps
void bind_pool(py::module_& m);         // max/avg/adaptive pooling, nearest/bilinear upsampling
void bind_norm(py::module_& m);        // batch_norm, layer_norm, group_norm (+ backward)
void bind_conv(py::module_& m);         // conv2d forward and backward (im2col + GEMM)

}  // namespace ember::py_bind

// Every Tensor crossing the binding is an ember.Tensor on the Python side: arguments accept
// ember.Tensor (and _C.Tensor), results come back wrapped.
namespace pybind11::detail {
template <>
struct type_caster<ember::Tensor> : public type_caster_base<ember::Tensor> {
  using base = type_caster_base<ember::Tensor>;
  bool load(handle src, bool convert) {
    // Fast path: the _C.Tensor inside an ember.Tensor (or a _C.Tensor itself) holds the C++
    // object directly; no type-registry lookup needed.
    PyObject* inner = ember::py_bind::unwrap_tensor(src.ptr());
    if (!inner && Py_TYPE(src.ptr()) == ember::py_bind::core_tensor_type()) inner = src.ptr();
    if (inner && Py_TYPE(inner) == ember::py_bind::core_tensor_type()) {
      value = reinterpret_cast<instance*>(inner)->get_value_and_holder().value_ptr();
      return value != nullptr;
    }
    return base::load(src, convert);
  }
  static handle cast(const ember::Tensor& src, return_value_policy, handle) {
    return ember::py_bind::wrap_tensor(ember::py_bind::new_core_tensor(ember::Tensor(src)));
  }
  static handle cast(ember::Tensor&& src, return_value_policy, handle) {
    return ember::py_bind::wrap_tensor(ember::py_bind::new_core_tensor(std::move(src)));
  }
  static handle cast(const ember::Tensor* src, return_value_policy policy, handle parent) {
    return ember::py_bind::wrap_tensor(base::cast(src, policy, parent).ptr());
  }
};
}  // namespace pybind11::detail
