// Walking a ReduceIter, shared by the per-capability reduction files. Internal linkage, like
// loops.h: each capability's object gets its own copy.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>

#include "core/parallel.h"
#include "core/reduce_iter.h"
#include "cpu/loops.h"

namespace ember::cpu {
namespace {

// Reductions at least this large are split across threads; below, one thread does them.
constexpr int64_t kReduceGrain = 32768;

struct OutOffsets {
  int64_t in, out, out2;
};

// Byte offsets of output element `o` (row-major over out_shape) in each tensor.
inline OutOffsets out_offsets(const ReduceIter& it, int64_t o) {
  OutOffsets r{0, 0, 0};
  for (int d = it.out_ndim - 1; d >= 0; --d) {
    int64_t i = o % it.out_shape[d];
    o /= it.out_shape[d];
    r.in += i * it.in_strides[d];
    r.out += i * it.out_strides[d];
    r.out2 += i * it.out2_strides[d];
  }
  return r;
}

// Calls row(ptr, n, stride, flat) for each run of the reduced flat indices [b, e) under
// `base` that lies along the innermost reduced dim; `flat` is the run's first flat index.
template <class F>
inline void walk_reduced(const ReduceIter& it, const char* base, int64_t b, int64_t e,
                         const F& row) {
  if (b >= e) return;
  const int nd = it.red_ndim;
  const int64_t inner = it.red_shape[nd - 1];
  const int64_t stride = it.red_strides[nd - 1];
  int64_t idx[kMaxDims];
  int64_t rem = b;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % it.red_shape[d];
    rem /= it.red_shape[d];
  }
  int64_t pos = b;
  while (pos < e) {
    int64_t off = 0;
    for (int d = 0; d < nd; ++d) off += idx[d] * it.red_strides[d];
    int64_t n = std::min(inner - idx[nd - 1], e - pos);
    row(base + off, n, stride, pos);
    pos += n;
    idx[nd - 1] = 0;
    for (int d = nd - 2; d >= 0; --d) {
      if (++idx[d] < it.red_shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Reduces each output with `range(o, base, b, e) -> State` over [b, e) of its reduced
// indices, and stores it with `store(o, offsets, State)`. Many outputs: threads split the
// outputs. Few large ones: each is cut into fixed chunks (so the result does not depend on
// the thread count) reduced in parallel, then folded in order with `combine`.
template <class State, class Range, class Combine, class Store>
inline void reduce_outputs(const ReduceIter& it, const Range& range, const Combine& combine,
                           const Store& store) {
  const int64_t n = it.red_numel;
  if (it.out_numel >= 4 * get_num_threads() || n < 2 * kReduceGrain) {
    int64_t grain = std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(n, 1));
    parallel_for(0, it.out_numel, grain, [&](int64_t ob, int64_t oe) {
      for (int64_t o = ob; o < oe; ++o) {
        OutOffsets off = out_offsets(it, o);
        store(o, off, range(o, it.in + off.in, 0, n));
      }
    });
    return;
  }
  constexpr int64_t kChunk = 2 * kReduceGrain;
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::unique_ptr<State[]> parts(new State[nchunks]);
  for (int64_t o = 0; o < it.out_numel; ++o) {
    OutOffsets off = out_offsets(it, o);
    parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c)
        parts[c] = range(o, it.in + off.in, c * kChunk, std::min(n, (c + 1) * kChunk));
    });
    State s = parts[0];
    for (int64_t c = 1; c < nchunks; ++c) s = combine(s, parts[c]);
    store(o, off, s);
  }
}

}  // namespace
}  // namespace ember::cpu
