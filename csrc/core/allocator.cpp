#include "core/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace ember {
namespace {

constexpr size_t kAlign = 64;
// Below this, sizes round to 64 bytes and have an array slot; above, 1/8-power-of-two steps.
constexpr size_t kSmallMax = size_t{1} << 16;
constexpr size_t kSmallClasses = kSmallMax / kAlign + 1;
constexpr int64_t kSmallCacheLimit = int64_t{64} << 20;

size_t cache_limit_bytes() {
  static const size_t limit = [] {
    const char* env = std::getenv("EMBER_CPU_CACHE_MB");
    size_t mb = env ? std::strtoull(env, nullptr, 10) : 2048;
    return mb << 20;
  }();
  return limit;
}

size_t round_size(size_t n) {
  if (n <= kSmallMax) return std::max(kAlign, (n + kAlign - 1) / kAlign * kAlign);
  size_t p = size_t{1} << (63 - __builtin_clzll(n));
  size_t step = p / 8;
  return (n + step - 1) / step * step;
}

// Freed blocks form intrusive singly linked lists: the first word of a free block points to
// the next one, so caching a block allocates nothing.
struct FreeList {
  void* head = nullptr;
  void push(void* p) {
    *static_cast<void**>(p) = head;
    head = p;
  }
  void* pop() {
    void* p = head;
    if (p) head = *static_cast<void**>(p);
    return p;
  }
};

struct Cache {
  std::mutex mu;
  FreeList small[kSmallClasses];
  std::map<size_t, FreeList> large;
  int64_t small_cached = 0;
  MemoryStats stats{};

  FreeList& list(size_t n) { return n <= kSmallMax ? small[n / kAlign] : large[n]; }
};

Cache& cache() {
  static Cache* c = new Cache();  // leaked: tensors may be freed during interpreter teardown
  return *c;
}

void* raw_alloc(size_t n) {
  void* p = std::aligned_alloc(kAlign, n);
  if (!p) throw std::bad_alloc();
  return p;
}

void note_alloc(Cache& c, size_t n) {
  c.stats.num_allocs++;
  c.stats.allocated_bytes += static_cast<int64_t>(n);
  c.stats.peak_allocated_bytes = std::max(c.stats.peak_allocated_bytes, c.stats.allocated_bytes);
}

}  // namespace

void* cpu_allocate(size_t nbytes) {
  size_t n = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (void* p = c.list(n).pop()) {
      c.stats.cached_bytes -= static_cast<int64_t>(n);
      if (n <= kSmallMax) c.small_cached -= static_cast<int64_t>(n);
      c.stats.num_cache_hits++;
      note_alloc(c, n);
      return p;
    }
  }
  void* p = nullptr;
  try {
    p = raw_alloc(n);
  } catch (const std::bad_alloc&) {
    cpu_empty_cache();  // cached blocks of other sizes may be what stands in the way
    p = raw_alloc(n);
  }
  std::lock_guard<std::mutex> lock(c.mu);
  note_alloc(c, n);
  return p;
}

void cpu_free(void* ptr, size_t nbytes) {
  if (!ptr) return;
  size_t n = round_size(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.allocated_bytes -= static_cast<int64_t>(n);
    bool small = n <= kSmallMax;
    bool fits = small ? c.small_cached + static_cast<int64_t>(n) <= kSmallCacheLimit
                      : c.stats.cached_bytes + static_cast<int64_t>(n) <=
                            static_cast<int64_t>(cache_limit_bytes());
    if (fits) {
      c.list(n).push(ptr);
      c.stats.cached_bytes += static_cast<int64_t>(n);
      if (small) c.small_cached += static_cast<int64_t>(n);
      return;
    }
  }
  std::free(ptr);
}

void cpu_empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto drain = [](FreeList& l) {
    while (void* p = l.pop()) std::free(p);
  };
  for (FreeList& l : c.small) drain(l);
  for (auto& kv : c.large) drain(kv.second);
  c.large.clear();
  c.stats.cached_bytes = 0;
  c.small_cached = 0;
}

MemoryStats cpu_memory_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void cpu_reset_peak_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_allocated_bytes = c.stats.allocated_bytes;
}

}  // namespace ember
