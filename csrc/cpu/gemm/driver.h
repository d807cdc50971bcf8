// The BLIS loop nest around a microkernel K (per-capability code, anonymous namespace):
//
//   for jc over N in NC blocks            B block (KC x NC) in L3
//     for pc over K in KC blocks           pack this thread's B panels
//       for ic over this thread's rows in MC blocks
//         pack A (MC x KC, stays in L2)
//         for jr over this thread's NR panels   B micro-panel (KC x NR) from L1/L2
//           for ir over MR panels              A micro-panel streams from L2
//             microkernel: C[ir, jr] (+)= A_panel @ B_panel
//
// Threads form a tm x tn grid over the tiles of C (rows in MR units, columns in NR units),
// chosen so the busiest thread has the fewest tiles. Each thread packs the B panels it uses:
// column groups their own columns, row groups (up to four threads) a private copy of the whole
// block, so no thread ever waits for another. Only row groups on more threads share one B
// block, packed in parts, with a barrier before and after its use. Small problems run on one
// thread, and the smallest skip packing altogether.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "core/allocator.h"
#include "cpu/gemm/gemm.h"
#include "cpu/gemm/pack.h"
#include "cpu/gemm/ukernel.h"

namespace ember::cpu {
namespace {

// Below this many FLOPs per thread a thread costs more to start than it saves.
constexpr double kMinFlopsPerThread = 2.0 * 64 * 64 * 64;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// A buffer from the caching CPU allocator (64-byte aligned), freed on scope exit.
struct Buffer {
  explicit Buffer(size_t bytes) : size(bytes), ptr(bytes ? cpu_allocate(bytes) : nullptr) {}
  ~Buffer() {
    if (ptr) cpu_free(ptr, size);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  size_t size;
  void* ptr;
};

struct Blocks {
  int64_t mc, kc, nc;
};

// KC: a KC x NR micro-panel of B of about twice L1 (it streams through L1 from L2 with the
// prefetcher's help; a larger KC means fewer passes over C, which for big problems lives in
// L3 or memory, and that pays more than keeping the panel L1-resident: measured best at 512 to
// 768 for float32 on a 48 KiB L1). MC: an MC x KC block of A fills half of L2 (a larger MC
// streams the B block from L3 fewer times: +10-25% at 4096^3, level at 1024^3 and 2048^3).
// NC: a KC x NC block of B fits a share of L3, capped so A is repacked rarely but B stays
// modest. Then each is evened out over the problem (k = 800 with KC = 768 becomes two blocks
// of 400, not 768 + 32).
template <class K>
Blocks choose_blocks(int64_t m, int64_t n, int64_t k) {
  const CacheSizes cs = cpu_cache_sizes();
  const GemmBlocking o = gemm_blocking_override();
  const int64_t sz = sizeof(typename K::Packed);
  int64_t kc = o.kc ? o.kc : std::clamp<int64_t>(cs.l1d * 2 / (K::NR * sz), 128, K::kMaxKC);
  int64_t mc = o.mc ? o.mc : std::clamp<int64_t>(cs.l2 / 2 / (kc * sz), K::MR, 4096);
  int64_t nc = o.nc ? o.nc : std::clamp<int64_t>(cs.l3 / 8 / (kc * sz), K::NR, 4096);
  kc = round_up(ceil_div(k, ceil_div(k, std::max<int64_t>(kc, 1))), K::KPad);
  mc = std::max<int64_t>(K::MR, mc / K::MR * K::MR);
  nc = std::max<int64_t>(K::NR, nc / K::NR * K::NR);
  nc = std::min(nc, round_up(n, K::NR));
  mc = std::min(mc, round_up(m, K::MR));
  return {mc, kc, nc};
}

// One matrix product in the compute type T: C = alpha * A @ B + beta * C + bias, where bias
// (if any) is a contiguous T vector padded to a multiple of the tile.
template <class T, class S>
struct Job {
  int64_t m, n, k;
  const S* a;
  int64_t rsa, csa;
  const S* b;
  int64_t rsb, csb;
  T* c;
  int64_t rsc, csc;
  T alpha, beta;
  GemmBias bias_kind;
  const T* bias;
};

template <class K>
int threads_for(int64_t m, int64_t n, int64_t k, int max_threads) {
  double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int64_t tiles = ceil_div(m, K::MR) * ceil_div(n, K::NR);
  int64_t by_work = static_cast<int64_t>(flops / kMinFlopsPerThread);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({max_threads, by_work, tiles})));
}

// The tm x tn factorisation of nt whose busiest thread gets the fewest tiles. Ties go to row
// groups on up to four threads (each packs its own copy of B, see gemm_blocked: no barrier
// and no thread transposes all of A; measured 10% faster at 256^3 on two threads), and to
// column groups beyond (thread t packs the B panels of its own columns, so it needs no
// barrier either and B stays in its core's L2).
constexpr int kMaxPrivateB = 4;

inline void thread_grid(int nt, int64_t mpanels, int64_t npanels, int* tm, int* tn) {
  int64_t best = -1;
  const bool rows_first = nt <= kMaxPrivateB;
  for (int i = 1; i <= nt; ++i) {
    const int r = rows_first ? nt + 1 - i : i;
    if (nt % r) continue;
    int64_t cost = ceil_div(mpanels, r) * ceil_div(npanels, nt / r);
    if (best < 0 || cost < best) {
      best = cost;
      *tm = r;
      *tn = nt / r;
    }
  }
}

// Applies alpha and beta to a tile the microkernel wrote to a scratch buffer (edge tiles and C
// with a column stride other than 1).
template <class K, class T>
void store_edge(const T* tile, int mr, int nr, T* c, int64_t rsc, int64_t csc, const Tail<T>& t) {
  for (int i = 0; i < mr; ++i) {
    for (int j = 0; j < nr; ++j) {
      T* out = c + i * rsc + j * csc;
      T v = t.alpha * tile[i * K::NR + j];
      if (t.beta != T(0)) v += t.beta * *out;
      if (t.bias_n) v += t.bias_n[j];
      if (t.bias_m) v += t.bias_m[i];
      *out = v;
    }
  }
}

template <class K, class S>
void macro_kernel(const Job<typename K::Type, S>& job, const typename K::Packed* ap,
                  const typename K::Packed* bp, int64_t ic, int64_t mc, int64_t jc,
                  int64_t jp_begin, int64_t jp_end, int64_t nc, int64_t kc, int64_t b_stride,
                  bool first) {
  using T = typename K::Type;
  alignas(64) T tile[K::MR * K::NR];
  for (int64_t jp = jp_begin; jp < jp_end; ++jp) {
    const int64_t j = jp * K::NR;
    const int nr = static_cast<int>(std::min<int64_t>(K::NR, nc - j));
    const auto* bpanel = bp + jp * b_stride;
    for (int64_t i = 0; i < mc; i += K::MR) {
      const int mr = static_cast<int>(std::min<int64_t>(K::MR, mc - i));
      Tail<T> t{job.alpha, first ? job.beta : T(1), nullptr, nullptr};
      if (first && job.bias_kind == GemmBias::PerColumn) t.bias_n = job.bias + jc + j;
      if (first && job.bias_kind == GemmBias::PerRow) t.bias_m = job.bias + ic + i;
      T* c = job.c + (ic + i) * job.rsc + (jc + j) * job.csc;
      const auto* apanel = ap + i * kc;
      if (mr == K::MR && nr == K::NR && job.csc == 1) {
        K::run(kc, apanel, bpanel, c, job.rsc, t);
      } else if constexpr (K::kHasEdge) {
        if (job.csc == 1) {
          K::run_edge(mr, nr, kc, apanel, bpanel, c, job.rsc, t);
        } else {
          K::run(kc, apanel, bpanel, tile, K::NR, Tail<T>{T(1), T(0), nullptr, nullptr});
          store_edge<K>(tile, mr, nr, c, job.rsc, job.csc, t);
        }
      } else {
        K::run(kc, apanel, bpanel, tile, K::NR, Tail<T>{T(1), T(0), nullptr, nullptr});
        store_edge<K>(tile, mr, nr, c, job.rsc, job.csc, t);
      }
    }
  }
}

// Up to this much packing workspace per calling thread is kept between calls, so small
// products (where a trip through the allocator's lock is a measurable share) allocate nothing.
constexpr size_t kKeptWorkspace = size_t{512} << 10;

struct KeptBuffer {
  ~KeptBuffer() {  // a thread that exits gives its buffer back
    if (ptr) cpu_free(ptr, size);
  }
  void* ptr = nullptr;
  size_t size = 0;
};
thread_local KeptBuffer t_kept;

// Workspace for one thread team: the B block (shared, or one per thread) and one A block per
// thread.
template <class T>
struct Workspace {
  Workspace(const Blocks& bl, int nt, int64_t nr, int b_copies)
      : b_elems(bl.kc * round_up(bl.nc, nr)),
        a_elems(bl.kc * bl.mc),
        b_copies(b_copies),
        bytes(sizeof(T) * (b_elems * b_copies + a_elems * nt) + 64),
        buf(bytes <= kKeptWorkspace ? 0 : bytes) {
    if (buf.ptr) {
      base = static_cast<T*>(buf.ptr);
      return;
    }
    if (t_kept.size < bytes) {
      void* fresh = cpu_allocate(kKeptWorkspace);  // may throw: t_kept is still consistent
      if (t_kept.ptr) cpu_free(t_kept.ptr, t_kept.size);
      t_kept.ptr = fresh;
      t_kept.size = kKeptWorkspace;
    }
    base = static_cast<T*>(t_kept.ptr);
  }
  T* b(int copy = 0) const { return base + b_elems * copy; }
  T* a(int thread) const { return base + b_elems * b_copies + a_elems * thread; }
  int64_t b_elems, a_elems;
  int b_copies;
  size_t bytes;
  Buffer buf;
  T* base = nullptr;
};

// Products this small (in FLOPs, with K short enough that a row of A stays in L1) skip the
// packing, see VectorKernel::run_direct. Up to 128^3: there, 0.94x PyTorch against 0.85x
// packed (timeit, one thread).
constexpr double kDirectMaxFlops = 2.0 * 128 * 128 * 128;
constexpr int64_t kDirectMaxK = 256;

template <class K, class S>
bool direct_ok(const Job<typename K::Type, S>& job) {
  if constexpr (K::kHasEdge && std::is_same_v<typename K::Type, S>) {
    const double flops = 2.0 * static_cast<double>(job.m) * static_cast<double>(job.n) *
                         static_cast<double>(job.k);
    // A blocking override means someone (a test, a tuning run) wants the blocked loops.
    const GemmBlocking o = gemm_blocking_override();
    return job.csa == 1 && job.csb == 1 && job.csc == 1 && job.k <= kDirectMaxK &&
           flops <= kDirectMaxFlops && !(o.mc || o.kc || o.nc);
  } else {
    return false;
  }
}

template <class K, class S>
void gemm_direct(const Job<typename K::Type, S>& job) {
  if constexpr (K::kHasEdge && std::is_same_v<typename K::Type, S>) {
    using T = typename K::Type;
    for (int64_t j = 0; j < job.n; j += K::NR) {
      const int nr = static_cast<int>(std::min<int64_t>(K::NR, job.n - j));
      for (int64_t i = 0; i < job.m; i += K::MR) {
        const int mr = static_cast<int>(std::min<int64_t>(K::MR, job.m - i));
        Tail<T> t{job.alpha, job.beta, nullptr, nullptr};
        if (job.bias_kind == GemmBias::PerColumn) t.bias_n = job.bias + j;
        if (job.bias_kind == GemmBias::PerRow) t.bias_m = job.bias + i;
        K::run_direct(mr, nr, job.k, job.a + i * job.rsa, job.rsa, job.b + j, job.rsb,
                      job.c + i * job.rsc + j, job.rsc, t);
      }
    }
  }
}

template <class K, class S>
void gemm_blocked(const Job<typename K::Type, S>& job, int nt) {
  if (nt == 1 && direct_ok<K>(job)) return gemm_direct<K>(job);
  const Blocks bl = choose_blocks<K>(job.m, job.n, job.k);
  int tm = 1, tn = 1;
  thread_grid(nt, ceil_div(job.m, K::MR), ceil_div(bl.nc, K::NR), &tm, &tn);
  // Row groups on a few threads each pack the whole B block for themselves: packing B is a
  // copy for the usual row-major B, cheaper than the barriers of sharing it or than every
  // thread transposing all of A (column groups). On many threads B would be packed too often,
  // so they share it (threads pack disjoint panels, with a barrier before and after use).
  const bool private_b = tm > 1 && tn == 1 && nt <= kMaxPrivateB;
  Workspace<typename K::Packed> ws(bl, nt, K::NR, private_b ? nt : 1);
  const int64_t mpanels = ceil_div(job.m, K::MR);

  auto body = [&](int t, int team) {  // team may be fewer threads than asked
    int gm = tm, gn = tn;
    if (team != nt) thread_grid(team, mpanels, ceil_div(bl.nc, K::NR), &gm, &gn);
    const int ti = t / gn, tj = t % gn;
    const int64_t row_begin = std::min(job.m, mpanels * ti / gm * K::MR);
    const int64_t row_end = std::min(job.m, mpanels * (ti + 1) / gm * K::MR);
    typename K::Packed* abuf = ws.a(t);
    const int64_t b_stride = K::NR * bl.kc;
    K::thread_init();
    for (int64_t jc = 0; jc < job.n; jc += bl.nc) {
      const int64_t nc = std::min(bl.nc, job.n - jc);
      const int64_t npanels = ceil_div(nc, K::NR);
      for (int64_t pc = 0; pc < job.k; pc += bl.kc) {
        const int64_t kc = std::min(bl.kc, job.k - pc);
        const int64_t kcp = round_up(kc, K::KPad);
        // Each thread packs exactly the B panels it multiplies (its columns, into its own
        // copy for private row groups), so no thread waits for another: no barrier, which
        // matters when the cores are shared with other busy threads. Only shared row groups
        // pack disjoint parts of one block around two barriers. Panels sit at a fixed stride
        // (the largest KC), so a thread that runs ahead to the next K block never writes over
        // a panel another thread is still reading.
        const int64_t jp_begin = npanels * tj / gn, jp_end = npanels * (tj + 1) / gn;
        const bool shared = gm > 1 && !private_b;
        const int64_t pb = shared ? npanels * t / team : jp_begin;
        const int64_t pe = shared ? npanels * (t + 1) / team : jp_end;
        typename K::Packed* bbuf = ws.b(private_b ? t : 0);
        if (pb < pe) {
          pack_panels<K::NR, K::KB>(job.b + pc * job.rsb + (jc + pb * K::NR) * job.csb,
                                    job.csb, job.rsb, std::min(nc - pb * K::NR, (pe - pb) * K::NR),
                                    kc, kcp, bbuf + pb * b_stride, b_stride);
        }
        if (shared) {
#pragma omp barrier
        }
        for (int64_t ic = row_begin; ic < row_end && jp_begin < jp_end; ic += bl.mc) {
          const int64_t mc = std::min(bl.mc, row_end - ic);
          pack_panels<K::MR, K::KA>(job.a + ic * job.rsa + pc * job.csa, job.rsa, job.csa, mc,
                                    kc, kcp, abuf, K::MR * kcp);
          macro_kernel<K>(job, abuf, bbuf, ic, mc, jc, jp_begin, jp_end, nc, kcp, b_stride,
                          pc == 0);
        }
        if (shared) {
#pragma omp barrier
        }
      }
    }
    K::thread_fini();
  };
  if (nt == 1) {  // no OpenMP region at all: it costs a noticeable share of a small product
    body(0, 1);
  } else {
#pragma omp parallel num_threads(nt)
    body(omp_get_thread_num(), omp_get_num_threads());
  }
}

}  // namespace
}  // namespace ember::cpu
