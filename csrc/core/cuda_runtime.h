// The slice of the CUDA runtime that core code needs, implemented by csrc/cuda/runtime.cu
// when ember is built with CUDA and by csrc/cuda/no_cuda.cpp otherwise. Core code never
// includes a CUDA header, so the CPU-only build needs no toolkit.
#pragma once
#include <cstddef>
#include <string>

namespace ember::cuda {

bool built();        // compiled with CUDA kernels
int device_count();  // 0 without a driver or a device; never throws
// Raises RuntimeError naming `op` when CUDA cannot be used (not built, no device, bad index).
void check_device(const char* op, int index);
void* malloc(size_t nbytes, int device);  // MemoryError when the device is full
void free(void* ptr, int device);
void memcpy_h2d(void* dst, const void* src, size_t nbytes, int device);
void memcpy_d2h(void* dst, const void* src, size_t nbytes, int device);
void memcpy_d2d(void* dst, const void* src, size_t nbytes, int device);
void synchronize(int device);
std::string device_name(int device);

}  // namespace ember::cuda
