// Generators and random fills. A Generator is (seed, offset): each draw reserves the Philox
// blocks it uses by advancing the offset under a lock, then fills without the GIL. Every op
// fills an existing tensor; ember.ops.random allocates.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <random>

#include "core/philox.h"
#include "cpu/random.h"
#include "python/ops_common.h"

namespace ember {

EMBER_DEFINE_KERNEL(uniform_kernel, RandomFn);
EMBER_DEFINE_KERNEL(normal_kernel, RandomFn);
EMBER_DEFINE_KERNEL(randint_kernel, RandomFn);
EMBER_DEFINE_KERNEL(bernoulli_kernel, RandomFn);
EMBER_DEFINE_KERNEL(random_bits_kernel, RandomFn);

namespace py_bind {
namespace {

constexpr uint64_t kDefaultSeed = 67280421310721ull;  // PyTorch's default CPU seed

class Generator {
 public:
  explicit Generator(Device device) : device_(device) {}
  Device device() const { return device_; }
  void manual_seed(uint64_t s) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = s;
    offset_ = 0;
  }
  uint64_t initial_seed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seed_;
  }
  std::pair<uint64_t, uint64_t> state() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {seed_, offset_};
  }
  void set_state(uint64_t seed, uint64_t offset) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = seed;
    offset_ = offset;
  }
  // (seed, first block) for a draw of `blocks` Philox blocks.
  std::pair<uint64_t, uint64_t> reserve(uint64_t blocks) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t first = offset_;
    offset_ += blocks;
    return {seed_, first};
  }

 private:
  Device device_;
  mutable std::mutex mu_;
  uint64_t seed_ = kDefaultSeed;
  uint64_t offset_ = 0;
};

using GenPtr = std::shared_ptr<Generator>;

GenPtr default_generator(Device device) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, GenPtr> gens;
  std::lock_guard<std::mutex> lock(mu);
  GenPtr& g = gens[{static_cast<int>(device.type), device.index}];
  if (!g) g = std::make_shared<Generator>(device);
  return g;
}

GenPtr pick_generator(const char* op, const py::object& gen, Device device) {
  if (gen.is_none()) return default_generator(device);
  GenPtr g = gen.cast<GenPtr>();
  if (g->device() != device)
    fail<ValueError>(op, "generator on ", g->device().str(), " can't fill a tensor on ",
                     device.str());
  return g;
}

// Fills `out` (any layout) through a contiguous buffer; bumps its version.
void fill(const char* op, const Tensor& out, const DispatchTable<RandomFn>& table,
          RandomArgs a, const GenPtr& g) {
  RandomFn fn = table.pick(out.device());
  Tensor dst = out.is_contiguous() ? out : Tensor::empty(out.shape(), out.dtype(), out.device());
  a.out = dst.data_ptr();
  a.n = out.numel();
  a.dtype = out.dtype();
  std::tie(a.seed, a.offset) = g->reserve(static_cast<uint64_t>(random_blocks(a.n, a.wide)));
  py::gil_scoped_release no_gil;
  if (a.n > 0) fn(a);
  if (dst.data_ptr() != out.data_ptr()) {
    Tensor o = out;
    copy_(o, dst, op);
  }
  out.storage()->bump_version();
}

void check_floating(const char* op, const Tensor& t) {
  if (!is_floating(t.dtype()))
    fail<TypeError>(op, "expects a floating dtype, got ", dtype_name(t.dtype()));
}

void bernoulli(const Tensor& out, py::object probs, double p, const py::object& gen) {
  RandomArgs a{};
  a.wide = true;
  a.a = p;
  Tensor pr;
  if (!probs.is_none()) {
    pr = probs.cast<Tensor>().to(Device{}).to(DType::Float64).expand(out.shape(), "bernoulli")
             .contiguous();
    const double* v = reinterpret_cast<const double*>(pr.data_ptr());
    for (int64_t i = 0; i < pr.numel(); ++i)
      if (!(v[i] >= 0.0 && v[i] <= 1.0))
        fail<ValueError>("bernoulli", "probabilities must be in [0, 1], got ", v[i]);
    a.probs = v;
  } else if (!(p >= 0.0 && p <= 1.0)) {
    fail<ValueError>("bernoulli", "p must be in [0, 1], got ", p);
  }
  fill("bernoulli", out, bernoulli_kernel, a, pick_generator("bernoulli", gen, out.device()));
}

Tensor randperm(int64_t n, DType dtype, Device device, const py::object& gen) {
  if (n < 0) fail<ValueError>("randperm", "n must be non-negative, got ", n);
  Tensor keys = Tensor::empty({n}, DType::Int64);
  RandomArgs a{};
  a.wide = true;
  fill("randperm", keys, random_bits_kernel, a, pick_generator("randperm", gen, device));
  // Sorting random keys (ties broken by position) instead of Fisher-Yates: no sequential
  // dependence, so the permutation is the same at any thread count and on CUDA.
  const int64_t* k = reinterpret_cast<const int64_t*>(keys.data_ptr());
  Tensor perm = Tensor::empty({n}, DType::Int64);
  int64_t* p = reinterpret_cast<int64_t*>(perm.data_ptr());
  std::iota(p, p + n, int64_t{0});
  std::stable_sort(p, p + n, [k](int64_t x, int64_t y) {
    return static_cast<uint64_t>(k[x]) < static_cast<uint64_t>(k[y]);
  });
  return perm.to(dtype).to(device);
}

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

void bind_random(py::module_& m) {
  py::class_<Generator, GenPtr>(m, "Generator")
      .def(py::init([](const std::string& d) {
             return std::make_shared<Generator>(parse_device(d));
           }),
           py::arg("device") = "cpu")
      .def_property_readonly("device", [](const Generator& g) { return g.device().str(); })
      .def("manual_seed", &Generator::manual_seed, py::arg("seed"))
      .def("seed", [](Generator& g) {
        uint64_t s = random_seed();
        g.manual_seed(s);
        return s;
      })
      .def("initial_seed", &Generator::initial_seed)
      .def("get_state", &Generator::state)
      .def("set_state", &Generator::set_state, py::arg("seed"), py::arg("offset"));
  m.def("default_generator",
        [](const std::string& d) { return default_generator(parse_device(d)); },
        py::arg("device") = "cpu");

  m.def("uniform_", [](const Tensor& out, double from, double to, py::object gen) {
    check_floating("uniform_", out);
    if (!(from <= to) || !std::isfinite(to - from))
      fail<ValueError>("uniform_", "expects from <= to, both finite, got from=", from, " to=", to);
    RandomArgs a{};
    a.a = from;
    a.b = to;
    a.wide = out.dtype() == DType::Float64;
    fill("uniform_", out, uniform_kernel, a, pick_generator("uniform_", gen, out.device()));
  }, py::arg("out"), py::arg("from") = 0.0, py::arg("to") = 1.0,
     py::arg("generator") = py::none());
  m.def("normal_", [](const Tensor& out, double mean, double std, py::object gen) {
    check_floating("normal_", out);
    if (!(std >= 0.0)) fail<ValueError>("normal_", "std must be >= 0, got ", std);
    RandomArgs a{};
    a.a = mean;
    a.b = std;
    a.wide = out.dtype() == DType::Float64;
    fill("normal_", out, normal_kernel, a, pick_generator("normal_", gen, out.device()));
  }, py::arg("out"), py::arg("mean") = 0.0, py::arg("std") = 1.0,
     py::arg("generator") = py::none());
  m.def("randint_", [](const Tensor& out, int64_t low, int64_t high, py::object gen) {
    if (high <= low)
      fail<ValueError>("randint", "expects high > low, got low=", low, " high=", high);
    RandomArgs a{};
    a.low = low;
    a.range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    a.wide = a.range > (uint64_t{1} << 32);
    fill("randint", out, randint_kernel, a, pick_generator("randint", gen, out.device()));
  }, py::arg("out"), py::arg("low"), py::arg("high"), py::arg("generator") = py::none());
  m.def("bernoulli_", &bernoulli, py::arg("out"), py::arg("probs"), py::arg("p"),
        py::arg("generator") = py::none());
  m.def("randperm", [](int64_t n, int dtype, const std::string& device, py::object gen) {
    return randperm(n, dtype_from_code(dtype), parse_device(device), gen);
  }, py::arg("n"), py::arg("dtype"), py::arg("device"), py::arg("generator") = py::none());
  m.def("philox4x32_10", [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
    philox::Block b = philox::philox4x32_10({{ctr[0], ctr[1], ctr[2], ctr[3]}}, key[0], key[1]);
    return std::array<uint32_t, 4>{b.w[0], b.w[1], b.w[2], b.w[3]};
  }, "Philox4x32-10 of one counter block, for known-answer tests");
}

}  // namespace py_bind
}  // namespace ember
