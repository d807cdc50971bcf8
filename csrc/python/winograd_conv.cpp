// Winograd F(4x4, 3x3) conv2d (see cpu/winograd.h): the filters are transformed once per call,
// then each thread takes blocks of tiles through input transform -> 36 GEMMs -> output
// transform, the block sized so that its V (36 x C x T) and M (36 x O x T) stay in L2.
// Work per block: 2 * 36 * O * C * T FLOPs of GEMM against 2 * 9 * 16 * O * C * T for the
// direct convolution of its outputs (4x fewer), plus about 200 * (C + O) * T of transforms.
#include <algorithm>
#include <atomic>
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
EMBER_DEFINE_KERNEL(winograd_grad_output_kernel, WinoGradOutputFn);
EMBER_DEFINE_KERNEL(winograd_weight_grad_kernel, WinoWeightGradFn);

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

// Tiles per block: V and M of a block take at most about half of L2 (the GEMM's packed panels
// and the image rows are the rest), at least 32 tiles so each GEMM is wide enough to amortise
// its packing, and the blocks share out evenly over the threads. Measured on the 64-channel
// 56x56 layer (1 thread): 32 tiles fastest forward (64 to 384: 5-10% slower), the weight
// gradient level from 32 to 384; 16 tiles 25% slower.
int64_t block_tiles(const WinoGeom& g, int64_t tiles, int threads) {
  if (tiles == 0) return kWinoLanes;
  const int64_t l2 = std::max<int64_t>(cpu_cache_sizes().l2, 256 << 10);
  const int64_t per_tile = kWinoAlpha * (g.c + g.o) * static_cast<int64_t>(sizeof(float));
  const int64_t cap = std::clamp<int64_t>(l2 / 2 / per_tile / 32 * 32, 32, 512);
  int64_t blocks = (tiles + cap - 1) / cap;
  if (tiles >= 32 * threads) blocks = round_up(blocks, threads);
  return round_up((tiles + blocks - 1) / blocks, kWinoLanes);
}

// How the tiles are cut: blocks of tb tiles, consecutive blocks per chunk (one per thread),
// and each chunk's V (36 x c x ld) and M (36 x o x ld), every matrix one cache line past a
// multiple of 4 KiB (else the 36 rows a transform touches share one L1 set). Rows are ld =
// tb + 16 long: the transforms may write 16 columns past a block.
struct Plan {
  int64_t tiles, tb, blocks, chunks, ld, vs, ms, per_chunk;
  explicit Plan(const WinoGeom& g) : tiles(g.n * g.th * g.tw) {
    const int threads = get_num_threads();
    tb = block_tiles(g, tiles, threads);
    blocks = (tiles + tb - 1) / tb;
    chunks = std::min<int64_t>(threads, blocks);
    ld = tb + kWinoLanes;
    vs = round_up(g.c * ld, 1024) + 16;
    ms = round_up(g.o * ld, 1024) + 16;
    per_chunk = kWinoAlpha * (vs + ms);
  }
  int64_t first(int64_t ch) const { return blocks * ch / chunks; }
};

// Runs body(chunk, t0, nt, first_of_chunk) over every block, one chunk per thread. An
// exception must not leave a parallel region: a failure is rethrown after it.
template <class F>
void for_blocks(const Plan& pl, const F& body) {
  std::atomic<bool> failed{false};
  parallel_for(0, pl.chunks, 1, [&](int64_t cb, int64_t ce) {
    try {
      for (int64_t ch = cb; ch < ce; ++ch) {
        for (int64_t bi = pl.first(ch); bi < pl.first(ch + 1); ++bi) {
          const int64_t t0 = bi * pl.tb;
          body(ch, t0, std::min(pl.tb, pl.tiles - t0), bi == pl.first(ch));
        }
      }
    } catch (...) {
      failed = true;
    }
  });
  if (failed) throw std::bad_alloc();
}

// The 36 products C[k] = A[k] @ B[k] (+ C[k] with accumulate), single-threaded; the A, B, C
// matrices of point k start k * as, k * bs, k * cs floats in.
struct PointGemm {
  int64_t m, n, k;
  const float* a;
  int64_t rsa, csa, as;
  const float* b;
  int64_t rsb, csb, bs;
  float* c;
  int64_t rsc, cs;
};

void point_gemm(const PointGemm& q, bool accumulate, Device dev) {
  int64_t a_off[kWinoAlpha], b_off[kWinoAlpha], c_off[kWinoAlpha];
  for (int64_t k = 0; k < kWinoAlpha; ++k) {
    a_off[k] = k * q.as;
    b_off[k] = k * q.bs;
    c_off[k] = k * q.cs;
  }
  GemmProblem p = gemm_problem(DType::Float32, q.m, q.n, q.k, q.a, q.rsa, q.csa, q.b, q.rsb,
                               q.csb, q.c, q.rsc, accumulate ? 1.0 : 0.0, 1);
  p.batch = kWinoAlpha;
  p.a_offsets = a_off;
  p.b_offsets = b_off;
  p.c_offsets = c_off;
  gemm_kernel.pick(dev)(p);
}

}  // namespace

void winograd_conv2d(const WinoGeom& g, const float* x, const float* w, bool flip,
                     const float* bias, float* y, Device dev) {
  if (g.n * g.th * g.tw == 0 || g.o == 0) return;
  Scratch u(sizeof(float) * kWinoAlpha * g.o * g.c);
  winograd_weight_kernel.pick(dev)(WinoWeightArgs{g.o, g.c, w, flip, u.p});
  const Plan pl(g);
  Scratch buf(sizeof(float) * pl.per_chunk * pl.chunks);
  WinoInputFn input = winograd_input_kernel.pick(dev);
  WinoOutputFn output = winograd_output_kernel.pick(dev);
  for_blocks(pl, [&](int64_t ch, int64_t t0, int64_t nt, bool) {
    float* v = buf.p + ch * pl.per_chunk;
    float* m = v + kWinoAlpha * pl.vs;
    input(WinoInputArgs{g, x, t0, nt, v, pl.ld, pl.vs});
    // M[k] (o x nt) = U[k] (o x c) @ V[k] (c x nt)
    point_gemm({g.o, nt, g.c, u.p, g.c, 1, g.o * g.c, v, pl.ld, 1, pl.vs, m, pl.ld, pl.ms},
               false, dev);
    output(WinoOutputArgs{g, m, pl.ld, pl.ms, t0, nt, bias, y});
  });
}

void winograd_conv2d_weight_grad(const WinoGeom& g, const float* x, const float* gy, float* gw,
                                 Device dev) {
  if (g.o == 0) return;
  const Plan pl(g);
  const int64_t du_size = kWinoAlpha * g.o * g.c;
  // Per chunk: V, M and its own dU (36 x o x c), summed into the first chunk's at the end.
  const int64_t per_chunk = pl.per_chunk + du_size;
  Scratch buf(sizeof(float) * per_chunk * std::max<int64_t>(pl.chunks, 1));
  float* du = buf.p + pl.per_chunk;
  if (pl.tiles == 0) std::fill(du, du + du_size, 0.f);
  WinoInputFn input = winograd_input_kernel.pick(dev);
  WinoGradOutputFn grad_output = winograd_grad_output_kernel.pick(dev);
  for_blocks(pl, [&](int64_t ch, int64_t t0, int64_t nt, bool first) {
    float* v = buf.p + ch * per_chunk;
    float* m = v + kWinoAlpha * pl.vs;
    input(WinoInputArgs{g, x, t0, nt, v, pl.ld, pl.vs});
    grad_output(WinoInputArgs{g, gy, t0, nt, m, pl.ld, pl.ms});
    // dU[k] (o x c) += M[k] (o x nt) @ V[k]^T (nt x c)
    point_gemm({g.o, g.c, nt, m, pl.ld, 1, pl.ms, v, 1, pl.ld, pl.vs, v + pl.per_chunk, g.c,
                g.o * g.c}, !first, dev);
  });
  for (int64_t ch = 1; ch < pl.chunks; ++ch) {
    const float* part = buf.p + ch * per_chunk + pl.per_chunk;
    for (int64_t i = 0; i < du_size; ++i) du[i] += part[i];
  }
  winograd_weight_grad_kernel.pick(dev)(WinoWeightGradArgs{g.o, g.c, du, gw});
}

}  // namespace ember
