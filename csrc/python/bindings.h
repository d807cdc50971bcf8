// Shared by the csrc/python/bind_*.cpp files: conversions between Python values and core
// types, and the per-family binding entry points called from module.cpp.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/tensor.h"

namespace ember::py_bind {

namespace py = pybind11;

// DType <-> the integer codes the Python layer uses (python/ember/_dtype.py mirrors them).
DType dtype_from_code(int code);
Device device_from_str(const std::string& s);
// A Python sequence or int of sizes as a Shape; TypeError names `op` otherwise.
Shape shape_from_py(const char* op, py::handle sizes);
py::tuple shape_to_py(const Shape& shape);

// A Python scalar (bool/int/float) held as a 0-d CPU tensor of `dtype`.
Tensor scalar_tensor(py::handle value, DType dtype, Device device);

void bind_tensor(py::module_& m);       // class, views, NumPy buffer, DLPack
void bind_creation(py::module_& m);     // empty/full/arange/linspace/eye, from Python data
void bind_elementwise(py::module_& m);  // arithmetic, math, comparison, logical, where
void bind_reduce(py::module_& m);       // sum/mean/.../cumsum
void bind_index(py::module_& m);        // cat/stack, gather/scatter, advanced indexing
void bind_random(py::module_& m);       // Philox generator, rand/randn/randint/bernoulli
void bind_runtime(py::module_& m);      // threads, capability, memory, CUDA queries, probes
void bind_probe(py::module_& m);        // peak FMA throughput and memory bandwidth probes

}  // namespace ember::py_bind
