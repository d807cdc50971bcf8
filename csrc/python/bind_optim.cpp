// Fused optimizer steps: _C.sgd_step, adam_step, rmsprop_step, adagrad_step. Each takes one
// Python list of ember Tensors per role (params, grads, state...), checks them all, then
// updates params and state in place with ONE kernel call over the whole list, GIL released.
// Every written tensor's storage version is bumped, as an in-place op does.
#include <cmath>
#include <vector>

#include "cpu/optim.h"
#include "python/bindings.h"

namespace ember {

EMBER_DEFINE_KERNEL(sgd_step_kernel, SgdFn);
EMBER_DEFINE_KERNEL(adam_step_kernel, AdamFn);
EMBER_DEFINE_KERNEL(rmsprop_step_kernel, RmspropFn);
EMBER_DEFINE_KERNEL(adagrad_step_kernel, AdagradFn);

namespace py_bind {
namespace {

struct RoleSpec {
  const char* name;
  py::handle list;  // None: the role is absent
  bool written;
};

// The checked lists of one call and the plain view of them a kernel takes.
struct Gathered {
  std::vector<std::vector<Tensor>> tensors;  // per role; empty for an absent role
  std::vector<int64_t> starts;
  std::vector<std::vector<void*>> ptrs;
  std::vector<bool> written;
  TensorLists lists{};

  void bump_versions() const {
    for (size_t r = 0; r < tensors.size(); ++r) {
      if (!written[r]) continue;
      for (const Tensor& t : tensors[r]) t.storage()->bump_version();
    }
  }
};

Tensor item_tensor(const char* op, const char* role, size_t i, py::handle h) {
  try {
    return py::cast<Tensor>(h);
  } catch (const py::cast_error&) {
    fail<TypeError>(op, role, "[", i, "] is a ", Py_TYPE(h.ptr())->tp_name,
                    ", expected an ember Tensor");
  }
}

std::vector<Tensor> tensor_list(const char* op, const char* role, py::handle list) {
  if (!PyList_Check(list.ptr()) && !PyTuple_Check(list.ptr()))
    fail<TypeError>(op, role, " must be a list of Tensors, got ", Py_TYPE(list.ptr())->tp_name);
  py::sequence seq = py::reinterpret_borrow<py::sequence>(list);
  std::vector<Tensor> out;
  out.reserve(seq.size());
  for (size_t i = 0; i < seq.size(); ++i) out.push_back(item_tensor(op, role, i, seq[i]));
  return out;
}

// Checks every role against params: same length, and per index the same shape, the common
// dtype (float32 or float64), contiguous, on one device, and no two roles sharing memory.
void check_item(const char* op, const Gathered& g, const std::vector<RoleSpec>& roles,
                size_t r, size_t i) {
  const Tensor& p = g.tensors[0][i];
  const Tensor& t = g.tensors[r][i];
  const char* name = roles[r].name;
  if (t.dtype() != g.lists.dtype)
    fail<TypeError>(op, name, "[", i, "] has dtype ", dtype_name(t.dtype()), " but ",
                    roles[0].name, "[0] has ", dtype_name(g.lists.dtype),
                    " (one call takes one dtype)");
  if (r > 0 && t.shape() != p.shape())
    fail<ValueError>(op, name, "[", i, "] has shape ", shape_str(t.shape()), " but ",
                     roles[0].name, "[", i, "] has shape ", shape_str(p.shape()));
  if (t.device() != g.tensors[0][0].device())
    fail<ValueError>(op, name, "[", i, "] is on ", t.device().str(), " but ", roles[0].name,
                     "[0] is on ", g.tensors[0][0].device().str(), " (one call, one device)");
  if (!t.is_contiguous())
    fail<ValueError>(op, name, "[", i, "] of shape ", shape_str(t.shape()),
                     " is not contiguous");
  for (size_t q = 0; q < r; ++q) {
    if (!g.tensors[q].empty() && t.numel() > 0 && t.may_overlap(g.tensors[q][i]))
      fail<ValueError>(op, name, "[", i, "] and ", roles[q].name, "[", i, "] share memory");
  }
}

Gathered gather(const char* op, const std::vector<RoleSpec>& roles) {
  Gathered g;
  size_t nroles = roles.size();
  g.tensors.resize(nroles);
  g.ptrs.resize(nroles);
  for (size_t r = 0; r < nroles; ++r) {
    g.written.push_back(roles[r].written);
    if (roles[r].list.is_none()) continue;
    g.tensors[r] = tensor_list(op, roles[r].name, roles[r].list);
    if (g.tensors[r].size() != g.tensors[0].size())
      fail<ValueError>(op, roles[r].name, " has ", g.tensors[r].size(), " tensors but ",
                       roles[0].name, " has ", g.tensors[0].size());
  }
  size_t n = g.tensors[0].size();
  g.lists.n = static_cast<int64_t>(n);
  g.lists.dtype = n ? g.tensors[0][0].dtype() : DType::Float32;
  if (n && g.lists.dtype != DType::Float32 && g.lists.dtype != DType::Float64)
    fail<TypeError>(op, roles[0].name, "[0] has dtype ", dtype_name(g.lists.dtype),
                    "; expected float32 or float64");
  g.starts.assign(1, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t r = 0; r < nroles; ++r) {
      if (!g.tensors[r].empty()) check_item(op, g, roles, r, i);
    }
    g.starts.push_back(g.starts.back() + g.tensors[0][i].numel());
  }
  g.lists.starts = g.starts.data();
  for (size_t r = 0; r < nroles; ++r) {
    if (g.tensors[r].empty()) continue;
    for (const Tensor& t : g.tensors[r]) g.ptrs[r].push_back(t.data_ptr());
    g.lists.data[r] = g.ptrs[r].data();
  }
  return g;
}

void require(const char* op, const RoleSpec& role, bool needed, const char* why) {
  if (needed && role.list.is_none()) fail<ValueError>(op, role.name, " are required ", why);
}

template <class Fn, class Args>
void run(const DispatchTable<Fn>& table, const Gathered& g, const Args& args) {
  if (g.starts.back() > 0) {
    Fn fn = table.pick(g.tensors[0][0].device());
    py::gil_scoped_release no_gil;
    fn(args);
  }
  g.bump_versions();
}

void sgd_step(py::handle params, py::handle grads, py::handle bufs, double lr, double momentum,
              double dampening, bool nesterov, double weight_decay, bool maximize,
              bool first_step) {
  const char* op = "sgd_step";
  std::vector<RoleSpec> roles = {
      {"params", params, true}, {"grads", grads, false}, {"momentum_buffers", bufs, true}};
  require(op, roles[2], momentum != 0, "when momentum != 0");
  if (momentum == 0) roles[2].list = py::none();
  Gathered g = gather(op, roles);
  SgdArgs a{g.lists, lr, momentum, dampening, weight_decay, nesterov, maximize, first_step};
  run(sgd_step_kernel, g, a);
}

void check_step(const char* op, int64_t step) {
  if (step < 1) fail<ValueError>(op, "step must be >= 1 (already incremented), got ", step);
}

void adam_step(py::handle params, py::handle grads, py::handle exp_avgs,
               py::handle exp_avg_sqs, py::handle max_sqs, int64_t step, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool amsgrad,
               bool decoupled, bool maximize) {
  const char* op = "adam_step";
  check_step(op, step);
  std::vector<RoleSpec> roles = {{"params", params, true},
                                 {"grads", grads, false},
                                 {"exp_avgs", exp_avgs, true},
                                 {"exp_avg_sqs", exp_avg_sqs, true},
                                 {"max_exp_avg_sqs", max_sqs, true}};
  require(op, roles[2], true, "");
  require(op, roles[3], true, "");
  require(op, roles[4], amsgrad, "when amsgrad is set");
  if (!amsgrad) roles[4].list = py::none();
  Gathered g = gather(op, roles);
  double s = static_cast<double>(step);
  double step_size = lr / (1 - std::pow(beta1, s));
  double bc2_sqrt = std::sqrt(1 - std::pow(beta2, s));
  AdamArgs a{g.lists, lr,       beta1,   beta2,      eps,     weight_decay,
             step_size, bc2_sqrt, amsgrad, decoupled, maximize};
  run(adam_step_kernel, g, a);
}

void rmsprop_step(py::handle params, py::handle grads, py::handle square_avgs,
                  py::handle grad_avgs, py::handle bufs, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize) {
  const char* op = "rmsprop_step";
  std::vector<RoleSpec> roles = {{"params", params, true},
                                 {"grads", grads, false},
                                 {"square_avgs", square_avgs, true},
                                 {"grad_avgs", grad_avgs, true},
                                 {"momentum_buffers", bufs, true}};
  require(op, roles[2], true, "");
  require(op, roles[3], centered, "when centered is set");
  require(op, roles[4], momentum > 0, "when momentum > 0");
  if (!centered) roles[3].list = py::none();
  if (!(momentum > 0)) roles[4].list = py::none();
  Gathered g = gather(op, roles);
  RmspropArgs a{g.lists, lr, alpha, eps, weight_decay, momentum, centered, maximize};
  run(rmsprop_step_kernel, g, a);
}

void adagrad_step(py::handle params, py::handle grads, py::handle state_sums, int64_t step,
                  double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
  const char* op = "adagrad_step";
  check_step(op, step);
  std::vector<RoleSpec> roles = {
      {"params", params, true}, {"grads", grads, false}, {"state_sums", state_sums, true}};
  require(op, roles[2], true, "");
  Gathered g = gather(op, roles);
  double clr = lr / (1 + static_cast<double>(step - 1) * lr_decay);
  AdagradArgs a{g.lists, clr, weight_decay, eps, maximize};
  run(adagrad_step_kernel, g, a);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"),
        py::arg("momentum_buffers"), py::arg("lr"), py::arg("momentum"), py::arg("dampening"),
        py::arg("nesterov"), py::arg("weight_decay"), py::arg("maximize"),
        py::arg("first_step"),
        "PyTorch's SGD step over lists of tensors, in place; buffers may be None when "
        "momentum == 0; first_step initialises them to the gradient.");
  m.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"),
        py::arg("exp_avg_sqs"), py::arg("max_exp_avg_sqs"), py::arg("step"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("amsgrad"), py::arg("decoupled_weight_decay"), py::arg("maximize"),
        "PyTorch's Adam (AdamW when decoupled_weight_decay) step over lists of tensors, in "
        "place; step is the already incremented step count.");
  m.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"),
        py::arg("square_avgs"), py::arg("grad_avgs"), py::arg("momentum_buffers"),
        py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
        "PyTorch's RMSprop step over lists of tensors, in place.");
  m.def("adagrad_step", &adagrad_step, py::arg("params"), py::arg("grads"),
        py::arg("state_sums"), py::arg("step"), py::arg("lr"), py::arg("lr_decay"),
        py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"),
        "PyTorch's Adagrad step over lists of tensors, in place.");
}

}  // namespace py_bind
}  // namespace ember
