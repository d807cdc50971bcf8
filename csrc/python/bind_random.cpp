#include "python/bindings.h"

namespace ember::py_bind {

void bind_random(py::module_& m) { (void)m; }

}  // namespace ember::py_bind
