// The GEMM dispatch table and what the per-capability kernels ask of the machine: cache sizes
// (for the blocking), the blocking override, and the optional bf16 instruction sets.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cpu/gemm/gemm.h"

namespace ember {

EMBER_DEFINE_KERNEL(gemm_kernel, GemmFn);

namespace {

// "48K" / "2048K" / "300M" as written in /sys/devices/system/cpu/cpu0/cache/index*/size.
int64_t parse_size(const char* s) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (end == s || v <= 0) return 0;
  if (*end == 'K') v <<= 10;
  if (*end == 'M') v <<= 20;
  return v;
}

bool read_line(const std::string& path, char* buf, int n) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  bool ok = std::fgets(buf, n, f) != nullptr;
  std::fclose(f);
  return ok;
}

CacheSizes probe_caches() {
  CacheSizes c{0, 0, 0};
  for (int i = 0; i < 8; ++i) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    char level[16], type[32], size[32];
    if (!read_line(dir + "level", level, sizeof level)) break;
    if (!read_line(dir + "type", type, sizeof type) || !read_line(dir + "size", size, sizeof size))
      continue;
    if (std::strncmp(type, "Instruction", 11) == 0) continue;
    int64_t bytes = parse_size(size);
    switch (std::atoi(level)) {
      case 1: c.l1d = bytes; break;
      case 2: c.l2 = bytes; break;
      case 3: c.l3 = bytes; break;
    }
  }
  // Conservative defaults where sysfs is missing (containers, other OSes).
  if (c.l1d < 16 * 1024) c.l1d = 32 * 1024;
  if (c.l2 < c.l1d * 4) c.l2 = 1024 * 1024;
  if (c.l3 < c.l2) c.l3 = c.l2 * 4;
  return c;
}

int64_t env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::max<long long>(0, std::atoll(v)) : 0;
}

GemmBlocking& blocking() {
  static GemmBlocking b{env_int("EMBER_GEMM_MC"), env_int("EMBER_GEMM_KC"),
                        env_int("EMBER_GEMM_NC")};
  return b;
}

GemmBf16Path& bf16_path() {
  static GemmBf16Path path = GemmBf16Path::Auto;
  return path;
}

bool request_amx() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("amx-bf16") || !__builtin_cpu_supports("amx-tile")) return false;
  if (std::getenv("EMBER_DISABLE_AMX")) return false;
  // Linux hands out the 8 KiB tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM for
  // XFEATURE_XTILEDATA); the grant covers every thread of the process.
  constexpr long kReqXcompPerm = 0x1023;
  constexpr long kXtileData = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
}

}  // namespace

CacheSizes cpu_cache_sizes() {
  static const CacheSizes c = probe_caches();
  return c;
}

GemmBlocking gemm_blocking_override() { return blocking(); }

void set_gemm_blocking(GemmBlocking b) {
  if (b.mc < 0 || b.kc < 0 || b.nc < 0)
    fail<ValueError>("set_gemm_blocking", "block sizes must be >= 0 (0 = automatic), got mc=",
                     b.mc, " kc=", b.kc, " nc=", b.nc);
  blocking() = b;
}

GemmBf16Path gemm_bf16_path() { return bf16_path(); }

void set_gemm_bf16_path(GemmBf16Path path) {
  if (path == GemmBf16Path::Avx512Bf16 && !cpu_has_avx512_bf16())
    fail<ValueError>("set_gemm_bf16_path", "this processor has no AVX512_BF16");
  if (path == GemmBf16Path::Amx && !cpu_has_amx_bf16())
    fail<ValueError>("set_gemm_bf16_path", "AMX bf16 tiles are not usable here (no amx_bf16, "
                     "or the OS refused the tile state, or EMBER_DISABLE_AMX is set)");
  bf16_path() = path;
}

bool cpu_has_avx512_bf16() {
  static const bool has = [] {
    __builtin_cpu_init();
    return detected_cpu_capability() >= kCapAvx512 && __builtin_cpu_supports("avx512bf16");
  }();
  return has;
}

bool cpu_has_amx_bf16() {
  static const bool has = detected_cpu_capability() >= kCapAvx512 && request_amx();
  return has;
}

}  // namespace ember
