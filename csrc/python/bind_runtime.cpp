// Runtime queries and settings: threads, CPU capability, memory statistics, CUDA devices.
#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "python/bindings.h"

namespace ember::py_bind {

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("cpu_capability", [] { return std::string(capability_name(cpu_capability())); });
  m.def("detected_cpu_capability",
        [] { return std::string(capability_name(detected_cpu_capability())); });
  m.def("set_cpu_capability",
        [](const std::string& name) { set_cpu_capability(parse_capability(name)); });
  m.def("available_capabilities", [] {
    std::vector<std::string> out;
    for (int c = 0; c <= detected_cpu_capability(); ++c) out.push_back(capability_name(c));
    return out;
  });
  m.def("kernels", [] {
    py::dict d;
    for (const KernelInfo& k : kernel_tables()) {
      py::list slots;
      const char* names[] = {"default", "avx2", "avx512", "cuda"};
      for (int s = 0; s <= kCudaSlot; ++s)
        if (k.slots[s]) slots.append(names[s]);
      d[k.name] = slots;
    }
    return d;
  }, "Every kernel table and the slots (capabilities, cuda) that hold a kernel.");
  m.def("cpu_memory_stats", [] {
    MemoryStats s = cpu_memory_stats();
    py::dict d;
    d["allocated_bytes"] = s.allocated_bytes;
    d["peak_allocated_bytes"] = s.peak_allocated_bytes;
    d["cached_bytes"] = s.cached_bytes;
    d["num_allocs"] = s.num_allocs;
    d["num_cache_hits"] = s.num_cache_hits;
    return d;
  });
  m.def("cpu_empty_cache", &cpu_empty_cache);
  m.def("cpu_reset_peak_stats", &cpu_reset_peak_stats);
  m.def("build_info", [] {
    py::dict d;
    d["version"] = EMBER_VERSION;
    d["build_type"] = EMBER_BUILD_TYPE;
    d["cuda_built"] = cuda::built();
    return d;
  });
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_device_name", &cuda::device_name);
  m.def("cuda_synchronize", [](int dev) {
    py::gil_scoped_release no_gil;
    cuda::synchronize(dev);
  });
}

}  // namespace ember::py_bind
