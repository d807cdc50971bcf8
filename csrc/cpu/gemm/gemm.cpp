// GEMM entry for one CPU capability: picks the microkernel and compute type for the dtypes,
// runs batches (in parallel across matrices when each is too small to split), and handles
// what the blocked driver does not: k == 0, outputs stored in another type (float16/bfloat16,
// integers), and a strided bias.
#include "cpu/gemm/driver.h"
#include "cpu/gemm/ukernel_bf16.h"

namespace ember::cpu {
namespace {

// Integers multiply in unsigned arithmetic, so an overflow wraps as in NumPy and PyTorch
// instead of being undefined.
using KernelI32 = PortableKernel<uint32_t, 4, 8>;
using KernelI64 = PortableKernel<uint64_t, 4, 4>;

template <class T>
T scalar_as(double v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<int64_t>(v));
  } else {
    return static_cast<T>(v);
  }
}

template <class T, class O>
T bias_value(const GemmProblem& p, int64_t i) {
  return to_compute<T>(static_cast<const O*>(p.bias)[i * p.bias_stride]);
}

// C = ab + beta * C + bias, element by element: for outputs stored in another type than the
// compute type (ab: the float32/integer workspace the driver accumulated) and for k == 0 or
// alpha == 0 (ab null: A and B are not read, as in BLAS).
template <class T, class O>
void finish(const GemmProblem& p, const T* ab, O* c) {
  const T beta = scalar_as<T>(p.beta);
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      O* out = c + i * p.rsc + j * p.csc;
      T v = ab ? ab[i * p.n + j] : T(0);
      if (p.beta != 0) v += beta * to_compute<T>(*out);
      if (p.bias_kind == GemmBias::PerColumn) v += bias_value<T, O>(p, j);
      if (p.bias_kind == GemmBias::PerRow) v += bias_value<T, O>(p, i);
      *out = to_compute<O>(v);
    }
  }
}

// One matrix. When C's type is the compute type the driver writes C directly; otherwise it
// accumulates a T workspace over all of K (no rounding between K blocks) and this converts.
template <class K, class S, class O>
void gemm_matrix(const GemmProblem& p, const S* a, const S* b, O* c, const typename K::Type* bias,
                 int nt) {
  using T = typename K::Type;
  if (p.k == 0 || p.alpha == 0) {
    finish<T, O>(p, nullptr, c);
    return;
  }
  Job<T, S> job{p.m, p.n, p.k, a, p.rsa, p.csa, b, p.rsb, p.csb, nullptr, 0, 1,
                scalar_as<T>(p.alpha), scalar_as<T>(p.beta), p.bias_kind, bias};
  if constexpr (std::is_same_v<T, O>) {
    job.c = c;
    job.rsc = p.rsc;
    job.csc = p.csc;
    gemm_blocked<K>(job, nt);
  } else {
    Buffer ws(sizeof(T) * p.m * p.n);
    job.c = static_cast<T*>(ws.ptr);
    job.rsc = p.n;
    job.beta = T(0);
    job.bias_kind = GemmBias::None;
    gemm_blocked<K>(job, nt);
    finish<T, O>(p, job.c, c);
  }
}

template <class K, class S, class O>
void run(const GemmProblem& p) {
  using T = typename K::Type;
  if (p.m == 0 || p.n == 0 || p.batch == 0) return;
  // The fused-bias path wants a contiguous T vector.
  const bool fused_bias = p.bias_kind != GemmBias::None && std::is_same_v<T, O>;
  const int64_t bias_len = p.bias_kind == GemmBias::PerColumn ? p.n : p.m;
  const bool copy_bias = fused_bias && p.bias_stride != 1;
  Buffer bias_buf(copy_bias ? sizeof(T) * bias_len : 0);
  const T* bias = fused_bias ? static_cast<const T*>(p.bias) : nullptr;
  if (copy_bias) {
    T* v = static_cast<T*>(bias_buf.ptr);
    for (int64_t i = 0; i < bias_len; ++i) v[i] = bias_value<T, O>(p, i);
    bias = v;
  }
  const S* a = static_cast<const S*>(p.a);
  const S* b = static_cast<const S*>(p.b);
  O* c = static_cast<O*>(p.c);
  auto matrix = [&](int64_t i, int nt) {
    gemm_matrix<K, S, O>(p, a + (p.a_offsets ? p.a_offsets[i] : 0),
                         b + (p.b_offsets ? p.b_offsets[i] : 0),
                         c + (p.c_offsets ? p.c_offsets[i] : 0), bias, nt);
  };
  // Batches split across matrices (one thread each, no synchronisation) when each is too
  // small to use every thread, or when the count shares out evenly enough; otherwise every
  // matrix is split across all threads in turn.
  const int nt = p.num_threads;
  const int per_matrix = threads_for<K>(p.m, p.n, p.k, nt);
  const int across = static_cast<int>(std::min<int64_t>(nt, p.batch));
  const bool even = p.batch % nt == 0 || p.batch >= 4 * nt;
  if (p.batch > 1 && across > 1 && (per_matrix < nt || even)) {
    // An exception must not leave an OpenMP region: a failed allocation is rethrown after it.
    int failed = 0;
#pragma omp parallel for num_threads(across) schedule(dynamic, 1)
    for (int64_t i = 0; i < p.batch; ++i) {
      try {
        matrix(i, 1);
      } catch (...) {
#pragma omp atomic write
        failed = 1;
      }
    }
    if (failed) throw std::bad_alloc();
  } else {
    for (int64_t i = 0; i < p.batch; ++i) matrix(i, per_matrix);
  }
}

template <class O>
void run_bf16(const GemmProblem& p) {
#if defined(__AVX512F__)
  GemmBf16Path path = gemm_bf16_path();
  // Measured here (Xeon, one thread): AMX 4x the float32 path from 64^3 up and level at 32^3;
  // VDPBF16PS dot products stay below the float32 FMA path (75 vs 125 GFLOP/s at 1024^3), so
  // Auto never picks them; they remain selectable for comparison.
  if (path == GemmBf16Path::Auto) {
    const bool big = p.m >= 32 && p.n >= 32 && p.k >= 32;
    path = big && cpu_has_amx_bf16() ? GemmBf16Path::Amx : GemmBf16Path::Fp32;
  }
  if (path == GemmBf16Path::Amx && cpu_has_amx_bf16()) return run<AmxBf16Kernel, bf16_t, O>(p);
  if (path != GemmBf16Path::Fp32 && cpu_has_avx512_bf16())
    return run<Bf16DotKernel, bf16_t, O>(p);
#endif
  run<KernelF32, bf16_t, O>(p);
}

void gemm(const GemmProblem& p) {
  const bool f32_out = p.out_dtype == DType::Float32;
  const bool half_in = p.dtype == DType::Float16 || p.dtype == DType::BFloat16;
  if (p.out_dtype != p.dtype && !(half_in && f32_out)) kernel_dtype_error("gemm", p.out_dtype);
  switch (p.dtype) {
    case DType::Float32: return run<KernelF32, float, float>(p);
    case DType::Float64: return run<KernelF64, double, double>(p);
    case DType::Float16:
      return f32_out ? run<KernelF32, half_t, float>(p) : run<KernelF32, half_t, half_t>(p);
    case DType::BFloat16:
      return f32_out ? run_bf16<float>(p) : run_bf16<bf16_t>(p);
    case DType::Int32: return run<KernelI32, int32_t, int32_t>(p);
    case DType::Int64: return run<KernelI64, int64_t, int64_t>(p);
    default: break;
  }
  kernel_dtype_error("gemm", p.dtype);
}

}  // namespace

EMBER_REGISTER_CPU(gemm_kernel, gemm);

}  // namespace ember::cpu
