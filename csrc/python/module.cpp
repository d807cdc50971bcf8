// ember._C: every C++ error becomes a Python exception here; nothing escapes as an abort.
#include "core/dispatch.h"
#include "python/bindings.h"

namespace ember::py_bind {
namespace {

void translate_errors() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
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
}
