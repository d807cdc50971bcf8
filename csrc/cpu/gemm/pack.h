// Packing: copies a block of A or B into the order the microkernel reads, converting the
// element type (float16/bfloat16 storage to float32) and padding partial panels with zeros so
// the microkernel always runs a full tile. Per-capability code, anonymous namespace.
//
// A block (mc x kc) -> ceil(mc / MR) panels, each kc steps of MR values (k-major).
// B block (kc x nc) -> ceil(nc / NR) panels, each kc steps of NR values.
// A source whose elements are contiguous along the panel's short side (A column-major, B
// row-major) is a straight copy per step; the other orientation is a transposition, done in
// MR/NR-wide strips so each source row is read sequentially.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <immintrin.h>

#include "cpu/gemm/ukernel.h"
#include "cpu/loops.h"

namespace ember::cpu {
namespace {

template <class T, class S>
inline T to_compute(S v) {
  if constexpr (std::is_same_v<T, S>) {
    return v;
  } else {
    return convert<T>(v);
  }
}

#if defined(__AVX512F__)
// In-register transpose of 16 x 16 floats: r[i] holds row i on entry, column i on exit.
// Three shuffle stages (pairs, quads, 128-bit lanes) of 16 instructions each, then 16 more.
inline void transpose(__m512 (&r)[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 16; g += 4) {  // u[g + c] lane L: rows g..g+3 of column 4L + c
    auto pd = [](__m512 x) { return _mm512_castps_pd(x); };
    u[g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[g]), pd(t[g + 2])));
    u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[g]), pd(t[g + 2])));
    u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[g + 1]), pd(t[g + 3])));
    u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[g + 1]), pd(t[g + 3])));
  }
  for (int c = 0; c < 4; ++c) {
    __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    __m512 w0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    __m512 v1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(w0, w1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(w0, w1, 0xDD);
  }
}

// In-register transpose of 8 x 8 doubles: r[i] holds row i on entry, column i on exit.
inline void transpose(__m512d (&r)[8]) {
  __m512d t[8], u[8];
  for (int i = 0; i < 8; i += 2) {  // t[i]: columns 0,2,4,6 of rows i, i+1; t[i+1]: 1,3,5,7
    t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
  }
  for (int odd = 0; odd < 2; ++odd) {  // u: 128-bit lanes regrouped by column
    u[4 * odd + 0] = _mm512_shuffle_f64x2(t[odd], t[2 + odd], 0x88);
    u[4 * odd + 1] = _mm512_shuffle_f64x2(t[odd], t[2 + odd], 0xDD);
    u[4 * odd + 2] = _mm512_shuffle_f64x2(t[4 + odd], t[6 + odd], 0x88);
    u[4 * odd + 3] = _mm512_shuffle_f64x2(t[4 + odd], t[6 + odd], 0xDD);
  }
  for (int odd = 0; odd < 2; ++odd) {
    r[odd + 0] = _mm512_shuffle_f64x2(u[4 * odd], u[4 * odd + 2], 0x88);
    r[odd + 4] = _mm512_shuffle_f64x2(u[4 * odd], u[4 * odd + 2], 0xDD);
    r[odd + 2] = _mm512_shuffle_f64x2(u[4 * odd + 1], u[4 * odd + 3], 0x88);
    r[odd + 6] = _mm512_shuffle_f64x2(u[4 * odd + 1], u[4 * odd + 3], 0xDD);
  }
}

// KS = 2 panel of bf16 from a source contiguous along the panel's short side (B row-major):
// two k rows of 32 values become 32 interleaved pairs with one two-source permute per 64
// bytes out. Returns the k steps done (even); the caller finishes the rest.
template <int W>
int64_t pack_pairs_interleaved(const uint16_t* s, int64_t ks, int w, int64_t kc, uint16_t* dst) {
  if (w != W || W % 32 != 0) return 0;
  alignas(64) static constexpr uint16_t kLo[32] = {
      0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
      8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  const __m512i lo = _mm512_load_si512(kLo);
  const __m512i hi = _mm512_add_epi16(lo, _mm512_set1_epi16(16));
  int64_t p = 0;
  for (; p + 2 <= kc; p += 2) {
    for (int j = 0; j < W; j += 32) {
      const __m512i x = _mm512_loadu_si512(s + p * ks + j);
      const __m512i y = _mm512_loadu_si512(s + (p + 1) * ks + j);
      uint16_t* d = dst + p * W + 2 * j;
      _mm512_storeu_si512(d, _mm512_permutex2var_epi16(x, lo, y));
      _mm512_storeu_si512(d + 32, _mm512_permutex2var_epi16(x, hi, y));
    }
  }
  return p;
}
#elif defined(__AVX2__)
// In-register transpose of 8 x 8 floats (AVX2): r[i] holds row i on entry, column i on exit.
inline void transpose(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 8; g += 4) {  // u[g + c], 128-bit lane L: rows g..g+3 of column 4L + c
    u[g + 0] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
    u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
    u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
    u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

#endif

// The vector type whose in-register transpose packs rows of T (void: none, scalar loops).
template <class T>
struct TransposeVec {
  using type = void;
};
#if defined(__AVX512F__)
template <>
struct TransposeVec<float> {
  using type = V512f;
};
template <>
struct TransposeVec<double> {
  using type = V512d;
};
#elif defined(__AVX2__) && defined(__FMA__)
template <>
struct TransposeVec<float> {
  using type = V256f;
};
#endif

// The transposing pack for rows with unit k-stride (A row-major, B = W^T): L rows by L steps
// of k at a time (L lanes per vector) through an in-register transpose, each column stored
// as one masked vector. Returns the number of k steps done (a multiple of L); the caller
// finishes the rest.
template <class V, int W>
int64_t pack_rows_transposed(const typename V::T* s, int64_t rs, int w, int64_t kc,
                             typename V::T* dst) {
  constexpr int L = V::kLanes;
  int64_t p = 0;
  for (; p + L <= kc; p += L) {
    for (int g = 0; g < W; g += L) {
      typename V::Reg r[L];
      for (int i = 0; i < L; ++i) r[i] = g + i < w ? V::load(s + (g + i) * rs + p) : V::zero();
      transpose(r);
      const typename V::Mask lanes = V::mask(std::min(L, W - g));
      for (int q = 0; q < L; ++q) V::store(dst + (p + q) * W + g, r[q], lanes);
    }
  }
  return p;
}

// One KS = 1 panel of w <= W rows: k-major, W values per step.
template <int W, class T, class S>
void pack_panel_k1(const S* s, int64_t rs, int64_t ks, int w, int64_t kc, T* dst) {
  if (rs == 1) {
    for (int64_t p = 0; p < kc; ++p) {
      const S* sp = s + p * ks;
      T* d = dst + p * W;
      if constexpr (std::is_same_v<T, S>) {
        if (w == W) {
          std::memcpy(d, sp, sizeof(T) * W);
          continue;
        }
      }
      for (int i = 0; i < w; ++i) d[i] = to_compute<T>(sp[i]);
      for (int i = w; i < W; ++i) d[i] = T(0);
    }
    return;
  }
  if (w < W) std::memset(static_cast<void*>(dst), 0, sizeof(T) * W * kc);
  int64_t done = 0;
  using TV = typename TransposeVec<T>::type;
  if constexpr (std::is_same_v<T, S> && !std::is_void_v<TV>) {
    if (ks == 1) done = pack_rows_transposed<TV, W>(s, rs, w, kc, dst);
  }
  for (int i = 0; i < w; ++i) {
    const S* sr = s + i * rs;
    T* d = dst + i;
    if (ks == 1) {
      for (int64_t p = done; p < kc; ++p) d[p * W] = to_compute<T>(sr[p]);
    } else {
      for (int64_t p = 0; p < kc; ++p) d[p * W] = to_compute<T>(sr[p * ks]);
    }
  }
}

// Packs `rows` x kc of a matrix with strides (rs along the panel's short side, ks along k)
// into panels of W rows: the one routine behind both A (short side = rows of A) and B (short
// side = columns of B). Element (i, p) of a panel goes to [(p / KS) * W * KS + i * KS + p % KS]
// (KS = 1: k-major steps of W values; KS = 2: bf16 pairs; KS = 32: AMX tile rows); the panel
// holds kcp >= kc steps, the padding and rows past `rows` are zero. Panels start
// `panel_stride` elements apart (at least W * kcp).
template <int W, int KS, class T, class S>
void pack_panels(const S* src, int64_t rs, int64_t ks, int64_t rows, int64_t kc, int64_t kcp,
                 T* dst, int64_t panel_stride) {
  for (int64_t r0 = 0; r0 < rows; r0 += W) {
    const int w = static_cast<int>(std::min<int64_t>(W, rows - r0));
    const S* s = src + r0 * rs;
    if constexpr (KS == 1) {
      pack_panel_k1<W>(s, rs, ks, w, kc, dst);
      for (int64_t p = kc; p < kcp; ++p) std::memset(static_cast<void*>(dst + p * W), 0, sizeof(T) * W);
    } else {
      if (w < W || kcp > kc) std::memset(static_cast<void*>(dst), 0, sizeof(T) * W * kcp);
      int64_t done = 0;
#if defined(__AVX512F__)
      if constexpr (KS == 2 && sizeof(T) == 2 && std::is_same_v<T, S>) {
        if (rs == 1) {
          done = pack_pairs_interleaved<W>(reinterpret_cast<const uint16_t*>(s), ks, w, kc,
                                           reinterpret_cast<uint16_t*>(dst));
        } else if (ks == 1 && rs % 2 == 0 && reinterpret_cast<uintptr_t>(s) % 4 == 0) {
          // Row-major A: each k pair is one 32-bit word, so the pair layout is the float
          // transposition of the rows viewed as 32-bit words.
          done = pack_rows_transposed<V512f, W>(reinterpret_cast<const float*>(s), rs / 2, w,
                                                kc / 2, reinterpret_cast<float*>(dst)) * 2;
        }
      }
#endif
      for (int i = 0; i < w; ++i) {
        const S* sr = s + i * rs;
        T* d = dst + i * KS;
        if (done) {
          for (int64_t p = done; p < kc; ++p)
            d[(p / KS) * W * KS + p % KS] = to_compute<T>(sr[p * ks]);
        } else if (ks == 1 && std::is_same_v<T, S>) {
          for (int64_t p0 = 0; p0 < kc; p0 += KS)
            std::memcpy(static_cast<void*>(d + p0 * W), sr + p0,
                        sizeof(T) * std::min<int64_t>(KS, kc - p0));
        } else {
          for (int64_t p = 0; p < kc; ++p)
            d[(p / KS) * W * KS + p % KS] = to_compute<T>(sr[p * ks]);
        }
      }
    }
    dst += panel_stride;
  }
}

}  // namespace
}  // namespace ember::cpu
