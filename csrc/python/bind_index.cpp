#include "python/bindings.h"

namespace ember::py_bind {

void bind_index(py::module_& m) { (void)m; }

}  // namespace ember::py_bind
