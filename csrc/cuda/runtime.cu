// The CUDA runtime interface of core/cuda_runtime.h for a CUDA build: device queries that never
// throw when there is no driver or device, a caching allocator, copies and synchronisation.
//
// The allocator keeps freed blocks in per-device free lists keyed by rounded size. Reusing a
// block without synchronising is safe because every kernel and copy goes to the legacy default
// stream: work queued after the reuse runs after the work that used the block before.
#include <algorithm>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/cuda_runtime.h"
#include "cuda/common.cuh"

namespace ember::cuda {
namespace {

constexpr size_t kMinBlock = 512;
constexpr size_t kSmallMax = size_t{1} << 20;

// 512-byte steps up to 1 MiB, then eighths of a power of two: at most 12.5% waste, few sizes.
size_t round_size(size_t n) {
  if (n <= kSmallMax) return std::max(kMinBlock, (n + kMinBlock - 1) / kMinBlock * kMinBlock);
  size_t p = size_t{1} << (63 - __builtin_clzll(n));
  size_t step = p / 8;
  return (n + step - 1) / step * step;
}

struct Allocator {
  std::mutex mu;
  std::vector<std::map<size_t, std::vector<void*>>> free_lists;  // per device
  std::unordered_map<void*, size_t> live;                         // pointer -> rounded size
};

Allocator& allocator() {
  // Leaked: tensors may be freed during interpreter teardown, after static destructors ran.
  static Allocator* a = [] {
    auto* p = new Allocator();
    p->free_lists.resize(static_cast<size_t>(device_count()));
    return p;
  }();
  return *a;
}

void set_device(int device) {
  int current = -1;
  check(cudaGetDevice(&current), "cudaGetDevice");
  if (current != device) check(cudaSetDevice(device), "cudaSetDevice");
}

// Returns the cached blocks of `device` to the driver; cudaFree waits for the device first.
void empty_cache(int device) {
  std::vector<void*> blocks;
  {
    Allocator& a = allocator();
    std::lock_guard<std::mutex> lock(a.mu);
    for (auto& kv : a.free_lists[device]) {
      blocks.insert(blocks.end(), kv.second.begin(), kv.second.end());
    }
    a.free_lists[device].clear();
  }
  set_device(device);
  for (void* p : blocks) check(cudaFree(p), "cudaFree");
}

int device_of(const void* ptr) {
  cudaPointerAttributes attr{};
  check(cudaPointerGetAttributes(&attr, ptr), "cudaPointerGetAttributes");
  return attr.device;
}

}  // namespace

void raise_error(const char* call, cudaError_t err) {
  cudaGetLastError();
  fail<std::runtime_error>("cuda", call, " failed: ", cudaGetErrorString(err), " (",
                           cudaGetErrorName(err), ")");
}

bool built() { return true; }

int device_count() {
  // Asked once: the driver and CUDA_VISIBLE_DEVICES do not change while the process runs.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver, too old a driver, no device: all mean "no CUDA"
      return 0;
    }
    return n;
  }();
  return count;
}

void check_device(const char* op, int index) {
  int n = device_count();
  if (n == 0) fail<std::runtime_error>(op, "CUDA is not available: no CUDA device/driver found");
  if (index < 0 || index >= n)
    fail<std::runtime_error>(op, "device index ", index, " out of range (", n,
                             n == 1 ? " device)" : " devices)");
}

void use_device_of(const void* ptr) {
  if (device_count() > 1) set_device(device_of(ptr));
}

int64_t grid_size(int64_t n, int64_t per_block) {
  int device = 0;
  int sms = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute");
  int64_t need = (n + per_block - 1) / per_block;
  int64_t most = int64_t{sms} * 16;
  return need < most ? (need > 0 ? need : 1) : most;
}

void* malloc(size_t nbytes, int device) {
  check_device("cuda_malloc", device);
  size_t n = round_size(nbytes);
  Allocator& a = allocator();
  {
    std::lock_guard<std::mutex> lock(a.mu);
    auto it = a.free_lists[device].find(n);
    if (it != a.free_lists[device].end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      a.live[p] = n;
      return p;
    }
  }
  set_device(device);
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, n);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    empty_cache(device);  // cached blocks of other sizes may be what fills the device
    err = cudaMalloc(&p, n);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw std::bad_alloc();
    }
  }
  check(err, "cudaMalloc");
  std::lock_guard<std::mutex> lock(a.mu);
  a.live[p] = n;
  return p;
}

// Called from Storage's deleter, so it must not throw: it only moves the block to a free list.
void free(void* ptr, int device) {
  if (!ptr) return;
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  auto it = a.live.find(ptr);
  if (it == a.live.end()) return;  // not ours (cannot happen for Storage::allocate blocks)
  a.free_lists[device][it->second].push_back(ptr);
  a.live.erase(it);
}

// From pageable host memory cudaMemcpy returns once the source has been staged, so the caller
// may free it at once; the write into dst is ordered on the default stream.
void memcpy_h2d(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  set_device(device);
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}

// Waits for the kernels that produce src, then for the copy itself.
void memcpy_d2h(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  set_device(device);
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}

// dst lives on `device`; src may live on another one. cudaMemcpyPeer is ordered after the
// pending work of both devices, so no explicit synchronisation is needed.
void memcpy_d2d(void* dst, const void* src, size_t nbytes, int device) {
  if (nbytes == 0) return;
  int src_device = device_count() > 1 ? device_of(src) : device;
  set_device(device);
  check(cudaMemcpyPeer(dst, device, src, src_device, nbytes), "cudaMemcpyPeer");
}

void synchronize(int device) {
  check_device("synchronize", device);
  set_device(device);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

std::string device_name(int device) {
  check_device("device_name", device);
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

}  // namespace ember::cuda
