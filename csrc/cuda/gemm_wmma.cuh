// The tensor-core GEMM for float16/bfloat16 inputs (sm_80+): WMMA 16x16x16 fragments with
// float accumulators. A block of 8 warps computes a 128 x 128 tile of C, each warp 64 x 32
// (4 x 2 fragments), over 32-deep slices of A and B staged in double-buffered shared memory.
// Each operand keeps its global layout in shared memory (kKFast: k contiguous, else mn
// contiguous), so every 16-byte global load is one 16-byte shared store; the fragment layout
// (row/col major) follows. Non-contiguous or misaligned operands are loaded element by element
// into the same layout. The epilogue goes through a per-warp 16 x 16 float patch in shared
// memory, so C may have any strides and any bounds.
#pragma once
#include <mma.h>

#include "cuda/gemm_common.cuh"

namespace ember::cuda {
namespace {

constexpr int kTcBM = 128, kTcBK = 32, kTcPad = 8;

// Shared-memory row length of an operand slice (16-bit elements): a multiple of 8, as WMMA
// needs, padded by 8 to spread the rows over the banks.
template <bool kKFast>
constexpr int tc_ld() {
  return kKFast ? kTcBK + kTcPad : kTcBM + kTcPad;
}
constexpr int kTcSlice = (kTcBM + kTcPad) * kTcBK > kTcBM * (kTcBK + kTcPad)
                             ? (kTcBM + kTcPad) * kTcBK
                             : kTcBM * (kTcBK + kTcPad);  // elements, either layout

// Loads one 128 x 32 slice: 512 chunks of 8 elements, two per thread, at fixed positions of
// the slice (set by `start` for a matrix); each load reads the slice at k0.
template <bool kKFast>
struct TcLoader {
  static constexpr int kLd = tc_ld<kKFast>();
  static constexpr int kChunks = kTcBM * kTcBK / 8 / kGemmThreads;
  Vec<uint16_t, 8> r[kChunks];
  const uint16_t* src[kChunks];  // chunk i at k = its kk
  int64_t gm[kChunks];

  __device__ __forceinline__ static void coords(int i, int& mn, int& kk) {
    const int c = threadIdx.x + i * kGemmThreads;
    if (kKFast) {
      mn = c / (kTcBK / 8);
      kk = c % (kTcBK / 8) * 8;
    } else {
      kk = c / (kTcBM / 8);
      mn = c % (kTcBM / 8) * 8;
    }
  }

  __device__ __forceinline__ void start(const Operand& o, const uint16_t* base, int64_t mn0) {
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      int mn, kk;
      coords(i, mn, kk);
      gm[i] = mn0 + mn;
      src[i] = base + gm[i] * o.s_mn + kk * o.s_k;
    }
  }

  __device__ __forceinline__ void load(const Operand& o, int64_t k0, int64_t size_mn,
                                       int64_t size_k) {
    const int64_t step = kKFast ? o.s_k : o.s_mn;
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      int mn, kk;
      coords(i, mn, kk);
      const int64_t gk = k0 + kk;
      const uint16_t* at = src[i] + k0 * o.s_k;
      const bool full = kKFast ? gm[i] < size_mn && gk + 8 <= size_k
                               : gk < size_k && gm[i] + 8 <= size_mn;
      if (o.vec && full) {
        r[i] = *reinterpret_cast<const Vec<uint16_t, 8>*>(at);
        continue;
      }
#pragma unroll
      for (int v = 0; v < 8; ++v) {
        const bool in = kKFast ? gm[i] < size_mn && gk + v < size_k
                               : gk < size_k && gm[i] + v < size_mn;
        r[i].v[v] = in ? at[v * step] : uint16_t{0};
      }
    }
  }

  __device__ __forceinline__ void store(uint16_t* sm) const {
#pragma unroll
    for (int i = 0; i < kChunks; ++i) {
      int mn, kk;
      coords(i, mn, kk);
      *reinterpret_cast<Vec<uint16_t, 8>*>(sm + (kKFast ? mn * kLd + kk : kk * kLd + mn)) = r[i];
    }
  }
};

template <class S>
using WmmaType = std::conditional_t<std::is_same_v<S, Half>, __half, __nv_bfloat16>;

// S: Half or BF16; C is S or float32 (p.out_f32).
template <class S, bool kAKFast, bool kBKFast>
__global__ void __launch_bounds__(kGemmThreads) wmma_gemm_kernel(GemmArgs<float> p) {
#if __CUDA_ARCH__ >= 800
  namespace w = nvcuda::wmma;
  using T = WmmaType<S>;
  // A is m x k: k contiguous is row-major. B is k x n: k contiguous is column-major.
  using LayoutA = std::conditional_t<kAKFast, w::row_major, w::col_major>;
  using LayoutB = std::conditional_t<kBKFast, w::col_major, w::row_major>;
  constexpr int kLdA = tc_ld<kAKFast>(), kLdB = tc_ld<kBKFast>();
  // [stage][operand]; reused by the epilogue's float patches (8 warps x 16 x 16 floats).
  __shared__ alignas(128) uint16_t smem[2][2][kTcSlice];
  static_assert(sizeof(smem) >= 8 * 256 * sizeof(float), "epilogue patches fit");

  int tm, tn;
  tile_coords(p, tm, tn);
  const int64_t m0 = int64_t{tm} * kTcBM, n0 = int64_t{tn} * kTcBM;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / 4 * 64, wn = warp % 4 * 32;  // the warp's 64 x 32 sub-tile
  const int64_t steps = (p.k + kTcBK - 1) / kTcBK;
  TcLoader<kAKFast> la;
  TcLoader<kBKFast> lb;
  for (int64_t z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const auto* a = static_cast<const uint16_t*>(p.a.ptr) + batch_offset(p.a.offsets, z);
    const auto* b = static_cast<const uint16_t*>(p.b.ptr) + batch_offset(p.b.offsets, z);
    la.start(p.a, a, m0);
    lb.start(p.b, b, n0);
    w::fragment<w::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < 2; ++j) w::fill_fragment(acc[i][j], 0.0f);
    }
    if (steps > 0) {
      la.load(p.a, 0, p.m, p.k);
      lb.load(p.b, 0, p.n, p.k);
      la.store(smem[0][0]);
      lb.store(smem[0][1]);
      __syncthreads();
    }
    for (int64_t s = 0; s < steps; ++s) {
      const int cur = static_cast<int>(s & 1);
      const bool more = s + 1 < steps;
      if (more) {
        la.load(p.a, (s + 1) * kTcBK, p.m, p.k);
        lb.load(p.b, (s + 1) * kTcBK, p.n, p.k);
      }
      const T* as = reinterpret_cast<const T*>(smem[cur][0]);
      const T* bs = reinterpret_cast<const T*>(smem[cur][1]);
#pragma unroll
      for (int ks = 0; ks < kTcBK; ks += 16) {
        w::fragment<w::matrix_a, 16, 16, 16, T, LayoutA> fa[4];
        w::fragment<w::matrix_b, 16, 16, 16, T, LayoutB> fb[2];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int row = wm + i * 16;
          w::load_matrix_sync(fa[i], as + (kAKFast ? row * kLdA + ks : ks * kLdA + row), kLdA);
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int col = wn + j * 16;
          w::load_matrix_sync(fb[j], bs + (kBKFast ? col * kLdB + ks : ks * kLdB + col), kLdB);
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
          for (int j = 0; j < 2; ++j) w::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
      }
      if (more) {
        la.store(smem[cur ^ 1][0]);  // last read in step s - 1, before its barrier
        lb.store(smem[cur ^ 1][1]);
      }
      __syncthreads();
    }
    // Every warp is past its last fragment load (the loop's final barrier, or no loop at all
    // when k == 0 and the shared memory was not touched since the previous batch's barrier).
    float* patch = reinterpret_cast<float*>(&smem[0][0][0]) + warp * 256;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        w::store_matrix_sync(patch, acc[i][j], 16, w::mem_row_major);
        __syncwarp();
        const int64_t row0 = m0 + wm + i * 16, col0 = n0 + wn + j * 16;
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          const int e = lane + q * 32;
          const int64_t row = row0 + e / 16, col = col0 + e % 16;
          if (row >= p.m || col >= p.n) continue;
          if (p.out_f32) {
            store_c<float>(p, static_cast<float*>(p.c) + batch_offset(p.c_offsets, z), row, col,
                           patch[e]);
          } else {
            store_c<S>(p, static_cast<S*>(p.c) + batch_offset(p.c_offsets, z), row, col,
                       patch[e]);
          }
        }
        __syncwarp();  // the patch is rewritten by the next fragment
      }
    }
    __syncthreads();  // the next batch's first slice overwrites the patches
  }
#endif
}

}  // namespace
}  // namespace ember::cuda
