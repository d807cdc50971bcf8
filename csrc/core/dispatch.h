// One table per kernel, filled by hand. Slots: default, avx2, avx512 (per-capability builds
// of csrc/cpu/*.cpp) and cuda (csrc/cuda/*.cu). `pick` returns the best filled CPU slot at or
// below the capability in use, or the CUDA slot, or raises NotImplementedError.
//
// Tables are constant-initialised (constexpr constructor), so a registration running during
// static initialisation of any object file always finds its table ready.
#pragma once
#include "core/error.h"
#include "core/tensor.h"

namespace ember {

enum CpuCapability : int { kCapDefault = 0, kCapAvx2 = 1, kCapAvx512 = 2 };
constexpr int kNumCpuCaps = 3;
constexpr int kCudaSlot = 3;

int detected_cpu_capability();  // what this processor and OS support
int cpu_capability();           // in use: detected, lowered by EMBER_CPU_CAPABILITY or a setter
void set_cpu_capability(int cap);  // ValueError above the detected one
const char* capability_name(int cap);
int parse_capability(const std::string& name);

struct KernelInfo {
  const char* name;
  void* const* slots;  // kNumCpuCaps + 1 entries
};
void register_kernel_table(const KernelInfo& info);
const std::vector<KernelInfo>& kernel_tables();

template <class Fn>
struct DispatchTable {
  constexpr explicit DispatchTable(const char* n) : name(n), slots{} {}

  Fn pick(Device device) const {
    if (device.is_cuda()) {
      if (!slots[kCudaSlot]) fail<NotImplementedError>(name, "no CUDA kernel");
      return slots[kCudaSlot];
    }
    for (int c = cpu_capability(); c >= 0; --c) {
      if (slots[c]) return slots[c];
    }
    fail<NotImplementedError>(name, "no CPU kernel");
  }

  const char* name;
  Fn slots[kNumCpuCaps + 1];
};

// In a baseline .cpp: defines the table and lists it in `_C.kernels()`.
#define EMBER_DEFINE_KERNEL(table, FnType)                                                  \
  ::ember::DispatchTable<FnType> table(#table);                                             \
  static const bool table##_listed_ = (::ember::register_kernel_table(                      \
      {#table, reinterpret_cast<void* const*>(table.slots)}), true)

// In a csrc/cpu/<family>.cpp: a single pointer store, so the static initialiser of an
// AVX-512 object runs no vector instruction on an older processor.
#define EMBER_REGISTER_CPU(table, fn) \
  static const bool table##_registered_ = (table.slots[EMBER_CAP_INDEX] = (fn), true)

#define EMBER_REGISTER_CUDA(table, fn) \
  static const bool table##_cuda_registered_ = (table.slots[::ember::kCudaSlot] = (fn), true)

}  // namespace ember
