// Reductions and scans: dims parsing, PyTorch's result dtypes, output allocation, one kernel
// call. float16/bfloat16 inputs compute in float32 and the result is rounded once at the end.
// Outputs are allocated in the keepdim shape and viewed without the reduced dims after.
#include <cmath>

#include "cpu/reduce.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(sum_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(prod_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(mean_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(var_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(std_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(amax_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(amin_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(max_dim_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(min_dim_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(logsumexp_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(norm_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(any_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(all_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(cumsum_kernel, ReduceFn);
EMBER_DEFINE_KERNEL(cumprod_kernel, ReduceFn);

namespace py_bind {
namespace {

constexpr int kMaxReduceNdim = 64;

// Which dims an op reduces: None, or an empty sequence (as in PyTorch), means all of them.
struct Dims {
  bool reduced[kMaxReduceNdim] = {};
};

Dims parse_dims(const char* op, const Tensor& x, py::handle dims) {
  const int64_t nd = x.ndim();
  if (nd > kMaxReduceNdim) fail<ValueError>(op, "more than 64 dims are not supported");
  Dims r;
  std::vector<int64_t> list;
  if (PyLong_Check(dims.ptr())) {
    list.push_back(dims.cast<int64_t>());
  } else if (!dims.is_none()) {
    if (!py::isinstance<py::sequence>(dims))
      fail<TypeError>(op, "dim must be an int, a sequence of ints or None");
    for (py::handle h : dims) {
      if (!PyLong_Check(h.ptr())) fail<TypeError>(op, "dim must be an int, got ", py::str(h));
      list.push_back(h.cast<int64_t>());
    }
  }
  if (list.empty()) {
    for (int64_t d = 0; d < nd; ++d) r.reduced[d] = true;
    return r;
  }
  for (int64_t d : list) {
    int64_t w = wrap_dim(op, d, nd, x.shape());
    if (nd == 0) continue;
    if (r.reduced[w])
      fail<ValueError>(op, "dim ", w, " appears multiple times in the list of dims");
    r.reduced[w] = true;
  }
  return r;
}

Shape keep_shape(const Tensor& x, const Dims& dims) {
  Shape s = x.shape();
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (dims.reduced[d]) s[d] = 1;
  return s;
}

Tensor squeeze_reduced(const Tensor& out, const Dims& dims, bool keepdim) {
  if (keepdim) return out;
  Shape s;
  for (int64_t d = 0; d < out.ndim(); ++d)
    if (!dims.reduced[d]) s.push_back(out.shape()[d]);
  return out.view(s);
}

bool half_type(DType t) { return t == DType::Float16 || t == DType::BFloat16; }

// float16/bfloat16 inputs reduce in float32.
Tensor compute_input(const Tensor& x) { return half_type(x.dtype()) ? x.to(DType::Float32) : x; }

void run_reduce(const DispatchTable<ReduceFn>& table, const ReduceIter& it, int64_t work,
                Device device) {
  ReduceFn fn = table.pick(device);
  if (work >= 32768 || device.is_cuda()) {
    py::gil_scoped_release no_gil;
    fn(it);
  } else {
    fn(it);
  }
}

// Reduces `in` over `dims` into a new `out_dtype` tensor.
Tensor reduce(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& in,
              const Dims& dims, bool keepdim, DType out_dtype, double correction = 0,
              double p = 0) {
  Tensor out = Tensor::empty(keep_shape(in, dims), out_dtype, in.device());
  ReduceIter it = make_reduce_iter(op, in, out, nullptr, dims.reduced, false);
  it.correction = correction;
  it.p = p;
  run_reduce(table, it, in.numel(), in.device());
  return squeeze_reduced(out, dims, keepdim);
}


// max/min/amax... have no identity: PyTorch refuses to reduce over an empty dim.
void check_nonempty(const char* op, const Tensor& x, const Dims& dims) {
  for (int64_t d = 0; d < x.ndim(); ++d) {
    if (dims.reduced[d] && x.shape()[d] == 0)
      fail<IndexError>(op, "can't reduce over dim ", d, " of size 0 (input of shape ",
                       shape_str(x.shape()), "): the operation has no identity");
  }
}

void check_floating(const char* op, const Tensor& x) {
  if (!is_floating(x.dtype()))
    fail<TypeError>(op, "expected a floating point input, got ", dtype_name(x.dtype()),
                    " (pass dtype= or convert with .float())");
}

DType opt_dtype(int code, DType fallback) { return code < 0 ? fallback : dtype_from_code(code); }

// sum/prod: integers and bool accumulate in int64 (PyTorch's default result dtype too).
Tensor sum_like(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
                py::handle dim, bool keepdim, int dtype) {
  Dims dims = parse_dims(op, x, dim);
  DType res = opt_dtype(dtype, is_floating(x.dtype()) ? x.dtype() : DType::Int64);
  Tensor in = dtype < 0 ? compute_input(x) : cast(x, compute_dtype(res));
  DType kd = is_floating(in.dtype()) ? in.dtype() : DType::Int64;
  return cast(reduce(op, table, in, dims, keepdim, kd), res);
}

Tensor mean_op(const Tensor& x, py::handle dim, bool keepdim, int dtype) {
  Dims dims = parse_dims("mean", x, dim);
  DType res = opt_dtype(dtype, x.dtype());
  if (!is_floating(res))
    fail<TypeError>("mean", "could not infer the output dtype: input is ", dtype_name(res),
                    "; mean needs a floating point input or dtype=");
  Tensor in = cast(x, compute_dtype(res));
  return cast(reduce("mean", mean_kernel, in, dims, keepdim, in.dtype()), res);
}

Tensor var_op(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
              py::handle dim, double correction, bool keepdim) {
  check_floating(op, x);
  Dims dims = parse_dims(op, x, dim);
  Tensor in = compute_input(x);
  return cast(reduce(op, table, in, dims, keepdim, in.dtype(), correction), x.dtype());
}

Tensor extreme_op(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
                  py::handle dim, bool keepdim) {
  Dims dims = parse_dims(op, x, dim);
  check_nonempty(op, x, dims);
  Tensor in = compute_input(x);
  return cast(reduce(op, table, in, dims, keepdim, in.dtype()), x.dtype());
}

// (values, indices) of max/min along one dim, or only the indices (argmax/argmin; dim None
// flattens). keep_order makes the kernel's flat index the position along `dim`.
py::object arg_op(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
                 py::handle dim, bool keepdim, bool values) {
  Dims dims = parse_dims(op, x, dim);
  check_nonempty(op, x, dims);
  Tensor in = compute_input(x);
  Shape ks = keep_shape(in, dims);
  Tensor idx = Tensor::empty(ks, DType::Int64, in.device());
  Tensor val = values ? Tensor::empty(ks, in.dtype(), in.device()) : Tensor();
  ReduceIter it = make_reduce_iter(op, in, values ? val : idx, &idx, dims.reduced, true);
  if (!values) it.out = nullptr;
  run_reduce(table, it, in.numel(), in.device());
  idx = squeeze_reduced(idx, dims, keepdim);
  if (!values) return py::cast(idx);
  return py::make_tuple(cast(squeeze_reduced(val, dims, keepdim), x.dtype()), idx);
}

Tensor logsumexp_op(const Tensor& x, py::handle dim, bool keepdim) {
  Dims dims = parse_dims("logsumexp", x, dim);
  DType res = is_floating(x.dtype()) ? x.dtype() : DType::Float32;
  Tensor in = cast(x, compute_dtype(res));
  return cast(reduce("logsumexp", logsumexp_kernel, in, dims, keepdim, in.dtype()), res);
}

Tensor norm_op(const Tensor& x, double p, py::handle dim, bool keepdim) {
  check_floating("norm", x);
  Dims dims = parse_dims("norm", x, dim);
  if (std::isinf(p)) check_nonempty("norm", x, dims);
  Tensor in = compute_input(x);
  return cast(reduce("norm", norm_kernel, in, dims, keepdim, in.dtype(), 0, p), x.dtype());
}

Tensor logical_op(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
                  py::handle dim, bool keepdim) {
  return reduce(op, table, x, parse_dims(op, x, dim), keepdim, DType::Bool);
}

// Scans keep the shape; integers and bool accumulate into int64 as in PyTorch.
Tensor scan_op(const char* op, const DispatchTable<ReduceFn>& table, const Tensor& x,
               int64_t dim, int dtype) {
  dim = wrap_dim(op, dim, x.ndim(), x.shape());
  DType res = opt_dtype(dtype, is_floating(x.dtype()) ? x.dtype() : DType::Int64);
  Tensor in = cast(x, is_floating(res) ? compute_dtype(res) : DType::Int64);
  Tensor out = Tensor::empty(in.shape(), in.dtype(), in.device());
  ReduceIter it = make_scan_iter(op, in, out, dim);
  run_reduce(table, it, in.numel(), in.device());
  return cast(out, res);
}

}  // namespace

void bind_reduce(py::module_& m) {
  auto dim = py::arg("dim") = py::none();
  m.def("sum", [](const Tensor& x, py::object d, bool k, int t) {
    return sum_like("sum", sum_kernel, x, d, k, t);
  }, py::arg("x"), dim, py::arg("keepdim") = false, py::arg("dtype") = -1);
  m.def("prod", [](const Tensor& x, py::object d, bool k, int t) {
    return sum_like("prod", prod_kernel, x, d, k, t);
  }, py::arg("x"), dim, py::arg("keepdim") = false, py::arg("dtype") = -1);
  m.def("mean", &mean_op, py::arg("x"), dim, py::arg("keepdim") = false, py::arg("dtype") = -1);
  m.def("var", [](const Tensor& x, py::object d, double c, bool k) {
    return var_op("var", var_kernel, x, d, c, k);
  }, py::arg("x"), dim, py::arg("correction") = 1.0, py::arg("keepdim") = false);
  m.def("std", [](const Tensor& x, py::object d, double c, bool k) {
    return var_op("std", std_kernel, x, d, c, k);
  }, py::arg("x"), dim, py::arg("correction") = 1.0, py::arg("keepdim") = false);
  m.def("amax", [](const Tensor& x, py::object d, bool k) {
    return extreme_op("amax", amax_kernel, x, d, k);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  m.def("amin", [](const Tensor& x, py::object d, bool k) {
    return extreme_op("amin", amin_kernel, x, d, k);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  // max()/min() of a whole tensor: amax under the op's own name in errors.
  m.def("max_all", [](const Tensor& x) {
    return extreme_op("max", amax_kernel, x, py::none(), false);
  });
  m.def("min_all", [](const Tensor& x) {
    return extreme_op("min", amin_kernel, x, py::none(), false);
  });
  m.def("max_dim", [](const Tensor& x, int64_t d, bool k) {
    return arg_op("max", max_dim_kernel, x, py::int_(d), k, true);
  }, py::arg("x"), py::arg("dim"), py::arg("keepdim") = false);
  m.def("min_dim", [](const Tensor& x, int64_t d, bool k) {
    return arg_op("min", min_dim_kernel, x, py::int_(d), k, true);
  }, py::arg("x"), py::arg("dim"), py::arg("keepdim") = false);
  m.def("argmax", [](const Tensor& x, py::object d, bool k) {
    if (!d.is_none() && !PyLong_Check(d.ptr())) fail<TypeError>("argmax", "dim must be an int");
    return arg_op("argmax", max_dim_kernel, x, d, k, false);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  m.def("argmin", [](const Tensor& x, py::object d, bool k) {
    if (!d.is_none() && !PyLong_Check(d.ptr())) fail<TypeError>("argmin", "dim must be an int");
    return arg_op("argmin", min_dim_kernel, x, d, k, false);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  m.def("logsumexp", &logsumexp_op, py::arg("x"), py::arg("dim"), py::arg("keepdim") = false);
  m.def("norm", &norm_op, py::arg("x"), py::arg("p") = 2.0, dim, py::arg("keepdim") = false);
  m.def("any", [](const Tensor& x, py::object d, bool k) {
    return logical_op("any", any_kernel, x, d, k);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  m.def("all", [](const Tensor& x, py::object d, bool k) {
    return logical_op("all", all_kernel, x, d, k);
  }, py::arg("x"), dim, py::arg("keepdim") = false);
  m.def("cumsum", [](const Tensor& x, int64_t d, int t) {
    return scan_op("cumsum", cumsum_kernel, x, d, t);
  }, py::arg("x"), py::arg("dim"), py::arg("dtype") = -1);
  m.def("cumprod", [](const Tensor& x, int64_t d, int t) {
    return scan_op("cumprod", cumprod_kernel, x, d, t);
  }, py::arg("x"), py::arg("dim"), py::arg("dtype") = -1);
}

}  // namespace py_bind
}  // namespace ember
