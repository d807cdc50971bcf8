// Row primitives shared by the per-capability softmax and loss kernels. Internal linkage, like
// loops.h: each capability's object gets its own copy, compiled with its own instruction set.
//
// Reductions keep kLanes independent accumulators so the compiler vectorises them without
// reassociation flags; a scalar tail does the same math for the last n % kLanes elements.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "cpu/vec_math.h"

namespace ember::cpu {
namespace {

constexpr int kLanes = 16;
// Rows of a kernel are split across threads in chunks of at least this many elements.
constexpr int64_t kSoftmaxGrain = 16384;

inline int64_t row_grain(int64_t row_len) {
  return std::max<int64_t>(1, kSoftmaxGrain / std::max<int64_t>(row_len, 1));
}

// max(x[0..n)); -inf for n == 0. A NaN may be skipped here: it still reaches every result
// through the sum of exponentials, as in PyTorch.
template <class A>
inline A row_max(const A* x, int64_t n) {
  if (n < kLanes) {  // short rows (few classes): skip the lanes' set-up and fold
    A r = -std::numeric_limits<A>::infinity();
    for (int64_t i = 0; i < n; ++i) r = x[i] > r ? x[i] : r;
    return r;
  }
  A acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = -std::numeric_limits<A>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] = acc[j + w] > acc[j] ? acc[j + w] : acc[j];
  A r = acc[0];
  for (; i < n; ++i) r = x[i] > r ? x[i] : r;
  return r;
}

// sum of f(i) over [0, n), f inlined into the lanes.
template <class A, class F>
inline A lane_sum(int64_t n, const F& f) {
  if (n < kLanes) {
    A r = A(0);
    for (int64_t i = 0; i < n; ++i) r += f(i);
    return r;
  }
  A acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += f(i + j);
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  A r = acc[0];
  for (; i < n; ++i) r += f(i);
  return r;
}

// sum(exp(x - m)) over a row.
template <class A>
inline A row_exp_sum(const A* x, int64_t n, A m) {
  return lane_sum<A>(n, [&](int64_t i) { return vexp(x[i] - m); });
}

}  // namespace
}  // namespace ember::cpu
