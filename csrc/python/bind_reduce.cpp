#include "python/bindings.h"

namespace ember::py_bind {

void bind_reduce(py::module_& m) { (void)m; }

}  // namespace ember::py_bind
