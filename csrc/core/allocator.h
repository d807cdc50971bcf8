// Memory for tensors. The CPU allocator caches large freed blocks: a fresh 64 MiB buffer costs
// ~16k page faults on first touch, which is most of the time of a large elementwise op; a
// reused block is already mapped. Blocks are 64-byte aligned. The cache is bounded
// (EMBER_CPU_CACHE_MB, default 2048) and `empty_cache()` returns it to the system.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ember {

struct MemoryStats {
  int64_t allocated_bytes;       // live, handed out to tensors
  int64_t peak_allocated_bytes;  // high-water mark of allocated_bytes
  int64_t cached_bytes;          // freed blocks kept for reuse
  int64_t num_allocs;            // calls to allocate
  int64_t num_cache_hits;        // allocations served from the cache
};

void* cpu_allocate(size_t nbytes);  // throws std::bad_alloc
void cpu_free(void* ptr, size_t nbytes);
void cpu_empty_cache();
MemoryStats cpu_memory_stats();
void cpu_reset_peak_stats();

}  // namespace ember
