// Peak-throughput probes, compiled per capability so each build measures its own vector width.
// FMA: kChains independent accumulators, each updated acc = acc * m + c. An FMA has a latency
// of about 4 cycles and two issue ports on current x86 cores, so at least 8 chains in flight
// are needed to saturate them; we use more to cover slower parts. m < 1 keeps every chain
// bounded (it converges to c / (1 - m)), so no overflow or denormal slows the loop.
// The baseline build has no FMA instruction: it does a multiply and an add (same FLOP count).
// Stream: plain loops the compiler vectorises; Read uses an OpenMP simd reduction because a
// float sum may not be reordered otherwise.
#include <immintrin.h>

#include <cstring>

#include "cpu/probe.h"

namespace ember::cpu {
namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
constexpr int kChains = 16;  // 32 zmm registers: 16 accumulators + the two constants
inline Vec splat(float x) { return _mm512_set1_ps(x); }
inline Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
constexpr int kChains = 12;  // 16 ymm registers: 12 accumulators, the constants, a spare
inline Vec splat(float x) { return _mm256_set1_ps(x); }
inline Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
#else
using Vec = __m128;
constexpr int kLanes = 4;
constexpr int kChains = 12;
inline Vec splat(float x) { return _mm_set1_ps(x); }
inline Vec add(Vec a, Vec b) { return _mm_add_ps(a, b); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
#endif

int64_t fma_chains(int64_t iters, float* sink) {
  Vec acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = splat(1.0f + 0.01f * k);
  const Vec m = splat(0.999999f);
  const Vec c = splat(1e-6f);
  for (int64_t i = 0; i < iters; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = fma(acc[k], m, c);
  }
  Vec total = acc[0];
  for (int k = 1; k < kChains; ++k) total = add(total, acc[k]);
  alignas(64) float lanes[kLanes];
  std::memcpy(lanes, &total, sizeof(total));
  float s = 0;
  for (float v : lanes) s += v;
  *sink = s;
  return iters * kChains * kLanes * 2;
}

double stream_pass(StreamKind kind, float* a, const float* b, const float* c, float s,
                   int64_t n) {
  switch (kind) {
    case StreamKind::Copy:
      for (int64_t i = 0; i < n; ++i) a[i] = b[i];
      return 0.0;
    case StreamKind::Triad:
      for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
      return 0.0;
    case StreamKind::Read: {
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i) sum += b[i];
      return sum;
    }
  }
  return 0.0;
}

}  // namespace

EMBER_REGISTER_CPU(probe_fma_kernel, fma_chains);
EMBER_REGISTER_CPU(probe_stream_kernel, stream_pass);

}  // namespace ember::cpu
