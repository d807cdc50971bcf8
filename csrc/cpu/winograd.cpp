// Winograd F(4x4, 3x3) transforms (see winograd.h), with the interpolation points 0, +-1, +-2
// and infinity of Lavin & Gray:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0 4 -4 -1 1 0;  0 -2 -1 2 1 0;  0 2 -1 -2 1 0;
//          0  4  0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1]
// The 2-d transforms are two 1-d passes written out (a multiplication by a zero of the
// matrices cannot be folded away in IEEE arithmetic). Every pass works on 16 tiles at once, so
// each line of a pass is one vector operation; only gathering patches from the image and
// scattering tiles back into it are scalar. V and M have their 36 matrices `astride` floats
// apart: a multiple of 4 KiB would put the 36 rows of one pass into one L1 set.
#include <algorithm>
#include <cstring>

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

// B^T along one axis: six rows s[k * ss] of 16 lanes to six rows d[k * ds].
inline void input_1d(const float* s, int64_t ss, float* d, int64_t ds) {
  const vf d0 = load(s), d1 = load(s + ss), d2 = load(s + 2 * ss), d3 = load(s + 3 * ss),
           d4 = load(s + 4 * ss), d5 = load(s + 5 * ss);
  store(d, 4.f * d0 - 5.f * d2 + d4);
  store(d + ds, (d3 + d4) - 4.f * (d1 + d2));
  store(d + 2 * ds, (d4 - d3) + 4.f * (d1 - d2));
  store(d + 3 * ds, (d4 - d2) + 2.f * (d3 - d1));
  store(d + 4 * ds, (d4 - d2) - 2.f * (d3 - d1));
  store(d + 5 * ds, 4.f * d1 - 5.f * d3 + d5);
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

// G along one axis, in double (the filter transform is cheap and its rounding is then once).
inline void weight_1d(const double* s, int ss, double* d, int ds) {
  const double g0 = s[0], g1 = s[ss], g2 = s[2 * ss];
  d[0] = g0 / 4;
  d[ds] = -(g0 + g1 + g2) / 6;
  d[2 * ds] = -(g0 - g1 + g2) / 6;
  d[3 * ds] = g0 / 24 + g1 / 12 + g2 / 6;
  d[4 * ds] = g0 / 24 - g1 / 12 + g2 / 6;
  d[5 * ds] = g2;
}

void weight_transform(const WinoWeightArgs& a) {
  const int64_t filters = a.o * a.c;
  for (int64_t f = 0; f < filters; ++f) {
    const int64_t o = f / a.c, c = f % a.c;
    double g[3][3], t[6][3], u[6][6];
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        g[i][j] = a.flip ? a.w[(c * a.o + o) * 9 + (2 - i) * 3 + (2 - j)]
                         : a.w[(o * a.c + c) * 9 + i * 3 + j];
      }
    }
    for (int j = 0; j < 3; ++j) weight_1d(&g[0][j], 3, &t[0][j], 3);
    for (int i = 0; i < 6; ++i) weight_1d(&t[i][0], 1, &u[i][0], 1);
    for (int k = 0; k < kWinoAlpha; ++k)
      a.u[(k * a.o + o) * a.c + c] = static_cast<float>(u[k / 6][k % 6]);
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
    for (int i = 0; i < 6; ++i) {
      const int64_t iy = y0 + i;
      for (int j = 0; j < 6; ++j) {
        const int64_t ix = x0 + j;
        d[i][j][l] = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? p[iy * g.w + ix] : 0.f;
      }
    }
  }
}

void input_transform(const WinoInputArgs& a) {
  const WinoGeom& g = a.g;
  alignas(64) float d[6][6][V];
  alignas(64) float t[6][6][V];
  for (int64_t j0 = 0; j0 < a.nt; j0 += V) {
    const Lanes s = tile_lanes(g, a.t0 + j0, std::min<int64_t>(V, a.nt - j0));
    for (int64_t c = 0; c < g.c; ++c) {
      gather(g, a.x, c, s, d);
      for (int j = 0; j < 6; ++j) input_1d(&d[0][j][0], 6 * V, &t[0][j][0], 6 * V);
      float* out = a.v + c * a.ld + j0;
      for (int i = 0; i < 6; ++i) input_1d(&t[i][0][0], V, out + i * 6 * a.astride, a.astride);
    }
  }
}

void output_transform(const WinoOutputArgs& a) {
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

}  // namespace

EMBER_REGISTER_CPU(winograd_weight_kernel, weight_transform);
EMBER_REGISTER_CPU(winograd_input_kernel, input_transform);
EMBER_REGISTER_CPU(winograd_output_kernel, output_transform);

}  // namespace ember::cpu
