// Creation ops that allocate on the target device directly (no host staging): empty and full.
// Data-driven creation (tensor(), arange, linspace, eye) is in python/ember/creation.py.
#include "python/ops_common.h"

namespace ember::py_bind {

void bind_creation(py::module_& m) {
  m.def("empty", [](py::handle shape, int dtype, const std::string& device) {
    return Tensor::empty(shape_from_py("empty", shape), dtype_from_code(dtype),
                         device_from_str(device));
  }, py::arg("shape"), py::arg("dtype"), py::arg("device"));
  m.def("full", [](py::handle shape, py::handle value, int dtype, const std::string& device) {
    DType dt = dtype_from_code(dtype);
    Device dev = device_from_str(device);
    Tensor out = Tensor::empty(shape_from_py("full", shape), dt, dev);
    Operand v = to_operand("full", value);
    if (!v.is_scalar()) fail<TypeError>("full", "fill value must be a Python scalar");
    Tensor src = scalar_tensor(v.scalar, dt, dev);
    py::gil_scoped_release no_gil;
    copy_(out, src, "full");
    return out;
  }, py::arg("shape"), py::arg("value"), py::arg("dtype"), py::arg("device"));
}

}  // namespace ember::py_bind
