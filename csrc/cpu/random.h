// The random family: fill kernels over a contiguous output, driven by core/philox.h.
// Element i of a draw uses block (offset + i / per_block), lane i % per_block, where
// per_block is 2 for `wide` draws (64 random bits per value) and 4 otherwise (32 bits); the
// binding advances the generator by ceil(n / per_block) blocks. So results depend only on
// (seed, offset, i): the same at any thread count and on any device.
#pragma once
#include "core/dispatch.h"

namespace ember {

struct RandomArgs {
  char* out;  // contiguous, n elements of `dtype`
  int64_t n;
  DType dtype;
  bool wide;
  uint64_t seed;
  uint64_t offset;
  double a, b;          // uniform: [a, b); normal: mean a, std b; bernoulli: p = a
  int64_t low;          // randint: low + [0, range)
  uint64_t range;
  const double* probs;  // bernoulli: per-element probabilities (n of them), or null
};
using RandomFn = void (*)(const RandomArgs&);

static inline int64_t random_blocks(int64_t n, bool wide) {
  int64_t per = wide ? 2 : 4;
  return (n + per - 1) / per;
}

extern DispatchTable<RandomFn> uniform_kernel;    // float dtypes; wide for float64
extern DispatchTable<RandomFn> normal_kernel;     // Box-Muller on pairs; wide for float64
extern DispatchTable<RandomFn> randint_kernel;    // any dtype; wide when range > 2^32
extern DispatchTable<RandomFn> bernoulli_kernel;  // any dtype; always wide
extern DispatchTable<RandomFn> random_bits_kernel;  // int64 output, 64 random bits; wide

}  // namespace ember
