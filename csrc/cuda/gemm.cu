// The CUDA slot of gemm_kernel (cpu/gemm/gemm.h): C[b] = alpha * A[b] @ B[b] + beta * C[b]
// (+ bias) on device pointers, on the default stream like every other kernel.
//   float32, float64, int32, int64   the tiled SIMT kernel (gemm_simt.cuh); integers multiply
//                                    in unsigned arithmetic, so overflow wraps
//   float16, bfloat16                the WMMA tensor-core kernel (gemm_wmma.cuh) on sm_80+,
//                                    else the SIMT kernel; float32 accumulation, C in the
//                                    input type or float32
// Batches run over gridDim.z; their offsets are copied to a small device buffer.
// EMBER_CUDA_GEMM_SIMT=1 sends float16/bfloat16 to the SIMT kernel (tests, comparisons).
#include <cstdlib>
#include <cstring>

#include "core/cuda_runtime.h"
#include "cuda/gemm_simt.cuh"
#include "cuda/gemm_wmma.cuh"

namespace ember::cuda {
namespace {

// The batch offsets of A, B and C, on the device for the duration of one launch. Freed into
// the caching allocator right after the launch: a later user of the block is queued behind it.
class DeviceOffsets {
 public:
  DeviceOffsets(const GemmProblem& p, int device) : device_(device) {
    const int64_t* host[3] = {p.a_offsets, p.b_offsets, p.c_offsets};
    if (p.batch <= 1 || (!host[0] && !host[1] && !host[2])) return;
    const size_t bytes = sizeof(int64_t) * static_cast<size_t>(p.batch);
    ptr_ = static_cast<int64_t*>(ember::cuda::malloc(3 * bytes, device));
    try {
      for (int i = 0; i < 3; ++i) {
        if (!host[i]) continue;
        memcpy_h2d(ptr_ + i * p.batch, host[i], bytes, device);
        dev_[i] = ptr_ + i * p.batch;
      }
    } catch (...) {
      ember::cuda::free(ptr_, device_);  // the destructor does not run for a throwing ctor
      throw;
    }
  }
  ~DeviceOffsets() { ember::cuda::free(ptr_, device_); }
  DeviceOffsets(const DeviceOffsets&) = delete;
  DeviceOffsets& operator=(const DeviceOffsets&) = delete;

  const int64_t* get(int i) const { return dev_[i]; }

 private:
  int device_;
  int64_t* ptr_ = nullptr;
  const int64_t* dev_[3] = {nullptr, nullptr, nullptr};
};

// An operand's load plan: chunks along its smaller stride, and vector loads of `chunk`
// elements when that stride is 1 and the base, the other stride and every offset align.
Operand plan_operand(const void* ptr, int64_t s_mn, int64_t s_k, const int64_t* host_offsets,
                     const int64_t* dev_offsets, int64_t batch, int64_t chunk, size_t itemsz) {
  Operand o{ptr, s_mn, s_k, dev_offsets, false, false};
  o.k_fast = s_k == 1 || (s_mn != 1 && std::llabs(s_k) <= std::llabs(s_mn));
  const int64_t other = o.k_fast ? s_mn : s_k;
  bool vec = (o.k_fast ? s_k : s_mn) == 1 && other % chunk == 0 &&
             reinterpret_cast<uintptr_t>(ptr) % (chunk * itemsz) == 0;
  for (int64_t z = 0; vec && host_offsets && z < batch; ++z) vec = host_offsets[z] % chunk == 0;
  o.vec = vec;
  return o;
}

template <class S, class Acc>
GemmArgs<Acc> make_args(const GemmProblem& p, const DeviceOffsets& off, int64_t chunk,
                        int64_t tile) {
  GemmArgs<Acc> g{};
  g.a = plan_operand(p.a, p.rsa, p.csa, p.a_offsets, off.get(0), p.batch, chunk, sizeof(S));
  g.b = plan_operand(p.b, p.csb, p.rsb, p.b_offsets, off.get(1), p.batch, chunk, sizeof(S));
  g.c = p.c;
  g.rsc = p.rsc;
  g.csc = p.csc;
  g.c_offsets = off.get(2);
  g.m = p.m;
  g.n = p.n;
  g.k = p.alpha == 0 ? 0 : p.k;
  g.batch = p.batch;
  if constexpr (std::is_integral_v<Acc>) {  // as the CPU: through int64, then wrapped
    g.alpha = static_cast<Acc>(static_cast<int64_t>(p.alpha));
    g.beta = static_cast<Acc>(static_cast<int64_t>(p.beta));
  } else {
    g.alpha = static_cast<Acc>(p.alpha);
    g.beta = static_cast<Acc>(p.beta);
  }
  g.read_c = p.beta != 0;
  g.out_f32 = p.out_dtype == DType::Float32;
  g.bias_kind = p.bias_kind;
  g.bias = p.bias;
  g.bias_stride = p.bias_stride;
  g.tiles_m = static_cast<int>((p.m + tile - 1) / tile);
  g.tiles_n = static_cast<int>((p.n + tile - 1) / tile);
  return g;
}

template <class Acc>
dim3 grid_of(const GemmArgs<Acc>& g) {
  const int64_t tiles = int64_t{g.tiles_m} * g.tiles_n;
  if (tiles > INT32_MAX)
    fail<ValueError>("gemm", "output of ", g.m, " x ", g.n, " is too large for one launch");
  return dim3(static_cast<unsigned>(tiles), 1,
              static_cast<unsigned>(g.batch < 65535 ? g.batch : 65535));
}

template <class S, class O, class Acc>
void run_simt(const GemmProblem& p, const DeviceOffsets& off) {
  using Cfg = SimtConfig<Acc>;
  GemmArgs<Acc> g = make_args<S, Acc>(p, off, Cfg::kChunk, Cfg::kBM);
  simt_gemm_kernel<S, O, Acc><<<grid_of(g), kGemmThreads>>>(g);
  check_launch("gemm kernel (simt)");
}

template <class S, bool kAKFast, bool kBKFast>
void launch_wmma(const GemmArgs<float>& g) {
  wmma_gemm_kernel<S, kAKFast, kBKFast><<<grid_of(g), kGemmThreads>>>(g);
}

template <class S>
void run_wmma(const GemmProblem& p, const DeviceOffsets& off) {
  GemmArgs<float> g = make_args<S, float>(p, off, 8, kTcBM);
  if (g.a.k_fast) {
    g.b.k_fast ? launch_wmma<S, true, true>(g) : launch_wmma<S, true, false>(g);
  } else {
    g.b.k_fast ? launch_wmma<S, false, true>(g) : launch_wmma<S, false, false>(g);
  }
  check_launch("gemm kernel (wmma)");
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "") != 0 && std::strcmp(v, "0") != 0;
}

bool has_tensor_cores(int device) {
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device),
        "cudaDeviceGetAttribute");
  return major >= 8;
}

template <class S>
void run_half(const GemmProblem& p, const DeviceOffsets& off, int device) {
  const bool f32_out = p.out_dtype == DType::Float32;
  if (has_tensor_cores(device) && !env_flag("EMBER_CUDA_GEMM_SIMT")) return run_wmma<S>(p, off);
  f32_out ? run_simt<S, float, float>(p, off) : run_simt<S, S, float>(p, off);
}

void gemm(const GemmProblem& p) {
  const bool same = p.out_dtype == p.dtype;
  const bool half_in = p.dtype == DType::Float16 || p.dtype == DType::BFloat16;
  if (!same && !(half_in && p.out_dtype == DType::Float32))
    fail<TypeError>("gemm", "unsupported dtypes on CUDA: ", dtype_name(p.dtype), " inputs, ",
                    dtype_name(p.out_dtype), " output");
  if (p.m == 0 || p.n == 0 || p.batch == 0) return;
  use_device_of(p.c);
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  DeviceOffsets off(p, device);
  switch (p.dtype) {
    case DType::Float32: return run_simt<float, float, float>(p, off);
    case DType::Float64: return run_simt<double, double, double>(p, off);
    case DType::Int32: return run_simt<int32_t, int32_t, uint32_t>(p, off);
    case DType::Int64: return run_simt<int64_t, int64_t, uint64_t>(p, off);
    case DType::Float16: return run_half<Half>(p, off, device);
    case DType::BFloat16: return run_half<BF16>(p, off, device);
    default: break;
  }
  fail<TypeError>("gemm", "unsupported dtype ", dtype_name(p.dtype), " on CUDA");
}

}  // namespace

EMBER_REGISTER_CUDA(gemm_kernel, gemm);

}  // namespace ember::cuda
