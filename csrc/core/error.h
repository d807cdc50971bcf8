// Errors raised by ops. Each maps to one Python exception at the binding (see module.cpp):
// ValueError, TypeError, IndexError, RuntimeError; std::bad_alloc becomes MemoryError.
// Messages start with the op in brackets: "[matmul] shapes (3, 4) and (5, 6) ...".
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {

struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct IndexError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NotImplementedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class SmallVec;
std::string shape_str(const SmallVec& shape);

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Builds "[op] " + the streamed parts, e.g. fail<ValueError>("add", "shapes ", a, " and ", b).
template <class E, class... Parts>
[[noreturn]] void fail(const char* op, const Parts&... parts) {
  std::ostringstream os;
  os << '[' << op << "] ";
  detail::append(os, parts...);
  throw E(os.str());
}

}  // namespace ember
