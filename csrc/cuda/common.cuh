// Helpers every CUDA kernel file shares: error checks that raise ember RuntimeErrors naming the
// CUDA call, the device a kernel must run on, and launch sizes. All work goes to the legacy
// default stream, so kernels, copies and the caching allocator's block reuse are ordered.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/error.h"

namespace ember::cuda {

// Raises "[cuda] <call> failed: <cudaGetErrorString> (<name>)" after clearing the error, so a
// non-sticky error cannot resurface in a later, unrelated check. Defined in runtime.cu.
[[noreturn]] void raise_error(const char* call, cudaError_t err);

inline void check(cudaError_t err, const char* call) {
  if (err != cudaSuccess) raise_error(call, err);
}

// After a kernel launch: a bad configuration shows up here; faults inside the kernel surface
// at the next synchronising call (a copy to the host, synchronize()).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Makes the device holding `ptr` current, so a kernel on cuda:1 runs on cuda:1. Free when
// there is one device. Defined in runtime.cu.
void use_device_of(const void* ptr);

// Blocks for a grid-stride loop over `n` items at `per_block` items per block: enough blocks
// to fill every SM several times, never more than the work needs.
int64_t grid_size(int64_t n, int64_t per_block);

constexpr int kThreads = 256;

}  // namespace ember::cuda
