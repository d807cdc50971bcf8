// What the CUDA GEMM kernels share: the kernel arguments, the block-tile order, batch offsets
// and the epilogue C = alpha * acc + beta * C + bias. Included only by gemm*.cu files.
#pragma once
#include "cpu/gemm/gemm.h"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

constexpr int kGemmThreads = 256;

// One input operand seen as an MN x K matrix (A: MN = m; B: MN = n, so B's strides swap).
struct Operand {
  const void* ptr;
  int64_t s_mn, s_k;       // element strides
  const int64_t* offsets;  // device array of per-batch element offsets, or null
  // Set on the host: k is the faster-varying (smaller-stride) dimension, so tiles are loaded
  // in chunks along k; otherwise along mn.
  bool k_fast;
  // The fast stride is 1, the other stride and every offset are multiples of the chunk and
  // the base is aligned to it: an in-bounds chunk is one vector load.
  bool vec;
};

template <class Acc>
struct GemmArgs {
  Operand a, b;
  void* c;
  int64_t rsc, csc;
  const int64_t* c_offsets;
  int64_t m, n, k, batch;  // k is 0 when alpha == 0: A and B are not read, as in BLAS
  Acc alpha, beta;
  bool read_c;   // beta != 0
  bool out_f32;  // tensor-core kernels: C is float32 rather than the input type
  GemmBias bias_kind;
  const void* bias;  // of C's type
  int64_t bias_stride;
  int tiles_m, tiles_n;
};

__device__ __forceinline__ int64_t batch_offset(const int64_t* offsets, int64_t z) {
  return offsets ? offsets[z] : 0;
}

// Block tile of this block, in groups of 8 tile rows walked column by column, so the blocks
// resident at one time share A and B tiles in L2.
template <class Acc>
__device__ __forceinline__ void tile_coords(const GemmArgs<Acc>& p, int& tm, int& tn) {
  constexpr int kGroup = 8;
  const int pid = static_cast<int>(blockIdx.x);
  const int per_group = kGroup * p.tiles_n;
  const int first_m = pid / per_group * kGroup;
  const int rows = min(p.tiles_m - first_m, kGroup);
  tm = first_m + (pid % per_group) % rows;
  tn = (pid % per_group) / rows;
}

// C[i, j] = alpha * v + beta * C[i, j] + bias, converted to O; C is read only when beta != 0.
template <class O, class Acc>
__device__ __forceinline__ void store_c(const GemmArgs<Acc>& p, O* c, int64_t i, int64_t j,
                                        Acc v) {
  v = p.alpha * v;
  O* out = c + i * p.rsc + j * p.csc;
  if (p.read_c) v += p.beta * convert<Acc>(*out);
  if (p.bias_kind != GemmBias::None) {
    const int64_t at = p.bias_kind == GemmBias::PerColumn ? j : i;
    v += convert<Acc>(static_cast<const O*>(p.bias)[at * p.bias_stride]);
  }
  *out = convert<O>(v);
}

}  // namespace
}  // namespace ember::cuda
