// ember._C: every C++ error becomes a Python exception here; nothing escapes as an abort.
#include "core/dispatch.h"
#include "python/bindings.h"

namespace ember::py_bind {

bool set_python_error(const std::exception& e) {
  PyObject* type = dynamic_cast<const ValueError*>(&e)            ? PyExc_ValueError
                   : dynamic_cast<const TypeError*>(&e)           ? PyExc_TypeError
                   : dynamic_cast<const IndexError*>(&e)          ? PyExc_IndexError
                   : dynamic_cast<const NotImplementedError*>(&e) ? PyExc_NotImplementedError
                                                                  : nullptr;
  if (!type) return false;
  PyErr_SetString(type, e.what());
  return true;
}

namespace {

void translate_errors() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::exception& e) {
      if (!set_python_error(e)) throw;  // pybind11's own mapping for std:: exceptions
    }
  });
}

}  // namespace
}  // namespace ember::py_bind

PYBIND11_MODULE(_C, m) {
  using namespace ember::py_bind;
  m.doc() = "ember's C++ core: tensors and kernels";
  translate_errors();
  bind_tensor(m);
  bind_creation(m);
  bind_elementwise(m);
  bind_reduce(m);
  bind_index(m);
  bind_random(m);
  bind_runtime(m);
  bind_probe(m);
  bind_gemm(m);
  bind_linalg(m);
  bind_nn(m);
  bind_optim(m);
  bind_pool(m);
  bind_norm(m);
  bind_conv(m);
}
