// Philox4x32-10, the counter-based generator of Salmon et al., "Parallel Random Numbers: As
// Easy as 1, 2, 3" (SC'11), as in Random123, cuRAND and PyTorch. A block is a pure function
// of (key, counter), so element i of a draw can be computed by any thread, on any device:
// key = the 64-bit seed, counter = (draw offset + i / values per block) as a 64-bit integer.
//
// Header-only and constexpr-free plain functions, callable from CUDA device code too.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define EMBER_HD __host__ __device__
#else
#define EMBER_HD
#endif

namespace ember::philox {

struct Block {
  uint32_t w[4];
};

static constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
static constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // key schedule

EMBER_HD static inline Block philox4x32_10(Block c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kMul0) * c.w[0];
    uint64_t p1 = static_cast<uint64_t>(kMul1) * c.w[2];
    Block n;
    n.w[0] = static_cast<uint32_t>(p1 >> 32) ^ c.w[1] ^ k0;
    n.w[1] = static_cast<uint32_t>(p1);
    n.w[2] = static_cast<uint32_t>(p0 >> 32) ^ c.w[3] ^ k1;
    n.w[3] = static_cast<uint32_t>(p0);
    c = n;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return c;
}

// The block at 64-bit counter `index` of the stream keyed by `seed`.
EMBER_HD static inline Block block(uint64_t seed, uint64_t index) {
  Block c{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), 0u, 0u}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

EMBER_HD static inline uint64_t join(uint32_t hi, uint32_t lo) {
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// [0, 1) with 24 (float) or 53 (double) random bits: every value exactly representable.
EMBER_HD static inline float to_float(uint32_t u) { return (u >> 8) * 5.9604644775390625e-8f; }
EMBER_HD static inline double to_double(uint64_t u) {
  return static_cast<double>(u >> 11) * 1.1102230246251565e-16;
}

// floor(u * range / 2^bits): Lemire's unbiased-enough map of random bits onto [0, range);
// the bias is at most range / 2^bits.
EMBER_HD static inline uint64_t scale32(uint32_t u, uint64_t range) {
  return (static_cast<uint64_t>(u) * range) >> 32;
}
EMBER_HD static inline uint64_t scale64(uint64_t u, uint64_t range) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(u, range);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(u) * range) >> 64);
#endif
}

}  // namespace ember::philox
