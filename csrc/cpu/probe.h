// Probes of this machine's limits: peak float32 FMA throughput and STREAM-style memory
// bandwidth. The per-capability kernels run on one thread over the range they are given; the
// binding (python/bind_probe.cpp) starts the threads, times them and derives GFLOP/s and GB/s.
#pragma once
#include <cstdint>

#include "core/dispatch.h"

namespace ember {

// Runs `iters` rounds of independent FMA chains in registers; returns the FLOPs performed
// (2 per lane per FMA) and stores a value that depends on every chain in *sink.
using ProbeFmaFn = int64_t (*)(int64_t iters, float* sink);

enum class StreamKind : int { Copy = 0, Triad = 1, Read = 2 };
// One pass over n elements: Copy a = b; Triad a = b + s * c; Read returns sum(b).
using ProbeStreamFn = double (*)(StreamKind kind, float* a, const float* b, const float* c,
                                 float s, int64_t n);

extern DispatchTable<ProbeFmaFn> probe_fma_kernel;
extern DispatchTable<ProbeStreamFn> probe_stream_kernel;

}  // namespace ember
