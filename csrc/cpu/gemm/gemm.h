// General matrix multiply: for every matrix b of a batch,
//   C[b] = alpha * A[b] @ B[b] + beta * C[b] (+ bias)
// with A m x k, B k x n, C m x n, each given by a base pointer and element strides (any sign
// of transposition is just a pair of strides: op(A) = A^T is rs/cs swapped).
//
// The CPU kernels (csrc/cpu/gemm/) follow BLIS: B is packed KC x NC into NR-wide panels, A
// MC x KC into MR-high panels, and a register-blocked MR x NR microkernel per instruction set
// runs over them. csrc/cuda/gemm.cu fills the CUDA slot of the same table.
#pragma once
#include <cstdint>

#include "core/dispatch.h"
#include "core/dtype.h"

namespace ember {

enum class GemmBias : int8_t {
  None = 0,
  PerColumn = 1,  // bias[j * bias_stride] added to column j (Linear: one value per feature)
  PerRow = 2,     // bias[i * bias_stride] added to row i (convolution as W @ im2col)
};

struct GemmProblem {
  // A and B share `dtype`; C and bias have `out_dtype`. Supported pairs: equal float32,
  // float64, int32, int64, float16, bfloat16 (the last two accumulate in float32), and
  // bfloat16/float16 inputs with a float32 output.
  DType dtype;
  DType out_dtype;
  int64_t m, n, k;
  const void* a;
  int64_t rsa, csa;  // element strides of A (m x k)
  const void* b;
  int64_t rsb, csb;  // of B (k x n)
  void* c;
  int64_t rsc, csc;  // of C (m x n); C must not overlap A or B
  // Batches: element offsets of each matrix from the base pointers; null when batch == 1.
  int64_t batch;
  const int64_t* a_offsets;
  const int64_t* b_offsets;
  const int64_t* c_offsets;
  double alpha, beta;  // beta == 0: C is not read (NaN in C does not propagate), as in BLAS
  GemmBias bias_kind;
  const void* bias;
  int64_t bias_stride;
  int num_threads;  // the most threads to use; the kernel uses fewer for small problems
};

// One problem with the common defaults: C = A @ B + beta * C, alpha 1, unit column stride
// for C, no batch, no bias. Callers change what else they need (batch offsets, bias).
inline GemmProblem gemm_problem(DType dtype, int64_t m, int64_t n, int64_t k, const void* a,
                                int64_t rsa, int64_t csa, const void* b, int64_t rsb,
                                int64_t csb, void* c, int64_t rsc, double beta, int threads) {
  GemmProblem p{};
  p.dtype = p.out_dtype = dtype;
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = a;
  p.rsa = rsa;
  p.csa = csa;
  p.b = b;
  p.rsb = rsb;
  p.csb = csb;
  p.c = c;
  p.rsc = rsc;
  p.csc = 1;
  p.batch = 1;
  p.alpha = 1.0;
  p.beta = beta;
  p.num_threads = threads;
  return p;
}

using GemmFn = void (*)(const GemmProblem& p);
extern DispatchTable<GemmFn> gemm_kernel;

// Cache blocking. Zero fields are chosen from the cache sizes by each microkernel's tile;
// set_gemm_blocking overrides them (benchmarks and tuning). EMBER_GEMM_MC/KC/NC set the
// initial override.
struct GemmBlocking {
  int64_t mc, kc, nc;
};
GemmBlocking gemm_blocking_override();
void set_gemm_blocking(GemmBlocking b);

struct CacheSizes {
  int64_t l1d, l2, l3;  // bytes per core (L3: the whole shared cache)
};
CacheSizes cpu_cache_sizes();

// Which kernel multiplies bfloat16 (all accumulate in float32): Auto takes AMX tiles for
// problems of at least 32 x 32 x 32 when usable, else converts to float32 while packing (the
// AVX512_BF16 dot-product kernel measured slower than that, so Auto leaves it out). A path
// the processor lacks falls back to the float32 conversion.
enum class GemmBf16Path : int { Auto = 0, Fp32 = 1, Avx512Bf16 = 2, Amx = 3 };
GemmBf16Path gemm_bf16_path();
void set_gemm_bf16_path(GemmBf16Path path);

// Optional instruction-set extensions beyond the capability tiers, probed once.
bool cpu_has_avx512_bf16();
bool cpu_has_amx_bf16();  // AMX tiles usable: the processor has them and the OS granted them

}  // namespace ember
