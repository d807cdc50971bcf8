// The CUDA runtime interface of a build without CUDA: no devices, clear errors.
#include "core/cuda_runtime.h"
#include "core/error.h"

namespace ember::cuda {
namespace {
[[noreturn]] void unavailable(const char* op) {
  fail<std::runtime_error>(op, "CUDA is not available: ember was built without CUDA support");
}
}  // namespace

bool built() { return false; }
int device_count() { return 0; }
void check_device(const char* op, int) { unavailable(op); }
void* malloc(size_t, int) { unavailable("cuda_malloc"); }
void free(void*, int) {}
void memcpy_h2d(void*, const void*, size_t, int) { unavailable("to"); }
void memcpy_d2h(void*, const void*, size_t, int) { unavailable("to"); }
void memcpy_d2d(void*, const void*, size_t, int) { unavailable("to"); }
void synchronize(int) {}
std::string device_name(int) { unavailable("device_name"); }

}  // namespace ember::cuda
