// Random fill kernels (see random.h). Threads split the draw by whole Philox blocks, so a
// value never depends on which thread computed it. Values are formed in double and rounded
// once to the output dtype; Box-Muller runs in double for every float dtype.
#include "cpu/random.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/philox.h"
#include "cpu/loops.h"

namespace ember::cpu {
namespace {

using philox::Block;

// Calls draw(block, lanes, out) for each block of the draw, out pointing at its first value.
template <class T, class Draw>
void fill_blocks(const RandomArgs& a, const Draw& draw) {
  const int64_t per = a.wide ? 2 : 4;
  T* out = reinterpret_cast<T*>(a.out);
  parallel_for(0, random_blocks(a.n, a.wide), 4096, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int lanes = static_cast<int>(std::min(per, a.n - b * per));
      draw(philox::block(a.seed, a.offset + static_cast<uint64_t>(b)), lanes, out + b * per,
           b * per);
    }
  });
}

// The j-th uniform in [0, 1) of a block: 32 bits per value, or 64 when wide.
inline double lane_uniform(const Block& r, int j, bool wide) {
  if (wide) return philox::to_double(philox::join(r.w[2 * j], r.w[2 * j + 1]));
  return philox::to_float(r.w[j]);
}

void uniform_impl(const RandomArgs& a) {
  const double lo = a.a, span = a.b - a.a;
  visit_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_blocks<T>(a, [&](const Block& r, int lanes, T* o, int64_t) {
      for (int j = 0; j < lanes; ++j) o[j] = convert<T>(lo + span * lane_uniform(r, j, a.wide));
    });
  });
}

// Box-Muller on the pairs (0, 1) and (2, 3) of a block; 1 - u keeps log's argument in (0, 1].
void normal_impl(const RandomArgs& a) {
  const double mean = a.a, std = a.b;
  const double two_pi = 6.283185307179586;
  visit_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_blocks<T>(a, [&](const Block& r, int lanes, T* o, int64_t) {
      const int pairs = a.wide ? 1 : 2;
      for (int p = 0; p < pairs; ++p) {
        double u1 = a.wide ? lane_uniform(r, 0, true) : lane_uniform(r, 2 * p, false);
        double u2 = a.wide ? lane_uniform(r, 1, true) : lane_uniform(r, 2 * p + 1, false);
        double radius = std::sqrt(-2.0 * std::log(1.0 - u1));
        double z[2] = {radius * std::cos(two_pi * u2), radius * std::sin(two_pi * u2)};
        for (int k = 0; k < 2 && 2 * p + k < lanes; ++k)
          o[2 * p + k] = convert<T>(mean + std * z[k]);
      }
    });
  });
}

void randint_impl(const RandomArgs& a) {
  visit_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_blocks<T>(a, [&](const Block& r, int lanes, T* o, int64_t) {
      for (int j = 0; j < lanes; ++j) {
        uint64_t k = a.wide ? philox::scale64(philox::join(r.w[2 * j], r.w[2 * j + 1]), a.range)
                            : philox::scale32(r.w[j], a.range);
        o[j] = convert<T>(static_cast<int64_t>(static_cast<uint64_t>(a.low) + k));
      }
    });
  });
}

void bernoulli_impl(const RandomArgs& a) {
  visit_dtype(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_blocks<T>(a, [&](const Block& r, int lanes, T* o, int64_t i0) {
      for (int j = 0; j < lanes; ++j) {
        double p = a.probs ? a.probs[i0 + j] : a.a;
        o[j] = convert<T>(lane_uniform(r, j, true) < p ? 1 : 0);
      }
    });
  });
}

void random_bits_impl(const RandomArgs& a) {
  fill_blocks<int64_t>(a, [&](const Block& r, int lanes, int64_t* o, int64_t) {
    for (int j = 0; j < lanes; ++j)
      o[j] = static_cast<int64_t>(philox::join(r.w[2 * j], r.w[2 * j + 1]));
  });
}

}  // namespace

EMBER_REGISTER_CPU(uniform_kernel, uniform_impl);
EMBER_REGISTER_CPU(normal_kernel, normal_impl);
EMBER_REGISTER_CPU(randint_kernel, randint_impl);
EMBER_REGISTER_CPU(bernoulli_kernel, bernoulli_impl);
EMBER_REGISTER_CPU(random_bits_kernel, random_bits_impl);

}  // namespace ember::cpu
