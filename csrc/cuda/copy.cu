// copy/cast on the GPU: dst[i] = convert(src[i]) for every pair of dtypes, any strides (the
// iteration already broadcasts src). A contiguous same-dtype copy is a device memcpy.
#include "cpu/copy.h"
#include "cuda/elementwise.cuh"

namespace ember::cuda {
namespace {

template <class S, class D>
struct CastOp {
  __device__ D operator()(S v) const { return convert<D>(v); }
};

void copy_kernel_impl(const ElemIter& it) {
  if (it.numel == 0) return;
  const int64_t size = static_cast<int64_t>(itemsize(it.out_dtype));
  if (it.dtype == it.out_dtype && it.ndim == 1 && it.strides[0][0] == size &&
      it.strides[1][0] == size) {
    use_device_of(it.data[0]);
    check(cudaMemcpyAsync(it.data[0], it.data[1], static_cast<size_t>(it.numel * size),
                          cudaMemcpyDeviceToDevice, 0),
          "cudaMemcpyAsync");
    return;
  }
  visit_dtype(it.dtype, [&](auto s) {
    visit_dtype(it.out_dtype, [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      launch_elementwise<1, S, D>(it, CastOp<S, D>{});
    });
  });
}

}  // namespace
EMBER_REGISTER_CUDA(copy_kernel, copy_kernel_impl);
}  // namespace ember::cuda
