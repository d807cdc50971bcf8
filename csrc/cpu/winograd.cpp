// Winograd F(4x4, 3x3) transforms (see winograd.h), with the interpolation points 0, +-1, +-2
// and infinity of Lavin & Gray:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;  0 -2 -1 2 1 0;  0 2 -1 -2 1 0;
//          0  4  0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
// The 2-d transforms are two 1-d passes written out (a multiplication by a zero of the
// matrices cannot be folded away in IEEE arithmetic). Every pass works on 16 tiles at once, so
// each line of a pass is one vector operation. Gathering patches from the image and scattering
// tiles back are scalar in the SSE and AVX2 builds; AVX-512 loads whole rows of 16 tiles with
// masks (images >= 8 tiles wide) or gathers each patch point of 16 tiles (smaller ones). V and
// M have their 36 matrices `astride` floats apart: a multiple of 4 KiB would put the 36 rows
// of one pass into one L1 set. The weight gradient's pieces (A gy A^T, G^T dU G) are here too.
#include <algorithm>
#include <climits>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "cpu/winograd.h"

namespace ember::cpu {
namespace {

constexpr int V = static_cast<int>(kWinoLanes);

// 16 floats as one value (GCC/Clang vector extension): one AVX-512 register, two AVX2 ones,
// four SSE ones; the compiler does not vectorise the strided passes below by itself.
// Its functions are internal and inlined, so the ABI note GCC gives for the narrower builds
// (-Wpsabi: how a 64-byte vector would be passed) does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float vf __attribute__((vector_size(4 * V)));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// B^T along one axis: six rows of 16 lanes to six rows d[k * ds].
inline void input_vec(vf d0, vf d1, vf d2, vf d3, vf d4, vf d5, float* d, int64_t ds) {
  store(d, 4.f * d0 - 5.f * d2 + d4);
  store(d + ds, (d3 + d4) - 4.f * (d1 + d2));
  store(d + 2 * ds, (d4 - d3) + 4.f * (d1 - d2));
  store(d + 3 * ds, (d4 - d2) + 2.f * (d3 - d1));
  store(d + 4 * ds, (d4 - d2) - 2.f * (d3 - d1));
  store(d + 5 * ds, 4.f * d1 - 5.f * d3 + d5);
}

// The same from rows s[k * ss].
inline void input_1d(const float* s, int64_t ss, float* d, int64_t ds) {
  input_vec(load(s), load(s + ss), load(s + 2 * ss), load(s + 3 * ss), load(s + 4 * ss),
            load(s + 5 * ss), d, ds);
}

// A^T along one axis: six rows to four.
inline void output_1d(const float* s, int64_t ss, float* d, int64_t ds) {
  const vf m0 = load(s), m1 = load(s + ss), m2 = load(s + 2 * ss), m3 = load(s + 3 * ss),
           m4 = load(s + 4 * ss), m5 = load(s + 5 * ss);
  const vf a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
  store(d, m0 + a + c);
  store(d + ds, b + 2.f * e);
  store(d + 2 * ds, a + 4.f * c);
  store(d + 3 * ds, b + 8.f * e + m5);
}

// G along one axis: three rows of 16 filters to six rows d[k * ds] (float: its rounding is
// far below that of the data transforms).
inline void weight_vec(vf g0, vf g1, vf g2, float* d, int64_t ds) {
  const vf sixth = g2 * (1.f / 6), even = g0 * (1.f / 24) + sixth, odd = g1 * (1.f / 12);
  store(d, g0 * 0.25f);
  store(d + ds, (g0 + g1 + g2) * (-1.f / 6));
  store(d + 2 * ds, (g0 - g1 + g2) * (-1.f / 6));
  store(d + 3 * ds, even + odd);
  store(d + 4 * ds, even - odd);
  store(d + 5 * ds, g2);
}

// 16 filters at a time: gathered into g[tap][lane], transformed as vectors, and stored as
// rows of U, whose (o, c) index is the filter index.
void weight_transform(const WinoWeightArgs& a) {
  const int64_t filters = a.o * a.c;
  alignas(64) float g[9][V];
  alignas(64) float t[6][3][V];
  alignas(64) float u[kWinoAlpha][V];
  for (int64_t f0 = 0; f0 < filters; f0 += V) {
    const int64_t count = std::min<int64_t>(V, filters - f0);
    for (int l = 0; l < V; ++l) {
      const int64_t f = f0 + std::min<int64_t>(l, count - 1), o = f / a.c, c = f % a.c;
      const float* w = a.w + (a.flip ? c * a.o + o : f) * 9;
      for (int e = 0; e < 9; ++e) g[e][l] = a.flip ? w[8 - e] : w[e];
    }
    for (int j = 0; j < 3; ++j)
      weight_vec(load(g[j]), load(g[3 + j]), load(g[6 + j]), &t[0][j][0], 3 * V);
    for (int k = 0; k < 6; ++k)
      weight_vec(load(t[k][0]), load(t[k][1]), load(t[k][2]), &u[k * 6][0], V);
    for (int k = 0; k < kWinoAlpha; ++k)
      std::memcpy(a.u + k * filters + f0, u[k], sizeof(float) * count);
  }
}

// Where the tiles of one 16-lane step start: image offset and top-left corner (input patch
// corner for the input transform, output corner for the output one).
struct Lanes {
  int64_t img[V], y[V], x[V];
  int count;
};

Lanes tile_lanes(const WinoGeom& g, int64_t t, int64_t count) {
  Lanes s{};
  s.count = static_cast<int>(count);
  const int64_t per_image = g.th * g.tw;
  for (int l = 0; l < s.count; ++l) {
    const int64_t r = (t + l) % per_image;
    s.img[l] = (t + l) / per_image;
    s.y[l] = r / g.tw * 4;
    s.x[l] = r % g.tw * 4;
  }
  return s;
}

// The 6x6 patch of each lane's tile from one input plane, zero outside it.
void gather(const WinoGeom& g, const float* x, int64_t c, const Lanes& s, float (*d)[6][V]) {
  for (int l = 0; l < V; ++l) {
    if (l >= s.count) {
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) d[i][j][l] = 0.f;
      continue;
    }
    const int64_t y0 = s.y[l] - g.pt, x0 = s.x[l] - g.pl;
    const float* p = x + (s.img[l] * g.c + c) * g.h * g.w;
    if (y0 >= 0 && x0 >= 0 && y0 + 6 <= g.h && x0 + 6 <= g.w) {
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j) d[i][j][l] = p[(y0 + i) * g.w + x0 + j];
      continue;
    }
    // On the border: zeros, then the rectangle of the patch that lies inside the image.
    const int64_t i0 = std::max<int64_t>(0, -y0), i1 = std::clamp<int64_t>(g.h - y0, 0, 6);
    const int64_t k0 = std::max<int64_t>(0, -x0), k1 = std::clamp<int64_t>(g.w - x0, 0, 6);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) d[i][j][l] = 0.f;
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = k0; j < k1; ++j) d[i][j][l] = p[(y0 + i) * g.w + x0 + j];
  }
}

#if defined(__AVX512F__)
// On AVX-512 each point of the 16 patches is one masked gather (input and grad_output; a
// scatter for the output measured no faster than scalar stores): int32 offsets from the first
// lane's image (when they fit), and a lane mask per patch row and column for the borders.
struct GatherPlan {
  __m512i offset;
  __mmask16 row[6], col[6];
};

// Lanes' offsets within planes of h x w, images `image` floats apart, for patches of n x n from
// (y - dy, x - dx); false when an offset would not fit in int32.
bool lane_plan(const Lanes& s, int64_t image, int64_t h, int64_t w, int64_t dy, int64_t dx,
               int n, GatherPlan& gp) {
  alignas(64) int32_t off[V] = {};
  for (int i = 0; i < 6; ++i) gp.row[i] = gp.col[i] = 0;
  for (int l = 0; l < s.count; ++l) {
    const int64_t y0 = s.y[l] - dy, x0 = s.x[l] - dx;
    const int64_t o = (s.img[l] - s.img[0]) * image + y0 * w + x0;
    const int64_t reach = (s.img[l] - s.img[0] + 1) * image + n * (w + 1);
    if (o < INT32_MIN + n * (w + 1) || reach > INT32_MAX) return false;
    off[l] = static_cast<int32_t>(o);
    for (int i = 0; i < n; ++i) {
      if (y0 + i >= 0 && y0 + i < h) gp.row[i] |= static_cast<__mmask16>(1u << l);
      if (x0 + i >= 0 && x0 + i < w) gp.col[i] |= static_cast<__mmask16>(1u << l);
    }
  }
  gp.offset = _mm512_load_si512(off);
  return true;
}

inline __m512i point_index(const GatherPlan& gp, int64_t w, int i, int j) {
  return _mm512_add_epi32(gp.offset, _mm512_set1_epi32(static_cast<int32_t>(i * w + j)));
}

void gather_avx512(const WinoGeom& g, const float* plane, const GatherPlan& gp,
                   float (*d)[6][V]) {
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      _mm512_store_ps(d[i][j], _mm512_mask_i32gather_ps(_mm512_setzero_ps(), gp.row[i] & gp.col[j],
                                                        point_index(gp, g.w, i, j), plane, 4));
    }
  }
}
#endif

void input_lanes(const WinoInputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float d[6][6][V];
  alignas(64) float t[6][6][V];
  for (int64_t j0 = 0; j0 < a.nt; j0 += V) {
    const Lanes s = tile_lanes(g, a.t0 + j0, std::min<int64_t>(V, a.nt - j0));
#if defined(__AVX512F__)
    GatherPlan gp;
    const bool fast = lane_plan(s, g.c * g.h * g.w, g.h, g.w, g.pt, g.pl, 6, gp);
#endif
    for (int64_t c = 0; c < g.c; ++c) {
#if defined(__AVX512F__)
      if (fast)
        gather_avx512(g, a.x + (s.img[0] * g.c + c) * g.h * g.w, gp, d);
      else
#endif
        gather(g, a.x, c, s, d);
      for (int j = 0; j < 6; ++j) input_1d(&d[0][j][0], 6 * V, &t[0][j][0], 6 * V);
      float* out = a.v + c * a.ld + j0;
      for (int i = 0; i < 6; ++i) input_1d(&t[i][0][0], V, out + i * 6 * a.astride, a.astride);
    }
  }
}

void output_lanes(const WinoOutputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float t[4][6][V];
  alignas(64) float r[4][4][V];
  for (int64_t j0 = 0; j0 < a.nt; j0 += V) {
    const Lanes s = tile_lanes(g, a.t0 + j0, std::min<int64_t>(V, a.nt - j0));
    for (int64_t o = 0; o < g.o; ++o) {
      const float* m = a.m + o * a.ld + j0;
      const int64_t row = a.astride;  // between consecutive transform points
      for (int j = 0; j < 6; ++j) output_1d(m + j * row, 6 * row, &t[0][j][0], 6 * V);
      for (int i = 0; i < 4; ++i) output_1d(&t[i][0][0], V, &r[i][0][0], V);
      const float b = a.bias ? a.bias[o] : 0.f;
      for (int l = 0; l < s.count; ++l) {
        float* y = a.y + ((s.img[l] * g.o + o) * g.oh + s.y[l]) * g.ow + s.x[l];
        const int64_t hi = std::min<int64_t>(4, g.oh - s.y[l]);
        const int64_t wi = std::min<int64_t>(4, g.ow - s.x[l]);
        for (int64_t i = 0; i < hi; ++i)
          for (int64_t k = 0; k < wi; ++k) y[i * g.ow + k] = r[i][k][l] + b;
      }
    }
  }
}

// A along one axis (the transpose of the output transform): four rows to six.
inline void grad_output_1d(const float* s, int64_t ss, float* d, int64_t ds) {
  const vf m0 = load(s), m1 = load(s + ss), m2 = load(s + 2 * ss), m3 = load(s + 3 * ss);
  const vf even = m0 + m2, odd = m1 + m3, even4 = m0 + 4.f * m2, odd2 = 2.f * m1 + 8.f * m3;
  store(d, m0);
  store(d + ds, even + odd);
  store(d + 2 * ds, even - odd);
  store(d + 3 * ds, even4 + odd2);
  store(d + 4 * ds, even4 - odd2);
  store(d + 5 * ds, m3);
}

void grad_output_transform(const WinoInputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float d[4][4][V];
  alignas(64) float t[6][4][V];
  for (int64_t j0 = 0; j0 < a.nt; j0 += V) {
    const Lanes s = tile_lanes(g, a.t0 + j0, std::min<int64_t>(V, a.nt - j0));
#if defined(__AVX512F__)
    GatherPlan gp;
    const bool fast = lane_plan(s, g.o * g.oh * g.ow, g.oh, g.ow, 0, 0, 4, gp);
#endif
    for (int64_t o = 0; o < g.o; ++o) {
#if defined(__AVX512F__)
      const float* plane = a.x + (s.img[0] * g.o + o) * g.oh * g.ow;
      for (int i = 0; fast && i < 4; ++i)
        for (int k = 0; k < 4; ++k)
          _mm512_store_ps(d[i][k], _mm512_mask_i32gather_ps(_mm512_setzero_ps(),
                                                            gp.row[i] & gp.col[k],
                                                            point_index(gp, g.ow, i, k), plane, 4));
      for (int l = 0; !fast && l < V; ++l) {
#else
      for (int l = 0; l < V; ++l) {
#endif
        const bool live = l < s.count;
        const int64_t hi = live ? std::min<int64_t>(4, g.oh - s.y[l]) : 0;
        const int64_t wi = live ? std::min<int64_t>(4, g.ow - s.x[l]) : 0;
        const float* p = live ? a.x + ((s.img[l] * g.o + o) * g.oh + s.y[l]) * g.ow + s.x[l]
                              : a.x;
        for (int64_t i = 0; i < 4; ++i)
          for (int64_t k = 0; k < 4; ++k) d[i][k][l] = i < hi && k < wi ? p[i * g.ow + k] : 0.f;
      }
      for (int k = 0; k < 4; ++k) grad_output_1d(&d[0][k][0], 4 * V, &t[0][k][0], 4 * V);
      float* out = a.v + o * a.ld + j0;
      for (int i = 0; i < 6; ++i)
        grad_output_1d(&t[i][0][0], V, out + i * 6 * a.astride, a.astride);
    }
  }
}

// G^T along one axis: six rows to three.
inline void weight_grad_1d(const float* s, int64_t ss, float* d, int64_t ds) {
  const vf m0 = load(s), m1 = load(s + ss), m2 = load(s + 2 * ss), m3 = load(s + 3 * ss),
           m4 = load(s + 4 * ss), m5 = load(s + 5 * ss);
  const vf p12 = m1 + m2, p34 = m3 + m4;
  store(d, m0 * 0.25f - p12 * (1.f / 6) + p34 * (1.f / 24));
  store(d + ds, (m2 - m1) * (1.f / 6) + (m3 - m4) * (1.f / 12));
  store(d + 2 * ds, (p34 - p12) * (1.f / 6) + m5);
}

void weight_grad_transform(const WinoWeightGradArgs& a) {
  const int64_t filters = a.o * a.c;
  alignas(64) float m[kWinoAlpha][V];
  alignas(64) float t[3][6][V];
  alignas(64) float r[3][3][V];
  for (int64_t f0 = 0; f0 < filters; f0 += V) {
    const int64_t count = std::min<int64_t>(V, filters - f0);
    for (int k = 0; k < kWinoAlpha; ++k) {
      std::memcpy(m[k], a.du + k * filters + f0, sizeof(float) * count);
      std::fill(m[k] + count, m[k] + V, 0.f);
    }
    for (int k = 0; k < 6; ++k) weight_grad_1d(m[k], 6 * V, &t[0][k][0], 6 * V);
    for (int i = 0; i < 3; ++i) weight_grad_1d(&t[i][0][0], V, &r[i][0][0], V);
    for (int64_t l = 0; l < count; ++l)
      for (int e = 0; e < 9; ++e) a.gw[(f0 + l) * 9 + e] = r[e / 3][e % 3][l];
  }
}

#if defined(__AVX512F__)
// Images at least 8 tiles wide go a run of up to 16 tiles of one tile row at a time: each
// input row of the run is 5 masked loads (the mask is the image's edge and padding) and 14
// shuffles into the 6 columns of the 16 patches, and each output row 8 shuffles and 4 masked
// stores, in place of a scalar gather and scatter per tile. A run's V / M columns are
// consecutive; the lanes past its end hold junk that the next run overwrites, so ld must
// leave 16 spare columns.
struct Run {
  int64_t img, y, x, count;  // first tile's image, and its output row and column
};

template <class F>
void for_runs(const WinoGeom& g, int64_t t0, int64_t nt, const F& f) {
  const int64_t per_image = g.th * g.tw;
  for (int64_t j = 0; j < nt;) {
    const int64_t t = t0 + j, r = t % per_image, tx = r % g.tw;
    const Run run{t / per_image, r / g.tw * 4, tx * 4, std::min({int64_t{V}, g.tw - tx, nt - j})};
    f(run, j);
    j += run.count;
  }
}

// Lanes where x + e, e in [0, 16), lies in [lo, hi).
inline __mmask16 span_mask(int64_t x, int64_t lo, int64_t hi) {
  const int64_t a = std::clamp<int64_t>(lo - x, 0, V), b = std::clamp<int64_t>(hi - x, 0, V);
  return static_cast<__mmask16>(((1u << b) - 1) & ~((1u << a) - 1));
}

// Lanes J, J + 4, ... of the 64 floats a|b|c|d.
template <int J>
inline vf every4(vf a, vf b, vf c, vf d) {
  const vf ab = __builtin_shufflevector(a, b, J, J + 4, J + 8, J + 12, J + 16, J + 20, J + 24,
                                        J + 28, 0, 0, 0, 0, 0, 0, 0, 0);
  const vf cd = __builtin_shufflevector(c, d, J, J + 4, J + 8, J + 12, J + 16, J + 20, J + 24,
                                        J + 28, 0, 0, 0, 0, 0, 0, 0, 0);
  return __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

void input_rows(const WinoInputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float t[6][6][V];
  for_runs(g, a.t0, a.nt, [&](const Run& run, int64_t j) {
    const int64_t x0 = run.x - g.pl, y0 = run.y - g.pt;
    __mmask16 mask[5];
    for (int q = 0; q < 5; ++q) mask[q] = span_mask(x0 + 16 * q, 0, g.w);
    for (int64_t c = 0; c < g.c; ++c) {
      const float* plane = a.x + (run.img * g.c + c) * g.h * g.w;
      for (int i = 0; i < 6; ++i) {
        const bool inside = y0 + i >= 0 && y0 + i < g.h;
        const float* row = plane + (inside ? (y0 + i) * g.w + x0 : 0);
        vf r[5];
        for (int q = 0; q < 5; ++q)
          r[q] = (vf)_mm512_maskz_loadu_ps(inside ? mask[q] : 0, row + 16 * q);
        const vf p0 = every4<0>(r[0], r[1], r[2], r[3]), p1 = every4<1>(r[0], r[1], r[2], r[3]);
        input_vec(p0, p1, every4<2>(r[0], r[1], r[2], r[3]), every4<3>(r[0], r[1], r[2], r[3]),
                  __builtin_shufflevector(p0, r[4], 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                          14, 15, 16),
                  __builtin_shufflevector(p1, r[4], 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                          14, 15, 17),
                  &t[i][0][0], V);
      }
      float* out = a.v + c * a.ld + j;
      for (int k = 0; k < 6; ++k) input_1d(&t[0][k][0], 6 * V, out + k * a.astride, 6 * a.astride);
    }
  });
}

// Row i of the 16 tiles' outputs r[i][0..3] interleaved into 64 consecutive floats.
inline void interleave4(vf r0, vf r1, vf r2, vf r3, vf out[4]) {
  const vf lo01 = __builtin_shufflevector(r0, r1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
                                          22, 7, 23);
  const vf hi01 = __builtin_shufflevector(r0, r1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29,
                                          14, 30, 15, 31);
  const vf lo23 = __builtin_shufflevector(r2, r3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
                                          22, 7, 23);
  const vf hi23 = __builtin_shufflevector(r2, r3, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29,
                                          14, 30, 15, 31);
  out[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7,
                                   22, 23);
  out[1] = __builtin_shufflevector(lo01, lo23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14,
                                   15, 30, 31);
  out[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7,
                                   22, 23);
  out[3] = __builtin_shufflevector(hi01, hi23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14,
                                   15, 30, 31);
}

void output_rows(const WinoOutputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float t[4][6][V];
  alignas(64) float r[4][4][V];
  for_runs(g, a.t0, a.nt, [&](const Run& run, int64_t j) {
    __mmask16 mask[4];
    for (int q = 0; q < 4; ++q)
      mask[q] = span_mask(run.x + 16 * q, 0, std::min(g.ow, run.x + 4 * run.count));
    const int64_t rows = std::min<int64_t>(4, g.oh - run.y);
    for (int64_t o = 0; o < g.o; ++o) {
      const float* m = a.m + o * a.ld + j;
      for (int k = 0; k < 6; ++k) output_1d(m + k * a.astride, 6 * a.astride, &t[0][k][0], 6 * V);
      for (int i = 0; i < 4; ++i) output_1d(&t[i][0][0], V, &r[i][0][0], V);
      const float b = a.bias ? a.bias[o] : 0.f;
      float* y = a.y + ((run.img * g.o + o) * g.oh + run.y) * g.ow + run.x;
      for (int64_t i = 0; i < rows; ++i) {
        vf out[4];
        interleave4(load(r[i][0]) + b, load(r[i][1]) + b, load(r[i][2]) + b, load(r[i][3]) + b,
                    out);
        for (int q = 0; q < 4; ++q)
          _mm512_mask_storeu_ps(y + i * g.ow + 16 * q, mask[q], (__m512)out[q]);
      }
    }
  });
}
#endif

void input_transform(const WinoInputArgs& a) {
#if defined(__AVX512F__)
  if (a.g.tw >= 8) return input_rows(a);
#endif
  input_lanes(a);
}

void output_transform(const WinoOutputArgs& a) {
#if defined(__AVX512F__)
  if (a.g.tw >= 8) return output_rows(a);
#endif
  output_lanes(a);
}

}  // namespace

EMBER_REGISTER_CPU(winograd_weight_kernel, weight_transform);
EMBER_REGISTER_CPU(winograd_input_kernel, input_transform);
EMBER_REGISTER_CPU(winograd_output_kernel, output_transform);
EMBER_REGISTER_CPU(winograd_grad_output_kernel, grad_output_transform);
EMBER_REGISTER_CPU(winograd_weight_grad_kernel, weight_grad_transform);

}  // namespace ember::cpu
