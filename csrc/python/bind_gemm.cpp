// Low-level GEMM access for tests, benchmarks and tuning: `_C._gemm` runs the kernel on
// caller-given 2-D tensors (any strides, C updated in place), and the blocking / cache / ISA
// queries. The user-facing matmul family is in bind_linalg.cpp.
#include "cpu/gemm/gemm.h"
#include "core/parallel.h"
#include "python/bindings.h"
#include "python/ops_common.h"

namespace ember::py_bind {
namespace {

void gemm_inplace(const Tensor& a, const Tensor& b, Tensor& c, double alpha, double beta,
                  int num_threads) {
  const char* op = "_gemm";
  if (a.ndim() != 2 || b.ndim() != 2 || c.ndim() != 2)
    fail<ValueError>(op, "expected 2-D a, b and c, got shapes ", shape_str(a.shape()), ", ",
                     shape_str(b.shape()), " and ", shape_str(c.shape()));
  if (a.shape()[1] != b.shape()[0] || c.shape()[0] != a.shape()[0] ||
      c.shape()[1] != b.shape()[1])
    fail<ValueError>(op, "shapes ", shape_str(a.shape()), " @ ", shape_str(b.shape()), " do not give ",
                     shape_str(c.shape()));
  if (a.dtype() != b.dtype())
    fail<TypeError>(op, "a and b must share a dtype, got ", dtype_name(a.dtype()), " and ",
                    dtype_name(b.dtype()));
  const bool half_in = a.dtype() == DType::Float16 || a.dtype() == DType::BFloat16;
  if (c.dtype() != a.dtype() && !(half_in && c.dtype() == DType::Float32))
    fail<TypeError>(op, "c must have the dtype of a and b (or float32 for float16/bfloat16 "
                    "inputs), got ", dtype_name(c.dtype()), " for ", dtype_name(a.dtype()),
                    " inputs");
  if (a.dtype() == DType::Bool) fail<TypeError>(op, "bool matrices are not supported");
  if (a.device() != b.device() || a.device() != c.device())
    fail<std::runtime_error>(op, "a, b and c must be on one device");
  if (c.may_overlap(a) || c.may_overlap(b))
    fail<ValueError>(op, "c must not overlap a or b");
  if (num_threads < 0) fail<ValueError>(op, "num_threads must be >= 0, got ", num_threads);
  GemmProblem p{};
  p.dtype = a.dtype();
  p.out_dtype = c.dtype();
  p.m = c.shape()[0];
  p.n = c.shape()[1];
  p.k = a.shape()[1];
  p.a = a.data_ptr();
  p.rsa = a.strides()[0];
  p.csa = a.strides()[1];
  p.b = b.data_ptr();
  p.rsb = b.strides()[0];
  p.csb = b.strides()[1];
  p.c = c.data_ptr();
  p.rsc = c.strides()[0];
  p.csc = c.strides()[1];
  p.batch = 1;
  p.alpha = alpha;
  p.beta = beta;
  p.bias_kind = GemmBias::None;
  p.num_threads = num_threads ? num_threads : get_num_threads();
  GemmFn fn = gemm_kernel.pick(a.device());
  py::gil_scoped_release no_gil;
  fn(p);
}

// _C's names of the GemmBf16Path values, in enum order.
constexpr const char* kBf16Paths[] = {"auto", "fp32", "avx512_bf16", "amx"};

py::dict blocking() {
  GemmBlocking b = gemm_blocking_override();
  py::dict d;
  d["mc"] = b.mc;
  d["kc"] = b.kc;
  d["nc"] = b.nc;
  return d;
}

py::dict cache_sizes() {
  CacheSizes c = cpu_cache_sizes();
  py::dict d;
  d["l1d"] = c.l1d;
  d["l2"] = c.l2;
  d["l3"] = c.l3;
  return d;
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("_gemm", &gemm_inplace, py::arg("a"), py::arg("b"), py::arg("c"),
        py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("num_threads") = 0,
        "c = alpha * a @ b + beta * c in place, for 2-D tensors of any strides (testing and\n"
        "benchmarking the GEMM kernel directly). num_threads 0 uses get_num_threads().");
  m.def("gemm_blocking", &blocking,
        "The cache-blocking override {'mc', 'kc', 'nc'}; 0 means chosen from the cache sizes.");
  m.def(
      "set_gemm_blocking",
      [](int64_t mc, int64_t kc, int64_t nc) { set_gemm_blocking({mc, kc, nc}); },
      py::arg("mc") = 0, py::arg("kc") = 0, py::arg("nc") = 0,
      "Overrides the GEMM cache blocking (0 = automatic); for tuning and benchmarks.");
  m.def("cpu_cache_sizes", &cache_sizes, "Per-core L1d and L2, shared L3, in bytes.");
  m.def(
      "set_gemm_bf16_path",
      [](const std::string& name) {
        for (int i = 0; i < 4; ++i)
          if (name == kBf16Paths[i]) return set_gemm_bf16_path(static_cast<GemmBf16Path>(i));
        fail<ValueError>("set_gemm_bf16_path", "expected 'auto', 'fp32', 'avx512_bf16' or "
                         "'amx', got '", name, "'");
      },
      py::arg("path"), "Chooses the bfloat16 GEMM kernel (see gemm_bf16_path()).");
  m.def("gemm_bf16_path",
        [] { return std::string(kBf16Paths[static_cast<int>(gemm_bf16_path())]); });
  m.def("cpu_has_avx512_bf16", &cpu_has_avx512_bf16);
  m.def("cpu_has_amx_bf16", &cpu_has_amx_bf16,
        "True when AMX bf16 tiles are usable (processor support and the OS grant).");
}

}  // namespace ember::py_bind
