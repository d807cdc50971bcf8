// GEMM microkernels: an MR x NR block of C from a packed A panel (kc steps of MR values) and a
// packed B panel (kc steps of NR values). Each one keeps the whole MR x NR accumulator in
// registers; per step it loads NR/lanes vectors of B, broadcasts the MR values of A and issues
// MR * NR/lanes FMAs. Included only by per-capability files: everything sits in an anonymous
// namespace, compiled with the including object's instruction set.
//
// Tile sizes, by register count (acc + B vectors + one broadcast must fit):
//   AVX-512 (32 zmm): float 14 x 32, double 14 x 16 -> 28 accumulators, 2 B, 1 A.
//   AVX2    (16 ymm): float  6 x 16, double  6 x 8  -> 12 accumulators, 2 B, 1 A.
//   portable (SSE2 or scalar): 4 x 8 / 4 x 4 plain loops the compiler vectorises.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace ember::cpu {
namespace {

// What to do with the accumulated tile. The driver passes beta = 1 and no bias for every
// k-block after the first, so C accumulates across blocks.
template <class T>
struct Tail {
  T alpha;
  T beta;            // 0: C is not read
  const T* bias_n;   // NR values added to each row (per-column bias), or null
  const T* bias_m;   // MR values, one per row (per-row bias), or null
};

// ---- portable -----------------------------------------------------------------------------

// What the driver needs from every kernel besides run():
//   Type    the accumulation and C type; Packed: the element type of the packed panels
//   KA, KB  how many consecutive k values of one row (A) / column (B) sit together in a
//           packed panel: 1 for FMA kernels, 2 for bf16 dot-product pairs, 32 for AMX A rows
//   KPad    kc is padded (with zeros) to a multiple of this
//   kMaxKC  the largest automatic KC
//   thread_init / thread_fini  bracket a thread's use of the kernel (AMX tile configuration)
struct KernelDefaults {
  static constexpr int KA = 1, KB = 1, KPad = 1;
  static constexpr int64_t kMaxKC = 768;  // cap on the automatic KC (see choose_blocks)
  static constexpr bool kHasEdge = false;  // true: run_edge() handles partial tiles in place
  static void thread_init() {}
  static void thread_fini() {}
};

template <class T, int MR_, int NR_>
struct PortableKernel : KernelDefaults {
  using Type = T;
  using Packed = T;
  static constexpr int MR = MR_;
  static constexpr int NR = NR_;

  static void run(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  int64_t rsc, const Tail<T>& t) {
    T acc[MR][NR] = {};
    for (int64_t p = 0; p < kc; ++p) {
      for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
      }
      a += MR;
      b += NR;
    }
    for (int i = 0; i < MR; ++i) {
      T* row = c + i * rsc;
      for (int j = 0; j < NR; ++j) {
        T v = t.alpha * acc[i][j];
        if (t.beta != T(0)) v += t.beta * row[j];
        if (t.bias_n) v += t.bias_n[j];
        if (t.bias_m) v += t.bias_m[i];
        row[j] = v;
      }
    }
  }
};

// ---- vector kernels -------------------------------------------------------------------------

// The vector kernel computes an M x (NVv vectors) block, M <= MR and NVv <= NV, from panels
// packed for the full MR x NR tile. run() is the full tile; run_edge() picks the instance for
// a partial tile at the matrix edge, so edges do no wasted FMAs on padding rows and store the
// last vector of each row with a lane mask instead of going through a scratch tile.
template <class V, int MR_, int NV>
struct VectorKernel : KernelDefaults {
  using Type = typename V::T;
  using Packed = typename V::T;
  using T = typename V::T;
  using R = typename V::Reg;
  using Mask = typename V::Mask;
  static constexpr int MR = MR_;
  static constexpr int NR = NV * V::kLanes;
  static constexpr bool kHasEdge = true;

  static void run(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                  int64_t rsc, const Tail<T>& t) {
    tile<MR, NV, false>(kc, a, b, c, rsc, t, V::mask(V::kLanes));
  }

  static void run_edge(int mr, int nr, int64_t kc, const T* a, const T* b, T* c, int64_t rsc,
                       const Tail<T>& t) {
    const int nv = (nr + V::kLanes - 1) / V::kLanes;
    edge_rows<MR>(mr, nv, kc, a, b, c, rsc, t, V::mask(nr - (nv - 1) * V::kLanes));
  }

  template <int M>
  static void edge_rows(int mr, int nv, int64_t kc, const T* a, const T* b, T* c, int64_t rsc,
                        const Tail<T>& t, Mask last) {
    if constexpr (M > 0) {
      if (mr != M) return edge_rows<M - 1>(mr, nv, kc, a, b, c, rsc, t, last);
      edge_cols<M, NV>(nv, kc, a, b, c, rsc, t, last);
    }
  }

  template <int M, int NVv>
  static void edge_cols(int nv, int64_t kc, const T* a, const T* b, T* c, int64_t rsc,
                        const Tail<T>& t, Mask last) {
    if constexpr (NVv > 0) {
      if (nv != NVv) return edge_cols<M, NVv - 1>(nv, kc, a, b, c, rsc, t, last);
      tile<M, NVv, true>(kc, a, b, c, rsc, t, last);
    }
  }

  template <int M, int NVv, bool kMasked>
  static void tile(int64_t kc, const T* __restrict a, const T* __restrict b, T* __restrict c,
                   int64_t rsc, const Tail<T>& t, Mask last) {
    R acc[M][NVv];
#pragma GCC unroll 32
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NVv; ++v) acc[i][v] = V::zero();
    }
    // C is read only at the end. Its rows are often 4 KiB apart (n = 1024, 2048, ...), so all
    // 2 * M lines of the tile fall in one L1 set: fetched into L1 now they would evict each
    // other (and the B panel) long before use. They go to L2 first, then into L1 one row per
    // k step over the last M steps.
    for (int i = 0; i < M; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsc), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * rsc + NR - 1), _MM_HINT_T1);
    }
    const int64_t late = kc - M;
    // One k step per iteration: unrolling lets GCC rotate the accumulators through extra
    // register moves, which costs more than the loop's three scalar instructions.
#pragma GCC unroll 1
    for (int64_t p = 0; p < kc; ++p) {
      // B two cache lines per step, 24 steps (about 300 cycles) ahead: on its first use in a
      // row loop the B panel comes from L3.
      _mm_prefetch(reinterpret_cast<const char*>(b + 24 * NR), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(b + 24 * NR + 16), _MM_HINT_T0);
      if (p >= late) {
        const T* row = c + (p - late) * rsc;
        _mm_prefetch(reinterpret_cast<const char*>(row), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(row + NR - 1), _MM_HINT_T0);
      }
      R bv[NVv];
#pragma GCC unroll 4
      for (int v = 0; v < NVv; ++v) bv[v] = V::load_aligned(b + v * V::kLanes);
#pragma GCC unroll 32
      for (int i = 0; i < M; ++i) {
        const R ai = V::set1(a[i]);
#pragma GCC unroll 4
        for (int v = 0; v < NVv; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
      }
      a += MR;
      b += NR;
    }
    epilogue<M, NVv, kMasked>(acc, c, rsc, t, last);
  }

  // Small products, read in place: A row-major (rows lda apart, unit k stride), B row-major
  // (rows ldb apart, unit column stride), nothing packed. Below a few hundred thousand FLOPs
  // packing costs as much as the multiply. B's last vector is loaded with the lane mask at
  // the right edge, so nothing past column n is read.
  static void run_direct(int mr, int nr, int64_t k, const T* a, int64_t lda, const T* b,
                         int64_t ldb, T* c, int64_t rsc, const Tail<T>& t) {
    static_assert(NV <= 2, "direct_rows handles one or two vectors per row");
    const int nv = (nr + V::kLanes - 1) / V::kLanes;
    const Mask last = V::mask(nr - (nv - 1) * V::kLanes);
    if (mr == MR && nr == NR) return tile_direct<MR, NV, false>(k, a, lda, b, ldb, c, rsc, t, last);
    direct_rows<MR>(mr, nv, k, a, lda, b, ldb, c, rsc, t, last);
  }

  template <int M>
  static void direct_rows(int mr, int nv, int64_t k, const T* a, int64_t lda, const T* b,
                          int64_t ldb, T* c, int64_t rsc, const Tail<T>& t, Mask last) {
    if constexpr (M > 0) {
      if (mr != M) return direct_rows<M - 1>(mr, nv, k, a, lda, b, ldb, c, rsc, t, last);
      if (nv == NV) return tile_direct<M, NV, true>(k, a, lda, b, ldb, c, rsc, t, last);
      if constexpr (NV > 1) tile_direct<M, 1, true>(k, a, lda, b, ldb, c, rsc, t, last);
    }
  }

  template <int M, int NVv, bool kMasked>
  static void tile_direct(int64_t k, const T* __restrict a, int64_t lda, const T* __restrict b,
                          int64_t ldb, T* __restrict c, int64_t rsc, const Tail<T>& t,
                          Mask last) {
    R acc[M][NVv];
#pragma GCC unroll 32
    for (int i = 0; i < M; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NVv; ++v) acc[i][v] = V::zero();
    }
#pragma GCC unroll 1
    for (int64_t p = 0; p < k; ++p) {
      R bv[NVv];
#pragma GCC unroll 4
      for (int v = 0; v < NVv; ++v) {
        const T* src = b + p * ldb + v * V::kLanes;
        bv[v] = kMasked && v == NVv - 1 ? V::load(src, last) : V::load(src);
      }
#pragma GCC unroll 32
      for (int i = 0; i < M; ++i) {
        const R ai = V::set1(a[i * lda + p]);
#pragma GCC unroll 4
        for (int v = 0; v < NVv; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
      }
    }
    epilogue<M, NVv, kMasked>(acc, c, rsc, t, last);
  }

  // C = alpha * acc + beta * C + bias, unit column stride; with kMasked the last vector of
  // each row stores only the lanes in `last`.
  template <int M, int NVv, bool kMasked = false>
  static inline __attribute__((always_inline)) void epilogue(R (&acc)[M][NVv], T* c,
                                                             int64_t rsc, const Tail<T>& t,
                                                             Mask last = V::mask(V::kLanes)) {
    const R alpha = V::set1(t.alpha);
    const R beta = V::set1(t.beta);
#pragma GCC unroll 32
    for (int i = 0; i < M; ++i) {
      T* row = c + i * rsc;
#pragma GCC unroll 4
      for (int v = 0; v < NVv; ++v) {
        const bool part = kMasked && v == NVv - 1;
        T* out = row + v * V::kLanes;
        R r = V::mul(acc[i][v], alpha);
        if (t.beta != T(0)) r = V::fmadd(beta, part ? V::load(out, last) : V::load(out), r);
        if (t.bias_n) {
          const T* bias = t.bias_n + v * V::kLanes;
          r = V::add(r, part ? V::load(bias, last) : V::load(bias));
        }
        if (t.bias_m) r = V::add(r, V::set1(t.bias_m[i]));
        if (part) {
          V::store(out, r, last);
        } else {
          V::store(out, r);
        }
      }
    }
  }
};

#if defined(__AVX512F__)
struct V512f {
  using T = float;
  using Reg = __m512;
  static constexpr int kLanes = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(T x) { return _mm512_set1_ps(x); }
  using Mask = __mmask16;
  static Mask mask(int n) { return static_cast<Mask>((1u << n) - 1); }
  static Reg load(const T* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(T* p, Reg r, Mask m) { _mm512_mask_storeu_ps(p, m, r); }
  static Reg load(const T* p) { return _mm512_loadu_ps(p); }
  static Reg load_aligned(const T* p) { return _mm512_load_ps(p); }
  static void store(T* p, Reg r) { _mm512_storeu_ps(p, r); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
};
struct V512d {
  using T = double;
  using Reg = __m512d;
  static constexpr int kLanes = 8;
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg set1(T x) { return _mm512_set1_pd(x); }
  using Mask = __mmask8;
  static Mask mask(int n) { return static_cast<Mask>((1u << n) - 1); }
  static Reg load(const T* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(T* p, Reg r, Mask m) { _mm512_mask_storeu_pd(p, m, r); }
  static Reg load(const T* p) { return _mm512_loadu_pd(p); }
  static Reg load_aligned(const T* p) { return _mm512_load_pd(p); }
  static void store(T* p, Reg r) { _mm512_storeu_pd(p, r); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
};
using KernelF32 = VectorKernel<V512f, 14, 2>;
using KernelF64 = VectorKernel<V512d, 14, 2>;
#elif defined(__AVX2__) && defined(__FMA__)
struct V256f {
  using T = float;
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(T x) { return _mm256_set1_ps(x); }
  using Mask = __m256i;
  static Mask mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg load(const T* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(T* p, Reg r, Mask m) { _mm256_maskstore_ps(p, m, r); }
  static Reg load(const T* p) { return _mm256_loadu_ps(p); }
  static Reg load_aligned(const T* p) { return _mm256_load_ps(p); }
  static void store(T* p, Reg r) { _mm256_storeu_ps(p, r); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
};
struct V256d {
  using T = double;
  using Reg = __m256d;
  static constexpr int kLanes = 4;
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg set1(T x) { return _mm256_set1_pd(x); }
  using Mask = __m256i;
  static Mask mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static Reg load(const T* p, Mask m) { return _mm256_maskload_pd(p, m); }
  static void store(T* p, Reg r, Mask m) { _mm256_maskstore_pd(p, m, r); }
  static Reg load(const T* p) { return _mm256_loadu_pd(p); }
  static Reg load_aligned(const T* p) { return _mm256_load_pd(p); }
  static void store(T* p, Reg r) { _mm256_storeu_pd(p, r); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
};
using KernelF32 = VectorKernel<V256f, 6, 2>;
using KernelF64 = VectorKernel<V256d, 6, 2>;
#else
using KernelF32 = PortableKernel<float, 4, 8>;
using KernelF64 = PortableKernel<double, 4, 4>;
#endif

}  // namespace
}  // namespace ember::cpu
