// bfloat16 microkernels with float32 accumulation, for the AVX-512 build only. Their
// instructions are beyond the AVX-512 tier's compile flags, so each function carries its own
// target attribute and gemm.cpp calls them only after a run-time check.
//
// AVX512_BF16 (Bf16DotKernel): VDPBF16PS multiplies 16 pairs of bf16 and adds both products
// to 16 float lanes, so panels interleave k in pairs (KA = KB = 2): a broadcast 32-bit pair of
// A times a vector of 16 column pairs of B. A 12 x 32 register tile (24 accumulators),
// twice the FLOPs per instruction.
//
// AMX (AmxBf16Kernel): eight 1 KiB tile registers. C is a 32 x 32 block held in four 16 x 16
// float tiles; each 32-deep k step loads two A tiles (16 rows x 32 k, the A panel packed as
// 32-wide row chunks, KA = 32) and two B tiles (16 k pairs x 16 columns, from the pair-packed B
// panel with a 128-byte row stride) and issues four TDPBF16PS, 16 x 16 x 32 MACs each.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "cpu/gemm/ukernel.h"
#include "cpu/loops.h"

#if defined(__AVX512F__)
#define EMBER_TARGET_BF16 __attribute__((target("avx512bf16")))
#define EMBER_TARGET_AMX __attribute__((target("amx-tile,amx-bf16")))

namespace ember::cpu {
namespace {

using F32Tile = VectorKernel<V512f, 12, 2>;  // for its epilogue

struct Bf16DotKernel : KernelDefaults {
  using Type = float;
  using Packed = bf16_t;
  static constexpr int MR = 12, NR = 32, KA = 2, KB = 2, KPad = 2;

  EMBER_TARGET_BF16 static void run(int64_t kc, const bf16_t* a, const bf16_t* b, float* c,
                                    int64_t rsc, const Tail<float>& t) {
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    const int32_t* a32 = reinterpret_cast<const int32_t*>(a);
    for (int64_t p = 0; p < kc; p += 2) {
      const __m512bh b0 = (__m512bh)_mm512_load_si512(b);
      const __m512bh b1 = (__m512bh)_mm512_load_si512(b + 32);
#pragma GCC unroll 12
      for (int i = 0; i < MR; ++i) {
        const __m512bh ai = (__m512bh)_mm512_set1_epi32(a32[i]);
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
      }
      a32 += MR;
      b += 2 * NR;
    }
    F32Tile::epilogue<MR, 2>(acc, c, rsc, t);
  }
};

// The tile configuration every thread loads before its first AMX instruction: palette 1,
// tiles 0-3 (C) 16 rows x 16 floats, 4-5 (A) and 6-7 (B) 16 rows x 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

struct AmxBf16Kernel : KernelDefaults {
  using Type = float;
  using Packed = bf16_t;
  static constexpr int MR = 32, NR = 32, KA = 32, KB = 2, KPad = 32;
  // Each call reloads C (4 KiB of tiles) and the tile loads dominate, so a longer K per call
  // pays: 1024 measured 10-20% faster than 768 at 1024^3 and 2048^3.
  static constexpr int64_t kMaxKC = 1024;

  EMBER_TARGET_AMX static void thread_init() {
    TileConfig cfg;
    for (int i = 0; i < 8; ++i) {
      cfg.colsb[i] = 64;
      cfg.rows[i] = 16;
    }
    // GCC's _tile_loadconfig tells the compiler it reads 8 bytes only, so without this
    // barrier the stores above are dropped as dead.
    asm volatile("" : : "r"(&cfg) : "memory");
    _tile_loadconfig(&cfg);
  }
  EMBER_TARGET_AMX static void thread_fini() { _tile_release(); }

  EMBER_TARGET_AMX static void run(int64_t kc, const bf16_t* a, const bf16_t* b, float* c,
                                   int64_t rsc, const Tail<float>& t) {
    // C += A @ B (alpha 1, beta 0 or 1, no bias: every matmul) keeps C in the tiles from load
    // to store; anything else goes through a scratch tile and the vector epilogue.
    const bool direct = t.alpha == 1.0f && (t.beta == 0.0f || t.beta == 1.0f) && !t.bias_n &&
                        !t.bias_m;
    const int64_t stride = rsc * static_cast<int64_t>(sizeof(float));
    if (direct && t.beta == 1.0f) {
      _tile_loadd(0, c, stride);
      _tile_loadd(1, c + 16, stride);
      _tile_loadd(2, c + 16 * rsc, stride);
      _tile_loadd(3, c + 16 * rsc + 16, stride);
    } else {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    }
    for (int64_t p = 0; p < kc; p += 32) {
      const bf16_t* ap = a + p * MR;
      const bf16_t* bp = b + p * NR;
      // The A panel streams from L2 (the B panel stays in L1 across the row loop): fetch the
      // next 2 KiB chunk while this one computes.
      if (p + 32 < kc) {
        for (int line = 0; line < 32; ++line)
          _mm_prefetch(reinterpret_cast<const char*>(ap + MR * 32 + line * 32), _MM_HINT_T0);
      }
      _tile_loadd(4, ap, 64);
      _tile_loadd(5, ap + 16 * 32, 64);
      _tile_loadd(6, bp, 128);
      _tile_loadd(7, bp + 32, 128);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    if (direct) {
      _tile_stored(0, c, stride);
      _tile_stored(1, c + 16, stride);
      _tile_stored(2, c + 16 * rsc, stride);
      _tile_stored(3, c + 16 * rsc + 16, stride);
      return;
    }
    alignas(64) float acc[MR * NR];
    _tile_stored(0, acc, NR * 4);
    _tile_stored(1, acc + 16, NR * 4);
    _tile_stored(2, acc + 16 * NR, NR * 4);
    _tile_stored(3, acc + 16 * NR + 16, NR * 4);
    for (int half = 0; half < 2; ++half) {
      __m512 regs[16][2];
      for (int i = 0; i < 16; ++i) {
        regs[i][0] = _mm512_load_ps(acc + (half * 16 + i) * NR);
        regs[i][1] = _mm512_load_ps(acc + (half * 16 + i) * NR + 16);
      }
      Tail<float> th = t;
      if (t.bias_m) th.bias_m = t.bias_m + half * 16;
      F32Tile::epilogue<16, 2>(regs, c + half * 16 * rsc, rsc, th);
    }
  }
};

}  // namespace
}  // namespace ember::cpu
#endif
