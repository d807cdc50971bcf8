// Machine-limit probes (kernels in cpu/probe.cpp): threads, timing and units live here so the
// per-capability kernels stay single-threaded loops. The GIL is released while a probe runs.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "cpu/probe.h"
#include "python/bindings.h"

namespace ember {

EMBER_DEFINE_KERNEL(probe_fma_kernel, ProbeFmaFn);
EMBER_DEFINE_KERNEL(probe_stream_kernel, ProbeStreamFn);

namespace py_bind {
namespace {

using Clock = std::chrono::steady_clock;
volatile float g_sink;  // keeps the probe results observable, so no loop is optimised away

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void check_threads(const char* op, int threads) {
  if (threads < 1) fail<ValueError>(op, "expected threads >= 1, got ", threads);
}

// Each thread runs blocks of FMA rounds until `seconds` pass on its own clock. The rate is all
// FLOPs over the slowest thread's time, so a thread the OS deschedules lowers it (as it would
// lower any parallel kernel).
py::dict fma_gflops(int threads, double seconds) {
  check_threads("probe_fma_gflops", threads);
  if (!(seconds > 0)) fail<ValueError>("probe_fma_gflops", "expected seconds > 0, got ", seconds);
  ProbeFmaFn kernel = probe_fma_kernel.pick(Device{});
  constexpr int64_t kBlock = 1 << 16;  // well under a millisecond per block at any width
  std::vector<int64_t> flops(threads, 0);
  std::vector<double> elapsed(threads, 0.0);
  int used = 0;
  {
    py::gil_scoped_release no_gil;
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num();
      float sink = 0;
      kernel(kBlock, &sink);  // warm-up: wide vector units power up (AVX-512 frequency licence)
#pragma omp barrier
      Clock::time_point t0 = Clock::now();
      int64_t done = 0;
      do {
        done += kernel(kBlock, &sink);
      } while (seconds_since(t0) < seconds);
      elapsed[t] = seconds_since(t0);
      flops[t] = done;
      g_sink = sink;
      if (t == 0) used = omp_get_num_threads();
    }
  }
  double total = 0;
  for (int64_t f : flops) total += static_cast<double>(f);
  double slowest = *std::max_element(elapsed.begin(), elapsed.end());
  py::dict d;
  d["gflops"] = total / slowest / 1e9;
  d["threads"] = used;
  d["seconds"] = slowest;
  d["capability"] = capability_name(cpu_capability());
  return d;
}

StreamKind parse_kind(const std::string& kind) {
  if (kind == "copy") return StreamKind::Copy;
  if (kind == "triad") return StreamKind::Triad;
  if (kind == "read") return StreamKind::Read;
  fail<ValueError>("probe_bandwidth", "kind must be 'copy', 'triad' or 'read', got '", kind, "'");
}

// Bytes one pass moves, STREAM's convention: each array read or written once, no
// write-allocate traffic counted (the same convention the benchmarks use for ops).
int64_t bytes_per_pass(StreamKind kind, int64_t n) {
  int arrays = kind == StreamKind::Triad ? 3 : kind == StreamKind::Copy ? 2 : 1;
  return arrays * n * static_cast<int64_t>(sizeof(float));
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, FreeDeleter>;

Buffer alloc_floats(int64_t n) {
  size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  return Buffer(p);
}

// Thread t's share of [0, n), on 64-byte boundaries so no two threads share a cache line.
// Initialisation and every pass use the same split, so pages are first touched (and placed,
// on a NUMA machine) by the thread that later streams them.
void thread_range(int64_t n, int t, int threads, int64_t* b, int64_t* e) {
  auto cut = [&](int k) { return std::min(n, (n * k / threads + 15) / 16 * 16); };
  *b = cut(t);
  *e = t + 1 == threads ? n : cut(t + 1);
}

std::vector<double> stream_times(StreamKind kind, int64_t n, int threads, int repeats) {
  ProbeStreamFn kernel = probe_stream_kernel.pick(Device{});
  // Only the arrays `kind` touches are allocated; the others alias b and are never accessed.
  Buffer b = alloc_floats(n);
  Buffer a = kind != StreamKind::Read ? alloc_floats(n) : nullptr;
  Buffer c = kind == StreamKind::Triad ? alloc_floats(n) : nullptr;
  float* pa = a ? a.get() : b.get();
  float* pb = b.get();
  float* pc = c ? c.get() : b.get();
#pragma omp parallel num_threads(threads)
  {
    int64_t lo, hi;
    thread_range(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
    for (int64_t i = lo; i < hi; ++i) {
      pb[i] = 1.0f;
      if (c) pc[i] = 2.0f;
      if (a) pa[i] = 0.0f;
    }
  }
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {  // pass 0 warms caches and TLBs and is not kept
    Clock::time_point t0 = Clock::now();
    double sum = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sum)
    {
      int64_t lo, hi;
      thread_range(n, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      sum += kernel(kind, pa + lo, pb + lo, pc + lo, 3.0f, hi - lo);
    }
    double dt = seconds_since(t0);
    g_sink = static_cast<float>(sum);
    if (r > 0) times.push_back(dt);
  }
  return times;
}

py::dict bandwidth(const std::string& kind_name, int64_t nbytes, int threads, int repeats) {
  const char* op = "probe_bandwidth";
  StreamKind kind = parse_kind(kind_name);
  check_threads(op, threads);
  int64_t n = nbytes / static_cast<int64_t>(sizeof(float));
  if (n < 1) fail<ValueError>(op, "expected nbytes >= 4 (one float32), got ", nbytes);
  if (repeats < 1) fail<ValueError>(op, "expected repeats >= 1, got ", repeats);
  std::vector<double> times;
  {
    py::gil_scoped_release no_gil;
    times = stream_times(kind, n, threads, repeats);
  }
  std::sort(times.begin(), times.end());
  double bytes = static_cast<double>(bytes_per_pass(kind, n));
  py::dict d;
  d["kind"] = kind_name;
  d["nbytes"] = n * static_cast<int64_t>(sizeof(float));
  d["threads"] = threads;
  d["bytes_per_pass"] = bytes;
  d["best_gbps"] = bytes / times.front() / 1e9;
  d["median_gbps"] = bytes / times[times.size() / 2] / 1e9;
  d["repeats"] = repeats;
  d["capability"] = capability_name(cpu_capability());
  return d;
}

}  // namespace

void bind_probe(py::module_& m) {
  m.def("probe_fma_gflops", &fma_gflops, py::arg("threads"), py::arg("seconds") = 0.2,
        "Peak float32 FMA rate of `threads` threads, each running independent register chains\n"
        "for `seconds`: {'gflops', 'threads', 'seconds', 'capability'}.");
  m.def("probe_bandwidth", &bandwidth, py::arg("kind"), py::arg("nbytes"), py::arg("threads"),
        py::arg("repeats") = 5,
        "STREAM-style bandwidth over float32 arrays of `nbytes` each: kind 'copy' (a = b),\n"
        "'triad' (a = b + s*c) or 'read' (sum b). Returns best and median GB/s over `repeats`\n"
        "passes after one warm-up pass.");
}

}  // namespace py_bind
}  // namespace ember
