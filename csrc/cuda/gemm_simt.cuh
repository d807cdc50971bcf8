// The SIMT GEMM: every type, any strides. A block of 256 threads computes a BM x BM tile of C;
// each step stages a BK-deep slice of A and B in shared memory, k-major (sm[k][mn]), so a
// thread reads its TM values of A and TN of B as two vector loads each and does TM x TN FMAs.
// The shared buffers are doubled: the next slice is loaded from global memory into registers
// while the current one is computed on, then stored into the other buffer, one barrier a step.
#pragma once
#include "cuda/gemm_common.cuh"

namespace ember::cuda {
namespace {

// 128 x 128 tiles with 8 x 8 per thread for 4-byte accumulators; 64 x 64 with 4 x 4 for 8-byte
// ones (doubles take twice the registers). Either way 256 threads and a 16-byte chunk of
// shared memory per thread and operand.
template <class Acc>
struct SimtConfig {
  static constexpr int kBM = sizeof(Acc) == 4 ? 128 : 64;
  static constexpr int kBK = 8;
  static constexpr int kTM = sizeof(Acc) == 4 ? 8 : 4;
  static constexpr int kChunk = kBM * kBK / kGemmThreads;  // elements a thread loads
  static constexpr int kLd = kBM + kChunk;  // padded row: transposed stores avoid conflicts
  static_assert((kBM / kTM) * (kBM / kTM) == kGemmThreads, "one thread per TM x TM tile");
};

// Moves one BK x BM slice of an operand: global -> registers (load), registers -> shared
// (store, converted to Acc). A thread owns one chunk of kChunk elements, along k when the
// operand is k_fast (then stored transposed), else along mn. `start` fixes the thread's chunk
// for a matrix; each load then reads the slice at k0 from the same chunk origin.
template <class S, class Acc>
struct SimtLoader {
  using Cfg = SimtConfig<Acc>;
  static constexpr int kC = Cfg::kChunk;
  Vec<S, kC> r;
  const S* src;  // the chunk at k = kk
  int64_t gm;    // its row (mn) index
  int mn, kk;

  __device__ __forceinline__ void start(const Operand& o, const S* base, int64_t mn0) {
    const int t = threadIdx.x;
    if (o.k_fast) {
      mn = t / (Cfg::kBK / kC);
      kk = t % (Cfg::kBK / kC) * kC;
    } else {
      kk = t / (Cfg::kBM / kC);
      mn = t % (Cfg::kBM / kC) * kC;
    }
    gm = mn0 + mn;
    src = base + gm * o.s_mn + kk * o.s_k;
  }

  __device__ __forceinline__ void load(const Operand& o, int64_t k0, int64_t size_mn,
                                       int64_t size_k) {
    const int64_t gk = k0 + kk;
    const S* at = src + k0 * o.s_k;
    const bool full = o.k_fast ? gm < size_mn && gk + kC <= size_k
                               : gk < size_k && gm + kC <= size_mn;
    if (o.vec && full) {
      r = *reinterpret_cast<const Vec<S, kC>*>(at);
      return;
    }
    const int64_t step = o.k_fast ? o.s_k : o.s_mn;
#pragma unroll
    for (int v = 0; v < kC; ++v) {
      const bool in = o.k_fast ? gm < size_mn && gk + v < size_k : gk < size_k && gm + v < size_mn;
      r.v[v] = in ? at[v * step] : S{};
    }
  }

  __device__ __forceinline__ void store(bool k_fast, Acc (*sm)[Cfg::kLd]) const {
    if (k_fast) {
#pragma unroll
      for (int v = 0; v < kC; ++v) sm[kk + v][mn] = convert<Acc>(r.v[v]);
    } else {
      Vec<Acc, kC> w;
#pragma unroll
      for (int v = 0; v < kC; ++v) w.v[v] = convert<Acc>(r.v[v]);
      *reinterpret_cast<Vec<Acc, kC>*>(&sm[kk][mn]) = w;
    }
  }
};

// Thread (ty, tx) owns rows ty*TM/2 + [0, TM/2) and the same + BM/2 (likewise columns): the two
// halves sit BM/2 apart so a quarter-warp's 16-byte reads of B hit distinct banks.
template <class Acc>
__device__ __forceinline__ int simt_row(int t, int i) {
  using Cfg = SimtConfig<Acc>;
  constexpr int kHalf = Cfg::kTM / 2;
  return t * kHalf + i % kHalf + i / kHalf * (Cfg::kBM / 2);
}

template <class Acc>
__device__ __forceinline__ void simt_compute(const Acc (*as)[SimtConfig<Acc>::kLd],
                                             const Acc (*bs)[SimtConfig<Acc>::kLd], int ty,
                                             int tx, Acc (&acc)[SimtConfig<Acc>::kTM]
                                                               [SimtConfig<Acc>::kTM]) {
  using Cfg = SimtConfig<Acc>;
  constexpr int kTM = Cfg::kTM, kHalf = kTM / 2;
  using V = Vec<Acc, kHalf>;
#pragma unroll
  for (int kk = 0; kk < Cfg::kBK; ++kk) {
    Acc a[kTM], b[kTM];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      V va = *reinterpret_cast<const V*>(&as[kk][ty * kHalf + h * Cfg::kBM / 2]);
      V vb = *reinterpret_cast<const V*>(&bs[kk][tx * kHalf + h * Cfg::kBM / 2]);
#pragma unroll
      for (int v = 0; v < kHalf; ++v) {
        a[h * kHalf + v] = va.v[v];
        b[h * kHalf + v] = vb.v[v];
      }
    }
#pragma unroll
    for (int i = 0; i < kTM; ++i) {
#pragma unroll
      for (int j = 0; j < kTM; ++j) acc[i][j] += a[i] * b[j];
    }
  }
}

// S: input type, O: output type, Acc: accumulator (float for float16/bfloat16 inputs,
// unsigned for integers so that overflow wraps).
template <class S, class O, class Acc>
__global__ void __launch_bounds__(kGemmThreads) simt_gemm_kernel(GemmArgs<Acc> p) {
  using Cfg = SimtConfig<Acc>;
  constexpr int kBM = Cfg::kBM, kBK = Cfg::kBK, kTM = Cfg::kTM;
  __shared__ alignas(16) Acc as[2][kBK][Cfg::kLd];
  __shared__ alignas(16) Acc bs[2][kBK][Cfg::kLd];
  int tm, tn;
  tile_coords(p, tm, tn);
  const int64_t m0 = int64_t{tm} * kBM, n0 = int64_t{tn} * kBM;
  const int tx = threadIdx.x % (kBM / kTM), ty = threadIdx.x / (kBM / kTM);
  const int64_t steps = (p.k + kBK - 1) / kBK;
  SimtLoader<S, Acc> la, lb;
  for (int64_t z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const S* a = static_cast<const S*>(p.a.ptr) + batch_offset(p.a.offsets, z);
    const S* b = static_cast<const S*>(p.b.ptr) + batch_offset(p.b.offsets, z);
    O* c = static_cast<O*>(p.c) + batch_offset(p.c_offsets, z);
    la.start(p.a, a, m0);
    lb.start(p.b, b, n0);
    Acc acc[kTM][kTM];
#pragma unroll
    for (int i = 0; i < kTM; ++i) {
#pragma unroll
      for (int j = 0; j < kTM; ++j) acc[i][j] = Acc(0);
    }
    if (steps > 0) {
      la.load(p.a, 0, p.m, p.k);
      lb.load(p.b, 0, p.n, p.k);
      la.store(p.a.k_fast, as[0]);
      lb.store(p.b.k_fast, bs[0]);
      __syncthreads();
    }
    for (int64_t s = 0; s < steps; ++s) {
      const int cur = static_cast<int>(s & 1);
      const bool more = s + 1 < steps;
      if (more) {
        la.load(p.a, (s + 1) * kBK, p.m, p.k);
        lb.load(p.b, (s + 1) * kBK, p.n, p.k);
      }
      simt_compute<Acc>(as[cur], bs[cur], ty, tx, acc);
      if (more) {
        // The other buffer was last read in step s - 1, before that step's barrier.
        la.store(p.a.k_fast, as[cur ^ 1]);
        lb.store(p.b.k_fast, bs[cur ^ 1]);
      }
      __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < kTM; ++i) {
      const int64_t row = m0 + simt_row<Acc>(ty, i);
      if (row >= p.m) continue;
#pragma unroll
      for (int j = 0; j < kTM; ++j) {
        const int64_t col = n0 + simt_row<Acc>(tx, j);
        if (col < p.n) store_c<O>(p, c, row, col, acc[i][j]);
      }
    }
  }
}

}  // namespace
}  // namespace ember::cuda
