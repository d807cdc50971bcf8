// conv2d forward and backward on CUDA (entries declared in cuda/conv_op.h).
// A chunk of m images is unfolded by im2col into one (C * kh * kw) x (m * L) matrix, L = oh * ow,
// image j's columns at j * L; group gi's rows are the gi-th block of K = C/g * kh * kw rows.
//   forward   y_j,g = W_g @ col_g[:, j]          per group, batched over the images (+ bias)
//   grad w    part_j,g = gy_j,g @ col_j,g^T       batched over (image, group), then summed
//   grad x    col_g = W_g^T @ gyT_g, then col2im   batched over groups, gyT = gy as (O, m * L)
// col2im is a gather (one thread per input element sums the col entries it fed), so it needs
// neither atomics nor a zeroed gx. Depthwise convolutions use direct kernels, and the bias
// gradient is a per-channel block reduction. Chunks keep col under col_budget() bytes.
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <vector>

#include "core/cuda_runtime.h"
#include "cpu/gemm/gemm.h"
#include "cuda/block_reduce.cuh"
#include "cuda/common.cuh"
#include "cuda/conv_op.h"

namespace ember::cuda {
namespace {

// Bytes of col (+ the transposed output gradient) per chunk of images. EMBER_CUDA_CONV_BUDGET
// overrides it (tests use a tiny budget to run the chunking with small tensors).
int64_t col_budget() {
  const char* v = std::getenv("EMBER_CUDA_CONV_BUDGET");
  const int64_t b = v ? std::atoll(v) : 0;
  return b > 0 ? b : int64_t{256} << 20;
}

template <class T>
__global__ void im2col_dev(const T* x, T* col, ConvGeom g, int64_t chans, int64_t m,
                           int64_t total) {
  const int64_t L = g.oh * g.ow, ml = m * L, kk = g.kh * g.kw;
  for (int64_t i = global_thread(); i < total; i += global_stride()) {
    const int64_t row = i / ml, r = i - row * ml;
    const int64_t j = r / L, l = r - j * L;
    const int64_t ch = row / kk, q = row - ch * kk;
    const int64_t ky = q / g.kw, kx = q - ky * g.kw;
    const int64_t oy = l / g.ow, ox = l - oy * g.ow;
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
    const bool in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
    col[i] = in ? x[((j * chans + ch) * g.h + iy) * g.w + ix] : T(0);
  }
}

// Output position o along an axis fed by input position i through tap k, or -1.
__device__ __forceinline__ int64_t source_out(int64_t i, int64_t pad, int64_t k, int64_t dil,
                                              int64_t stride, int64_t out) {
  const int64_t t = i + pad - k * dil;
  if (t < 0 || t % stride != 0) return -1;
  const int64_t o = t / stride;
  return o < out ? o : -1;
}

template <class T>
__global__ void col2im_dev(const T* col, T* gx, ConvGeom g, int64_t chans, int64_t m,
                           int64_t total) {
  const int64_t L = g.oh * g.ow, ml = m * L;
  for (int64_t i = global_thread(); i < total; i += global_stride()) {
    const int64_t ix = i % g.w, t = i / g.w;
    const int64_t iy = t % g.h, t2 = t / g.h;
    const int64_t ch = t2 % chans, j = t2 / chans;
    T acc = T(0);
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t oy = source_out(iy, g.pt, ky, g.dh, g.sh, g.oh);
      if (oy < 0) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ox = source_out(ix, g.pl, kx, g.dw, g.sw, g.ow);
        if (ox < 0) continue;
        acc += col[((ch * g.kh + ky) * g.kw + kx) * ml + j * L + oy * g.ow + ox];
      }
    }
    gx[i] = acc;
  }
}

// tmp[(o * m + j) * L + l] = gy[(j * O + o) * L + l]: the chunk's output gradient channel-major.
template <class T>
__global__ void channel_major_dev(const T* gy, T* tmp, int64_t o_total, int64_t m, int64_t L,
                                  int64_t total) {
  for (int64_t i = global_thread(); i < total; i += global_stride()) {
    const int64_t l = i % L, t = i / L;
    const int64_t j = t % m, o = t / m;
    tmp[i] = gy[(j * o_total + o) * L + l];
  }
}

// One block per output channel o: out[o] = sum over images and the plane of g.
template <class T>
__global__ void channel_sum_dev(const T* g, T* out, int64_t n, int64_t o_total, int64_t L) {
  const int64_t o = blockIdx.x;
  T s = T(0);
  for (int64_t t = threadIdx.x; t < n * L; t += blockDim.x) {
    const int64_t i = t / L, l = t - i * L;
    s += g[(i * o_total + o) * L + l];
  }
  s = block_sum(s);
  if (threadIdx.x == 0) out[o] = s;
}

// Depthwise: output channel o reads input channel o / mult; g.c is every input channel.
template <class T>
__global__ void depthwise_dev(const T* x, const T* w, const T* b, T* y, ConvGeom g,
                              int64_t mult, int64_t total) {
  const int64_t o_total = g.c * mult;
  for (int64_t i = global_thread(); i < total; i += global_stride()) {
    const int64_t ox = i % g.ow, t = i / g.ow;
    const int64_t oy = t % g.oh, t2 = t / g.oh;
    const int64_t o = t2 % o_total, n = t2 / o_total, c = o / mult;
    const T* xp = x + (n * g.c + c) * g.h * g.w;
    const T* wp = w + o * g.kh * g.kw;
    T acc = T(0);
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
        if (ix >= 0 && ix < g.w) acc += xp[iy * g.w + ix] * wp[ky * g.kw + kx];
      }
    }
    y[i] = b ? acc + b[o] : acc;
  }
}

template <class T>
__global__ void depthwise_gx_dev(const T* gy, const T* w, T* gx, ConvGeom g, int64_t mult,
                                 int64_t total) {
  const int64_t o_total = g.c * mult;
  for (int64_t i = global_thread(); i < total; i += global_stride()) {
    const int64_t ix = i % g.w, t = i / g.w;
    const int64_t iy = t % g.h, t2 = t / g.h;
    const int64_t c = t2 % g.c, n = t2 / g.c;
    T acc = T(0);
    for (int64_t mm = 0; mm < mult; ++mm) {
      const int64_t o = c * mult + mm;
      const T* gp = gy + (n * o_total + o) * g.oh * g.ow;
      const T* wp = w + o * g.kh * g.kw;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t oy = source_out(iy, g.pt, ky, g.dh, g.sh, g.oh);
        if (oy < 0) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ox = source_out(ix, g.pl, kx, g.dw, g.sw, g.ow);
          if (ox >= 0) acc += gp[oy * g.ow + ox] * wp[ky * g.kw + kx];
        }
      }
    }
    gx[i] = acc;
  }
}

// One block per weight (o, ky, kx): the sum over images and output positions.
template <class T>
__global__ void depthwise_gw_dev(const T* gy, const T* x, T* gw, ConvGeom g, int64_t n,
                                 int64_t mult) {
  const int64_t e = blockIdx.x, kk = g.kh * g.kw;
  const int64_t o = e / kk, q = e - o * kk, ky = q / g.kw, kx = q - ky * g.kw;
  const int64_t c = o / mult, o_total = g.c * mult, L = g.oh * g.ow;
  T s = T(0);
  for (int64_t t = threadIdx.x; t < n * L; t += blockDim.x) {
    const int64_t i = t / L, l = t - i * L;
    const int64_t oy = l / g.ow, ox = l - oy * g.ow;
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
      s += gy[(i * o_total + o) * L + l] * x[((i * g.c + c) * g.h + iy) * g.w + ix];
  }
  s = block_sum(s);
  if (threadIdx.x == 0) gw[e] = s;
}

// A grid-stride launch over `total` items; nothing to do for an empty range.
template <class Kernel, class... Args>
void launch(const char* name, int64_t total, Kernel kernel, Args... args) {
  if (total <= 0) return;
  kernel<<<static_cast<unsigned>(grid_size(total, kThreads)), kThreads>>>(args..., total);
  check_launch(name);
}

// Scratch device memory for one call, returned to the caching allocator afterwards (later
// users of the block are queued behind this call's kernels on the default stream).
class DeviceBuffer {
 public:
  DeviceBuffer(int64_t bytes, int device) : device_(device) {
    if (bytes > 0) ptr_ = ember::cuda::malloc(static_cast<size_t>(bytes), device);
  }
  ~DeviceBuffer() { ember::cuda::free(ptr_, device_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  int device_;
  void* ptr_ = nullptr;
};

int current_device(const void* ptr) {
  use_device_of(ptr);
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  return device;
}

void zero(void* p, int64_t bytes) {
  if (!p || bytes <= 0) return;
  check(cudaMemsetAsync(p, 0, static_cast<size_t>(bytes), 0), "cudaMemsetAsync");
}

struct Dims {
  int64_t L, kk, K, og, rows, nb;  // rows: C * kh * kw, the height of a chunk's col
};

// partials: the chunk also holds one (O x K) weight-gradient partial per image.
Dims dims_of(const ConvOpArgs& a, size_t isz, bool partials) {
  Dims d{};
  d.L = a.g.oh * a.g.ow;
  d.kk = a.g.kh * a.g.kw;
  d.K = a.g.c * d.kk;
  d.og = a.o / a.groups;
  d.rows = a.c * d.kk;
  const int64_t elems = (d.rows + a.o) * d.L + (partials ? a.o * d.K : 0);
  const int64_t per_image = std::max<int64_t>(1, elems * static_cast<int64_t>(isz));
  d.nb = std::max<int64_t>(1, std::min<int64_t>(a.n, col_budget() / per_image));
  return d;
}

bool is_depthwise(const ConvOpArgs& a) { return a.g.c == 1 && a.groups == a.c && a.groups > 1; }

GemmProblem problem(DType dt, int64_t m, int64_t n, int64_t k, const void* A, int64_t rsa,
                    int64_t csa, const void* B, int64_t rsb, int64_t csb, void* C, int64_t rsc,
                    double beta) {
  return gemm_problem(dt, m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, beta, 1);
}

void run_gemm(const GemmProblem& p) {
  GemmFn fn = gemm_kernel.slots[kCudaSlot];
  if (!fn) fail<NotImplementedError>("conv2d", "no CUDA GEMM kernel");
  fn(p);
}

template <class T>
void forward_typed(const ConvOpArgs& a) {
  const ConvGeom& g = a.g;
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  const T* b = static_cast<const T*>(a.bias);
  T* y = static_cast<T*>(a.y);
  const Dims d = dims_of(a, sizeof(T), false);
  if (is_depthwise(a)) {
    ConvGeom all = g;
    all.c = a.c;
    launch("conv2d depthwise", a.n * a.o * d.L, depthwise_dev<T>, x, w, b, y, all, d.og);
    return;
  }
  DeviceBuffer col(d.rows * d.nb * d.L * static_cast<int64_t>(sizeof(T)), current_device(x));
  std::vector<int64_t> b_off(d.nb), c_off(d.nb);
  for (int64_t i0 = 0; i0 < a.n; i0 += d.nb) {
    const int64_t m = std::min(d.nb, a.n - i0), ml = m * d.L;
    launch("conv2d im2col", d.rows * ml, im2col_dev<T>, x + i0 * a.c * g.h * g.w, col.as<T>(),
           g, a.c, m);
    for (int64_t j = 0; j < m; ++j) {
      b_off[j] = j * d.L;
      c_off[j] = j * a.o * d.L;
    }
    for (int64_t gi = 0; gi < a.groups; ++gi) {
      GemmProblem p = problem(a.dtype, d.og, d.L, d.K, w + gi * d.og * d.K, d.K, 1,
                              col.as<T>() + gi * d.K * ml, ml, 1,
                              y + (i0 * a.o + gi * d.og) * d.L, d.L, 0.0);
      p.batch = m;
      p.b_offsets = b_off.data();
      p.c_offsets = c_off.data();
      if (b) {
        p.bias_kind = GemmBias::PerRow;
        p.bias = b + gi * d.og;
        p.bias_stride = 1;
      }
      run_gemm(p);
    }
  }
}

// Per-batch offsets of a GEMM batched over `count` (image, group) or group indices.
struct Offsets {
  std::vector<int64_t> a, b, c;
  void set(GemmProblem& p, int64_t count, const std::function<void(int64_t, int64_t*)>& f) {
    a.resize(count);
    b.resize(count);
    c.resize(count);
    for (int64_t z = 0; z < count; ++z) {
      int64_t abc[3];
      f(z, abc);
      a[z] = abc[0];
      b[z] = abc[1];
      c[z] = abc[2];
    }
    p.batch = count;
    p.a_offsets = a.data();
    p.b_offsets = b.data();
    p.c_offsets = c.data();
  }
};

// gw[e] = (accumulate ? gw[e] : 0) + sum over the chunk's m images of part[j * total + e].
template <class T>
__global__ void sum_partials_dev(const T* part, T* gw, int64_t m, bool accumulate,
                                 int64_t total) {
  for (int64_t e = global_thread(); e < total; e += global_stride()) {
    T s = accumulate ? gw[e] : T(0);
    for (int64_t j = 0; j < m; ++j) s += part[j * total + e];
    gw[e] = s;
  }
}

// The weight gradient of images [i0, i0 + m), whose col is unfolded: one GEMM per (image j,
// group gi), all in one batched launch, part_j,g (og x K) = gy_j,g (og x L) @ col_j,g^T
// (L x K), so that a large reduction over the batch still spreads over many blocks; then the
// partials are summed per weight in image order.
template <class T>
void weight_grad_chunk(const ConvOpArgs& a, const Dims& d, const T* gy, const T* col, T* part,
                       int64_t i0, int64_t m, Offsets& off) {
  const int64_t ml = m * d.L;
  GemmProblem p = problem(a.dtype, d.og, d.K, d.L, gy + i0 * a.o * d.L, d.L, 1, col, 1, ml,
                          part, d.K, 0.0);
  off.set(p, m * a.groups, [&](int64_t z, int64_t* o) {
    const int64_t j = z / a.groups, gi = z - j * a.groups;
    o[0] = j * a.o * d.L + gi * d.og * d.L;
    o[1] = gi * d.K * ml + j * d.L;
    o[2] = j * a.o * d.K + gi * d.og * d.K;
  });
  run_gemm(p);
  launch("conv2d weight gradient sum", a.o * d.K, sum_partials_dev<T>, part,
         static_cast<T*>(a.gw), m, i0 > 0);
}

template <class T>
void backward_gemm_path(const ConvOpArgs& a, const Dims& d) {
  const ConvGeom& g = a.g;
  const T* x = static_cast<const T*>(a.x);
  const T* w = static_cast<const T*>(a.w);
  const T* gy = static_cast<const T*>(a.gy);
  T* gx = static_cast<T*>(a.gx);
  const int device = current_device(x);
  const int64_t isz = sizeof(T);
  DeviceBuffer col(d.rows * d.nb * d.L * isz, device);
  DeviceBuffer tmp(gx ? a.o * d.nb * d.L * isz : 0, device);
  DeviceBuffer part(a.gw ? d.nb * a.o * d.K * isz : 0, device);
  Offsets off;
  for (int64_t i0 = 0; i0 < a.n; i0 += d.nb) {
    const int64_t m = std::min(d.nb, a.n - i0), ml = m * d.L;
    if (a.gw) {
      launch("conv2d im2col", d.rows * ml, im2col_dev<T>, x + i0 * a.c * g.h * g.w,
             col.as<T>(), g, a.c, m);
      weight_grad_chunk<T>(a, d, gy, col.as<T>(), part.as<T>(), i0, m, off);
    }
    if (gx) {
      launch("conv2d gy transpose", a.o * ml, channel_major_dev<T>, gy + i0 * a.o * d.L,
             tmp.as<T>(), a.o, m, d.L);
      // col_g (K x ml) = W_g^T (K x og) @ gyT_g (og x ml), batched over the groups
      GemmProblem p = problem(a.dtype, d.K, ml, d.og, w, 1, d.K, tmp.as<T>(), ml, 1,
                              col.as<T>(), ml, 0.0);
      off.set(p, a.groups, [&](int64_t gi, int64_t* o) {
        o[0] = gi * d.og * d.K;
        o[1] = gi * d.og * ml;
        o[2] = gi * d.K * ml;
      });
      run_gemm(p);
      launch("conv2d col2im", m * a.c * g.h * g.w, col2im_dev<T>, col.as<T>(),
             gx + i0 * a.c * g.h * g.w, g, a.c, m);
    }
  }
}

template <class T>
void backward_typed(const ConvOpArgs& a) {
  const ConvGeom& g = a.g;
  const Dims d = dims_of(a, sizeof(T), a.gw != nullptr);
  const int64_t isz = sizeof(T);
  use_device_of(a.x);
  if (a.gb && a.o > 0) {  // n * L == 0 sums nothing: zeros
    channel_sum_dev<T><<<static_cast<unsigned>(a.o), kThreads>>>(
        static_cast<const T*>(a.gy), static_cast<T*>(a.gb), a.n, a.o, d.L);
    check_launch("conv2d bias gradient");
  }
  if (a.n == 0 || d.L == 0) {
    zero(a.gx, a.n * a.c * g.h * g.w * isz);
    zero(a.gw, a.o * d.K * isz);
    return;
  }
  if (!a.gx && !a.gw) return;
  if (!is_depthwise(a)) return backward_gemm_path<T>(a, d);
  ConvGeom all = g;
  all.c = a.c;
  const T* gy = static_cast<const T*>(a.gy);
  if (a.gx)
    launch("conv2d depthwise grad input", a.n * a.c * g.h * g.w, depthwise_gx_dev<T>, gy,
           static_cast<const T*>(a.w), static_cast<T*>(a.gx), all, d.og);
  if (a.gw && a.o * d.kk > 0) {
    depthwise_gw_dev<T><<<static_cast<unsigned>(a.o * d.kk), kThreads>>>(
        gy, static_cast<const T*>(a.x), static_cast<T*>(a.gw), all, a.n, d.og);
    check_launch("conv2d depthwise grad weight");
  }
}

void conv_forward(const ConvOpArgs& a) {
  if (a.n * a.o * a.g.oh * a.g.ow == 0) return;
  use_device_of(a.x);
  if (a.dtype == DType::Float32) return forward_typed<float>(a);
  if (a.dtype == DType::Float64) return forward_typed<double>(a);
  fail<TypeError>("conv2d", "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
}

void conv_backward(const ConvOpArgs& a) {
  if (a.dtype == DType::Float32) return backward_typed<float>(a);
  if (a.dtype == DType::Float64) return backward_typed<double>(a);
  fail<TypeError>("conv2d_backward", "unsupported dtype ", dtype_name(a.dtype), " on CUDA");
}

}  // namespace

EMBER_REGISTER_CUDA(conv2d_forward_cuda_kernel, conv_forward);
EMBER_REGISTER_CUDA(conv2d_backward_cuda_kernel, conv_backward);

}  // namespace ember::cuda
