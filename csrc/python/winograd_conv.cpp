// Winograd F(4x4, 3x3) conv2d (see cpu/winograd.h): the filters are transformed once per call,
// then each thread takes blocks of tiles through input transform -> 36 GEMMs -> output
// transform, the block sized so that its V (36 x C x T) and M (36 x O x T) stay in L2.
// Work per block: 2 * 36 * O * C * T FLOPs of GEMM against 2 * 9 * 16 * O * C * T for the
// direct convolution of its outputs (4x fewer), plus about 200 * (C + O) * T of transforms.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "core/allocator.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "cpu/gemm/gemm.h"
#include "cpu/winograd.h"

namespace ember {

EMBER_DEFINE_KERNEL(winograd_weight_kernel, WinoWeightFn);
EMBER_DEFINE_KERNEL(winograd_input_kernel, WinoInputFn);
EMBER_DEFINE_KERNEL(winograd_output_kernel, WinoOutputFn);

namespace {

// Aligned scratch from the caching allocator, freed on scope exit.
struct Scratch {
  explicit Scratch(size_t n) : bytes(n), p(static_cast<float*>(cpu_allocate(n ? n : 64))) {}
  ~Scratch() { cpu_free(p, bytes ? bytes : 64); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  size_t bytes;
  float* p;
};

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Tiles per block: V and M of a block take about half of L2 (the GEMM's packed panels and the
// image rows are the rest), at least 32 tiles so each GEMM is wide enough to amortise its
// packing, and the blocks share out evenly over the threads.
int64_t block_tiles(const WinoGeom& g, int64_t tiles, int threads) {
  const int64_t l2 = std::max<int64_t>(cpu_cache_sizes().l2, 256 << 10);
  const int64_t per_tile = kWinoAlpha * (g.c + g.o) * static_cast<int64_t>(sizeof(float));
  int64_t cap = std::clamp<int64_t>(l2 / 2 / per_tile / 32 * 32, 32, 512);
  if (const char* e = std::getenv("WINO_T")) cap = std::atoll(e);
  int64_t blocks = (tiles + cap - 1) / cap;
  if (tiles >= 32 * threads) blocks = round_up(blocks, threads);
  return round_up((tiles + blocks - 1) / blocks, kWinoLanes);
}

struct BlockGemm {
  int64_t a_off[kWinoAlpha], b_off[kWinoAlpha], c_off[kWinoAlpha];
};

// M[k] (o x nt) = U[k] (o x c) @ V[k] (c x nt) for the 36 points, on the calling thread.
void block_gemm(const WinoGeom& g, const BlockGemm& offs, const float* u, const float* v,
                float* m, int64_t ld, int64_t nt, Device dev) {
  GemmProblem p{};
  p.dtype = p.out_dtype = DType::Float32;
  p.m = g.o;
  p.n = nt;
  p.k = g.c;
  p.a = u;
  p.rsa = g.c;
  p.csa = 1;
  p.b = v;
  p.rsb = ld;
  p.csb = 1;
  p.c = m;
  p.rsc = ld;
  p.csc = 1;
  p.batch = kWinoAlpha;
  p.a_offsets = offs.a_off;
  p.b_offsets = offs.b_off;
  p.c_offsets = offs.c_off;
  p.alpha = 1.0;
  p.beta = 0.0;
  p.num_threads = 1;
  gemm_kernel.pick(dev)(p);
}

}  // namespace

void winograd_conv2d(const WinoGeom& g, const float* x, const float* w, bool flip,
                     const float* bias, float* y, Device dev) {
  const int64_t tiles = g.n * g.th * g.tw;
  if (tiles == 0 || g.o == 0) return;
  Scratch u(sizeof(float) * kWinoAlpha * g.o * g.c);
  winograd_weight_kernel.pick(dev)(WinoWeightArgs{g.o, g.c, w, flip, u.p});
  const int threads = get_num_threads();
  const int64_t tb = block_tiles(g, tiles, threads);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const int64_t chunks = std::min<int64_t>(threads, blocks);
  // V and M of a chunk, each matrix one cache line further than a multiple of 4 KiB would be
  // (V and M rows are ld = tb + 16 long: the transforms may write 16 columns past a block).
  const int64_t ld = tb + kWinoLanes;
  const int64_t vs = round_up(g.c * ld, 1024) + 16, ms = round_up(g.o * ld, 1024) + 16;
  const int64_t per_chunk = kWinoAlpha * (vs + ms);
  Scratch buf(sizeof(float) * per_chunk * chunks);
  BlockGemm offs;
  for (int64_t k = 0; k < kWinoAlpha; ++k) {
    offs.a_off[k] = k * g.o * g.c;
    offs.b_off[k] = k * vs;
    offs.c_off[k] = k * ms;
  }
  WinoInputFn input = winograd_input_kernel.pick(dev);
  WinoOutputFn output = winograd_output_kernel.pick(dev);
  // An exception must not leave a parallel region: a failure is rethrown after it.
  std::atomic<bool> failed{false};
  parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ch = cb; ch < ce; ++ch) {
      float* v = buf.p + ch * per_chunk;
      float* m = v + kWinoAlpha * vs;
      for (int64_t bi = blocks * ch / chunks; bi < blocks * (ch + 1) / chunks; ++bi) {
        const int64_t t0 = bi * tb, nt = std::min(tb, tiles - t0);
        input(WinoInputArgs{g, x, t0, nt, v, ld, vs});
        try {
          block_gemm(g, offs, u.p, v, m, ld, nt, dev);
        } catch (...) {
          failed = true;
          return;
        }
        output(WinoOutputArgs{g, m, ld, ms, t0, nt, bias, y});
      }
    }
  });
  if (failed) throw std::bad_alloc();
}

}  // namespace ember
