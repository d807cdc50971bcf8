// The _C.Tensor class: metadata, views, NumPy's buffer protocol and DLPack.
#include <pybind11/numpy.h>

#include <cstring>

#include "core/cuda_runtime.h"
#include "python/bindings.h"
#include "python/dlpack.h"

namespace ember::py_bind {

DType dtype_from_code(int code) {
  if (code < 0 || code >= kNumDTypes) fail<TypeError>("dtype", "unknown dtype code ", code);
  return static_cast<DType>(code);
}

Device device_from_str(const std::string& s) { return parse_device(s); }

Shape shape_from_py(const char* op, py::handle sizes) {
  if (PyLong_Check(sizes.ptr())) return {sizes.cast<int64_t>()};
  if (!PySequence_Check(sizes.ptr()))
    fail<TypeError>(op, "expected a sequence of ints for a shape, got ",
                    std::string(py::str(py::type::of(sizes).attr("__name__"))));
  Shape shape;
  for (py::handle h : sizes) {
    if (!PyLong_Check(h.ptr()) && !py::hasattr(h, "__index__"))
      fail<TypeError>(op, "shape entries must be ints, got ",
                      std::string(py::str(py::type::of(h).attr("__name__"))));
    py::int_ v(py::reinterpret_borrow<py::object>(h));
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow)
      fail<ValueError>(op, "size ", std::string(py::str(v)), " does not fit in int64");
    shape.push_back(n);
  }
  return shape;
}

py::tuple shape_to_py(const Shape& shape) {
  py::tuple t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}

namespace {

const char* buffer_format(DType t) {
  switch (t) {
    case DType::Bool: return "?";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float16: return "e";
    case DType::Float32: return "f";
    case DType::Float64: return "d";
    case DType::BFloat16: break;
  }
  fail<TypeError>("numpy", "NumPy has no bfloat16 dtype; convert with .float() first");
}

DType dtype_from_format(const char* op, const py::buffer_info& info) {
  std::string f = info.format;
  if (!f.empty() && (f[0] == '<' || f[0] == '=' || f[0] == '@')) f = f.substr(1);
  if (f == "?") return DType::Bool;
  if (f == "e") return DType::Float16;
  if (f == "f") return DType::Float32;
  if (f == "d") return DType::Float64;
  if ((f == "i" || f == "l" || f == "q") && info.itemsize == 4) return DType::Int32;
  if ((f == "i" || f == "l" || f == "q") && info.itemsize == 8) return DType::Int64;
  fail<TypeError>(op, "unsupported buffer format '", info.format, "' (itemsize ", info.itemsize,
                  "); supported: bool, int32, int64, float16, float32, float64");
}

// A CPU tensor over memory owned by a Python object, which stays alive while any view does.
Tensor tensor_over_buffer(const char* op, py::buffer buf) {
  py::buffer_info info = buf.request(/*writable=*/false);
  DType dtype = dtype_from_format(op, info);
  const int64_t item = info.itemsize;
  Shape shape(info.shape.begin(), info.shape.end());
  Shape strides(info.strides.size());
  int64_t lo = 0, hi = 0;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (info.strides[i] % item != 0)
      fail<ValueError>(op, "byte stride ", info.strides[i], " is not a multiple of itemsize ",
                       item, "; copy the array first");
    strides[i] = info.strides[i] / item;
    if (shape[i] == 0) empty = true;
    int64_t span = (shape[i] - 1) * strides[i];
    (span < 0 ? lo : hi) += span;
  }
  if (empty) lo = hi = 0;
  char* base = static_cast<char*>(info.ptr) + lo * item;
  size_t nbytes = static_cast<size_t>(hi - lo + 1) * static_cast<size_t>(item);
  auto* owner = new py::object(py::reinterpret_borrow<py::object>(buf));
  auto storage = std::make_shared<Storage>(base, nbytes, Device{}, [owner](void*) {
    py::gil_scoped_acquire gil;
    delete owner;
  });
  return Tensor(std::move(storage), dtype, shape, strides, -lo);
}

// ---- DLPack ----------------------------------------------------------------------------

DLDataType to_dl_dtype(DType t) {
  switch (t) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float16: return {kDLFloat, 16, 1};
    case DType::BFloat16: return {kDLBfloat, 16, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  return {kDLFloat, 32, 1};
}

DType from_dl_dtype(DLDataType d) {
  if (d.lanes == 1) {
    if (d.code == kDLBool && d.bits == 8) return DType::Bool;
    if (d.code == kDLInt && d.bits == 32) return DType::Int32;
    if (d.code == kDLInt && d.bits == 64) return DType::Int64;
    if (d.code == kDLFloat && d.bits == 16) return DType::Float16;
    if (d.code == kDLBfloat && d.bits == 16) return DType::BFloat16;
    if (d.code == kDLFloat && d.bits == 32) return DType::Float32;
    if (d.code == kDLFloat && d.bits == 64) return DType::Float64;
  }
  fail<TypeError>("from_dlpack", "unsupported DLPack dtype (code ", int(d.code), ", bits ",
                  int(d.bits), ", lanes ", d.lanes, ")");
}

// Owns what a DLPack capsule points into: a reference to the tensor and the shape arrays.
struct DLContext {
  Tensor tensor;
  Shape shape;
  Shape strides;
};

void fill_dl_tensor(DLTensor& dl, DLContext* ctx) {
  const Tensor& t = ctx->tensor;
  dl.data = t.storage()->data();
  dl.byte_offset = static_cast<uint64_t>(t.offset()) * t.itemsize();
  dl.device = {t.device().is_cpu() ? kDLCPU : kDLCUDA, t.device().index};
  dl.ndim = static_cast<int32_t>(t.ndim());
  dl.dtype = to_dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
}

py::capsule to_dlpack(const Tensor& t, bool versioned) {
  auto* ctx = new DLContext{t, t.shape(), t.strides()};
  if (versioned) {
    auto* m = new DLManagedTensorVersioned{};
    m->version = {1, 0};
    m->manager_ctx = ctx;
    m->deleter = [](DLManagedTensorVersioned* self) {
      delete static_cast<DLContext*>(self->manager_ctx);
      delete self;
    };
    fill_dl_tensor(m->dl_tensor, ctx);
    return py::capsule(m, "dltensor_versioned", [](PyObject* cap) {
      if (PyCapsule_IsValid(cap, "dltensor_versioned")) {  // never consumed
        auto* p = static_cast<DLManagedTensorVersioned*>(
            PyCapsule_GetPointer(cap, "dltensor_versioned"));
        if (p && p->deleter) p->deleter(p);
      }
    });
  }
  auto* m = new DLManagedTensor{};
  m->manager_ctx = ctx;
  m->deleter = [](DLManagedTensor* self) {
    delete static_cast<DLContext*>(self->manager_ctx);
    delete self;
  };
  fill_dl_tensor(m->dl_tensor, ctx);
  return py::capsule(m, "dltensor", [](PyObject* cap) {
    if (PyCapsule_IsValid(cap, "dltensor")) {
      auto* p = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
      if (p && p->deleter) p->deleter(p);
    }
  });
}

Tensor tensor_from_dl(const DLTensor& dl, std::function<void(void*)> release) {
  Device device;
  if (dl.device.device_type == kDLCPU) {
    device = {DeviceType::CPU, 0};
  } else if (dl.device.device_type == kDLCUDA) {
    device = {DeviceType::CUDA, dl.device.device_id};
  } else {
    release(nullptr);
    fail<TypeError>("from_dlpack", "unsupported DLPack device type ", dl.device.device_type);
  }
  DType dtype;
  try {
    dtype = from_dl_dtype(dl.dtype);
  } catch (...) {
    release(nullptr);
    throw;
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  int64_t item = static_cast<int64_t>(itemsize(dtype));
  int64_t lo = 0, hi = 0;
  bool empty = false;
  for (int i = 0; i < dl.ndim; ++i) {
    if (shape[i] == 0) empty = true;
    int64_t span = (shape[i] - 1) * strides[i];
    (span < 0 ? lo : hi) += span;
  }
  if (empty) lo = hi = 0;
  char* first = static_cast<char*>(dl.data) + dl.byte_offset;
  char* base = first + lo * item;
  size_t nbytes = static_cast<size_t>(hi - lo + 1) * static_cast<size_t>(item);
  auto storage = std::make_shared<Storage>(base, nbytes, device, std::move(release));
  return Tensor(std::move(storage), dtype, shape, strides, -lo);
}

Tensor from_dlpack_capsule(py::capsule cap) {
  PyObject* c = cap.ptr();
  if (PyCapsule_IsValid(c, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(c, "dltensor_versioned"));
    if (m->version.major > 1)
      fail<TypeError>("from_dlpack", "DLPack version ", m->version.major, " is not supported");
    PyCapsule_SetName(c, "used_dltensor_versioned");
    return tensor_from_dl(m->dl_tensor, [m](void*) {
      py::gil_scoped_acquire gil;
      if (m->deleter) m->deleter(m);
    });
  }
  if (PyCapsule_IsValid(c, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
    PyCapsule_SetName(c, "used_dltensor");
    return tensor_from_dl(m->dl_tensor, [m](void*) {
      py::gil_scoped_acquire gil;
      if (m->deleter) m->deleter(m);
    });
  }
  fail<ValueError>("from_dlpack", "expected an unconsumed DLPack capsule ('dltensor' or "
                   "'dltensor_versioned')");
}

py::object scalar_value(const Tensor& t) {
  Tensor c = t.to(Device{});
  const char* p = c.data_ptr();
  switch (t.dtype()) {
    case DType::Bool: return py::bool_(*reinterpret_cast<const bool*>(p));
    case DType::Int32: return py::int_(*reinterpret_cast<const int32_t*>(p));
    case DType::Int64: return py::int_(*reinterpret_cast<const int64_t*>(p));
    case DType::Float16: return py::float_(half_to_float(*reinterpret_cast<const uint16_t*>(p)));
    case DType::BFloat16: return py::float_(bf16_to_float(*reinterpret_cast<const uint16_t*>(p)));
    case DType::Float32: return py::float_(*reinterpret_cast<const float*>(p));
    case DType::Float64: return py::float_(*reinterpret_cast<const double*>(p));
  }
  return py::none();
}

}  // namespace

void bind_tensor(py::module_& m) {
  using T = Tensor;
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol())
      .def_property_readonly("shape", [](const T& t) { return shape_to_py(t.shape()); })
      .def_property_readonly("strides", [](const T& t) { return shape_to_py(t.strides()); })
      .def_property_readonly("offset", &T::offset)
      .def_property_readonly("dtype_code", [](const T& t) { return static_cast<int>(t.dtype()); })
      .def_property_readonly("device", [](const T& t) { return t.device().str(); })
      .def_property_readonly("is_cuda", [](const T& t) { return t.device().is_cuda(); })
      .def_property_readonly("ndim", &T::ndim)
      .def_property_readonly("numel", &T::numel)
      .def_property_readonly("itemsize", [](const T& t) { return t.itemsize(); })
      .def_property_readonly("data_ptr",
                             [](const T& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def_property_readonly("storage_ptr", [](const T& t) {
        return reinterpret_cast<uintptr_t>(t.storage()->data());
      })
      .def_property_readonly("version", [](const T& t) { return t.storage()->version(); })
      .def("bump_version", [](const T& t) { t.storage()->bump_version(); })
      .def("is_contiguous", &T::is_contiguous)
      .def("shares_storage", [](const T& a, const T& b) { return a.storage() == b.storage(); })
      .def("view", [](const T& t, py::handle s) { return t.view(shape_from_py("view", s)); })
      .def("reshape",
           [](const T& t, py::handle s) { return t.reshape(shape_from_py("reshape", s)); })
      .def("transpose", &T::transpose)
      .def("permute",
           [](const T& t, py::handle d) { return t.permute(shape_from_py("permute", d)); })
      .def("expand", [](const T& t, py::handle s) {
        return t.expand(shape_from_py("expand", s));
      })
      .def("broadcast_to", [](const T& t, py::handle s) {
        return t.expand(shape_from_py("broadcast_to", s), "broadcast_to");
      })
      .def("squeeze", py::overload_cast<int64_t>(&T::squeeze, py::const_))
      .def("squeeze_all", py::overload_cast<>(&T::squeeze, py::const_))
      .def("unsqueeze", &T::unsqueeze)
      .def("select", &T::select)
      .def("slice", &T::slice)
      .def("narrow", &T::narrow)
      .def("diagonal", &T::diagonal)
      .def("as_strided", [](const T& t, py::handle shape, py::handle strides, int64_t off) {
        return t.as_strided(shape_from_py("as_strided", shape),
                            shape_from_py("as_strided", strides), off);
      })
      .def("contiguous", &T::contiguous)
      .def("clone", [](const T& t) {
        py::gil_scoped_release no_gil;
        return t.clone();
      })
      .def("to_dtype", [](const T& t, int code) {
        DType d = dtype_from_code(code);
        py::gil_scoped_release no_gil;
        return t.to(d);
      })
      .def("to_device", [](const T& t, const std::string& dev) {
        Device d = device_from_str(dev);
        py::gil_scoped_release no_gil;
        return t.to(d);
      })
      .def("copy_", [](T& dst, const T& src) {
        if (dst.shape() != src.shape()) {
          Shape b = broadcast_shapes("copy_", dst.shape(), src.shape());
          if (b != dst.shape())
            fail<ValueError>("copy_", "cannot copy a tensor of shape ", shape_str(src.shape()),
                             " into one of shape ", shape_str(dst.shape()));
        }
        {
          py::gil_scoped_release no_gil;
          copy_(dst, src);
        }
        dst.storage()->bump_version();
      })
      .def("item", [](const T& t) {
        if (t.numel() != 1)
          fail<ValueError>("item", "a tensor with ", t.numel(),
                           " elements cannot be converted to a Python scalar (shape ",
                           shape_str(t.shape()), ")");
        return scalar_value(t);
      })
      .def("__dlpack__", [](const T& t, py::object stream, py::object max_version,
                            py::object dl_device, py::object copy) {
        (void)stream;
        (void)dl_device;
        if (!copy.is_none() && copy.cast<bool>())
          return to_dlpack(t.clone(), !max_version.is_none() &&
                                          max_version.cast<py::tuple>()[0].cast<int>() >= 1);
        bool versioned = !max_version.is_none() &&
                         max_version.cast<py::tuple>()[0].cast<int>() >= 1;
        return to_dlpack(t, versioned);
      }, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
         py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__", [](const T& t) {
        return py::make_tuple(t.device().is_cpu() ? int(kDLCPU) : int(kDLCUDA),
                              t.device().index);
      })
      .def_buffer([](const T& t) -> py::buffer_info {
        if (!t.device().is_cpu())
          fail<TypeError>("numpy", "can't convert a ", t.device().str(),
                          " tensor to NumPy; call .cpu() first");
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides;
        for (int64_t s : t.strides()) strides.push_back(s * static_cast<int64_t>(t.itemsize()));
        return py::buffer_info(t.data_ptr(), static_cast<py::ssize_t>(t.itemsize()),
                               buffer_format(t.dtype()), t.ndim(), shape, strides);
      });

  m.def("from_buffer", [](py::buffer b) { return tensor_over_buffer("from_numpy", b); },
        "A CPU tensor sharing memory with a buffer-protocol object (NumPy array).");
  m.def("from_dlpack_capsule", &from_dlpack_capsule);
  m.def("_set_tensor_class", &set_tensor_class,
        "Registers ember.Tensor: every Tensor the module returns is wrapped in it.");
}

}  // namespace ember::py_bind
