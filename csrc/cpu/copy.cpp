// copy/cast: dst[i] = convert(src[i]) for every pair of dtypes, any strides (the iteration
// already broadcasts src). Same-dtype contiguous runs are a memcpy.
#include "cpu/copy.h"

#include "cpu/loops.h"

namespace ember::cpu {
namespace {

template <class S, class D>
void cast_loop(char** data, const int64_t* s, int64_t n, const ElemIter&) {
  if constexpr (std::is_same_v<S, D>) {
    if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
      std::memcpy(data[0], data[1], static_cast<size_t>(n) * sizeof(D));
      return;
    }
  }
  unary_loop<S, D>(data, s, n, [](S v) { return convert<D>(v); });
}

void copy_kernel_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_dtype(it.dtype, [&](auto s) {
    visit_dtype(it.out_dtype, [&](auto d) { loop = cast_loop<decltype(s), decltype(d)>; });
  });
  cpu_elementwise(it, loop);
}

}  // namespace
EMBER_REGISTER_CPU(copy_kernel, copy_kernel_impl);
}  // namespace ember::cpu
