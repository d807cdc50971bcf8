// Threads for kernels. OpenMP's own thread count is per calling thread, so the library keeps
// its count here and passes num_threads(n) on every parallel region.
#pragma once
#include <cstdint>

namespace ember {

int get_num_threads();
void set_num_threads(int n);  // n >= 1
bool in_parallel_region();

// Calls fn(begin, end, ctx) on contiguous chunks of [begin, end), one per thread, using no
// more threads than (end - begin) / grain; runs inline when that is one.
void parallel_for_impl(int64_t begin, int64_t end, int64_t grain,
                       void (*fn)(int64_t, int64_t, void*), void* ctx);

// The template is instantiated with each caller's lambda, a type local to that translation
// unit, so the instantiation has internal linkage even inside a per-capability object.
template <class F>
inline void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (end - begin <= grain) {
    if (end > begin) f(begin, end);
    return;
  }
  parallel_for_impl(
      begin, end, grain,
      [](int64_t b, int64_t e, void* ctx) { (*static_cast<const F*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace ember
