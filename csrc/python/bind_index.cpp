// Index ops: Python arguments to core/index_ops.h calls, run with the GIL released. Values
// and fill values may be Python scalars (cast to the target's dtype, as PyTorch does).
#include "core/index_ops.h"
#include "cpu/index.h"
#include "python/ops_common.h"

namespace ember::py_bind {
namespace {

// A list whose entries are None (a full slice) or tensors.
std::vector<Tensor> optional_tensors(py::handle list) {
  std::vector<Tensor> out;
  for (py::handle h : list) out.push_back(h.is_none() ? Tensor() : h.cast<Tensor>());
  return out;
}

// A tensor, or a Python scalar as a 0-d tensor of `like`'s dtype.
Tensor value_tensor(const char* op, py::handle v, const Tensor& like) {
  Operand o = to_operand(op, v);
  return o.is_scalar() ? scalar_tensor(o.scalar, like.dtype(), like.device()) : o.tensor;
}

int reduce_mode(const char* op, const py::object& reduce) {
  if (reduce.is_none()) return kPutStore;
  std::string r = reduce.cast<std::string>();
  if (r == "add" || r == "sum") return kPutAdd;
  if (r == "multiply" || r == "prod") return kPutMul;
  fail<ValueError>(op, "reduce must be 'add' or 'multiply', got '", r, "'");
}

Tensor index_select(const Tensor& src, int64_t dim, const Tensor& index) {
  if (index.ndim() > 1)
    fail<IndexError>("index_select", "index must be 0-d or 1-D, got shape ",
                     shape_str(index.shape()));
  Tensor s = src.ndim() == 0 ? src.view({1}) : src;
  dim = wrap_dim("index_select", dim, s.ndim(), s.shape());
  std::vector<Tensor> idx(static_cast<size_t>(dim));
  idx.push_back(index.ndim() == 0 ? index.view({1}) : index);
  Tensor out = ember::index("index_select", s, std::move(idx), false);
  return src.ndim() == 0 ? out.view({}) : out;
}

}  // namespace

void bind_index(py::module_& m) {
  m.def("index", [](const Tensor& src, py::handle indices) {
    std::vector<Tensor> idx = optional_tensors(indices);
    py::gil_scoped_release no_gil;
    return ember::index("getitem", src, std::move(idx), true);
  }, py::arg("src"), py::arg("indices"));
  m.def("index_put_", [](const Tensor& dst, py::handle indices, py::handle values,
                         bool accumulate) {
    std::vector<Tensor> idx = optional_tensors(indices);
    Tensor v = value_tensor("setitem", values, dst);
    py::gil_scoped_release no_gil;
    index_put_("setitem", dst, std::move(idx), v, accumulate);
  }, py::arg("dst"), py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  m.def("cat", [](const std::vector<Tensor>& ts, int64_t dim) {
    py::gil_scoped_release no_gil;
    return cat(ts, dim);
  }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](const std::vector<Tensor>& ts, int64_t dim) {
    py::gil_scoped_release no_gil;
    return stack(ts, dim);
  }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("gather", [](const Tensor& src, int64_t dim, const Tensor& index) {
    py::gil_scoped_release no_gil;
    return gather(src, dim, index);
  }, py::arg("src"), py::arg("dim"), py::arg("index"));
  m.def("scatter", [](const Tensor& self, int64_t dim, const Tensor& index, py::handle src,
                      py::object reduce, bool inplace) {
    const char* op = inplace ? "scatter_" : "scatter";
    int mode = reduce_mode(op, reduce);
    Tensor values = value_tensor(op, src, self);
    py::gil_scoped_release no_gil;
    Tensor out = inplace ? self : self.clone();
    scatter_(op, out, dim, index, values, mode);
    return out;
  }, py::arg("self"), py::arg("dim"), py::arg("index"), py::arg("src"),
     py::arg("reduce") = py::none(), py::arg("inplace") = false);
  m.def("index_select", [](const Tensor& src, int64_t dim, const Tensor& index) {
    py::gil_scoped_release no_gil;
    return index_select(src, dim, index);
  }, py::arg("src"), py::arg("dim"), py::arg("index"));
  m.def("take", [](const Tensor& src, const Tensor& index) {
    py::gil_scoped_release no_gil;
    return ember::index("take", src.reshape({-1}), {index}, true);
  }, py::arg("src"), py::arg("index"));
  m.def("masked_fill", [](const Tensor& self, const Tensor& mask, py::handle value,
                          bool inplace) {
    const char* op = inplace ? "masked_fill_" : "masked_fill";
    Tensor v = value_tensor(op, value, self);
    py::gil_scoped_release no_gil;
    return masked_fill(op, self, mask, v, inplace);
  }, py::arg("self"), py::arg("mask"), py::arg("value"), py::arg("inplace") = false);
  m.def("masked_select", [](const Tensor& self, const Tensor& mask) {
    py::gil_scoped_release no_gil;
    return masked_select(self, mask);
  }, py::arg("self"), py::arg("mask"));
  m.def("nonzero", [](const Tensor& x) {
    py::gil_scoped_release no_gil;
    return nonzero(x);
  }, py::arg("x"));
}

}  // namespace ember::py_bind
