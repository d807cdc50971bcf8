#include "core/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "core/error.h"

namespace ember {
namespace {

int initial_threads() {
  if (const char* env = std::getenv("EMBER_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1, omp_get_num_procs());
}

std::atomic<int>& thread_count() {
  static std::atomic<int> n{initial_threads()};
  return n;
}

}  // namespace

int get_num_threads() { return thread_count().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1) fail<ValueError>("set_num_threads", "expected a positive thread count, got ", n);
  thread_count().store(n, std::memory_order_relaxed);
}

bool in_parallel_region() { return omp_in_parallel() != 0; }

void parallel_for_impl(int64_t begin, int64_t end, int64_t grain,
                       void (*fn)(int64_t, int64_t, void*), void* ctx) {
  int64_t n = end - begin;
  if (n <= 0) return;
  int64_t max_chunks = grain > 0 ? (n + grain - 1) / grain : n;
  int nt = static_cast<int>(std::min<int64_t>(get_num_threads(), max_chunks));
  if (nt <= 1 || omp_in_parallel()) {
    fn(begin, end, ctx);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int threads = omp_get_num_threads();
    int64_t chunk = (n + threads - 1) / threads;
    int64_t b = begin + t * chunk;
    int64_t e = std::min(end, b + chunk);
    if (b < e) fn(b, e, ctx);
  }
}

}  // namespace ember
