// Which per-capability kernel build to use: what the processor and OS support
// (__builtin_cpu_supports checks the OS-enabled register state too), lowered on request.
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "core/dispatch.h"

namespace ember {
namespace {

int detect() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
    return kCapAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    return kCapAvx2;
  return kCapDefault;
}

int initial() {
  int cap = detected_cpu_capability();
  if (const char* env = std::getenv("EMBER_CPU_CAPABILITY")) {
    try {
      int want = parse_capability(env);
      if (want < cap) cap = want;
    } catch (const std::exception&) {
      // An unknown name keeps the detected capability; config() shows which one is in use.
    }
  }
  return cap;
}

int& current() {
  static int cap = initial();
  return cap;
}

std::vector<KernelInfo>& tables() {
  static std::vector<KernelInfo>* t = new std::vector<KernelInfo>();
  return *t;
}

}  // namespace

int detected_cpu_capability() {
  static const int cap = detect();
  return cap;
}

int cpu_capability() { return current(); }

void set_cpu_capability(int cap) {
  if (cap < 0 || cap > detected_cpu_capability())
    fail<ValueError>("set_cpu_capability", "capability ", capability_name(cap < 0 ? 0 : cap),
                     " is not supported by this processor (best: ",
                     capability_name(detected_cpu_capability()), ")");
  current() = cap;
}

const char* capability_name(int cap) {
  static const char* names[] = {"default", "avx2", "avx512"};
  return (cap >= 0 && cap < kNumCpuCaps) ? names[cap] : "unknown";
}

int parse_capability(const std::string& name) {
  for (int c = 0; c < kNumCpuCaps; ++c)
    if (name == capability_name(c)) return c;
  fail<ValueError>("set_cpu_capability", "unknown capability '", name,
                   "' (expected default, avx2 or avx512)");
}

void register_kernel_table(const KernelInfo& info) { tables().push_back(info); }
const std::vector<KernelInfo>& kernel_tables() { return tables(); }

}  // namespace ember
