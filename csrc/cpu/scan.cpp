// cumsum / cumprod along one dim. Floats accumulate in float64, integers in int64. When the
// input is contiguous along a kept dim, a block of those columns is scanned together row by
// row (vectorised over the columns); otherwise each line is scanned on its own.
#include <type_traits>

#include "cpu/reduce.h"
#include "cpu/reduce_loops.h"

namespace ember::cpu {
namespace {

constexpr int64_t kScanCols = 256;

template <class T, bool kProd>
void scan_typed(const ReduceIter& it) {
  // Integers accumulate in uint64_t: overflow wraps as in PyTorch, instead of being undefined.
  using A = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  const A init = kProd ? A(1) : A(0);
  const int64_t len = it.red_numel, rs = it.red_strides[0], os = it.out_scan_stride;
  const int last = it.out_ndim - 1;
  const int64_t t = sizeof(T);
  if (last >= 0 && it.in_strides[last] == t && it.out_strides[last] == t && rs != t) {
    const int64_t cdim = it.out_shape[last];
    const int64_t nblk = (cdim + kScanCols - 1) / kScanCols;
    const int64_t grain = std::max<int64_t>(1, kReduceGrain / (len * kScanCols));
    parallel_for(0, it.out_numel / cdim * nblk, grain, [&](int64_t tb, int64_t te) {
      A acc[kScanCols];
      for (int64_t task = tb; task < te; ++task) {
        const int64_t c0 = (task % nblk) * kScanCols;
        const int64_t cols = std::min(kScanCols, cdim - c0);
        OutOffsets off = out_offsets(it, (task / nblk) * cdim + c0);
        for (int64_t c = 0; c < cols; ++c) acc[c] = init;
        for (int64_t r = 0; r < len; ++r) {
          const T* x = reinterpret_cast<const T*>(it.in + off.in + r * rs);
          T* y = reinterpret_cast<T*>(it.out + off.out + r * os);
          for (int64_t c = 0; c < cols; ++c) {
            acc[c] = kProd ? acc[c] * A(x[c]) : acc[c] + A(x[c]);
            y[c] = static_cast<T>(acc[c]);
          }
        }
      }
    });
    return;
  }
  parallel_for(0, it.out_numel, std::max<int64_t>(1, kReduceGrain / len), [&](int64_t b,
                                                                              int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      OutOffsets off = out_offsets(it, o);
      A acc = init;
      for (int64_t r = 0; r < len; ++r) {
        A x = static_cast<A>(load<T>(it.in + off.in + r * rs));
        acc = kProd ? acc * x : acc + x;
        *reinterpret_cast<T*>(it.out + off.out + r * os) = static_cast<T>(acc);
      }
    }
  });
}

template <bool kProd>
void scan_impl(const ReduceIter& it) {
  if (it.out_numel == 0) return;
  switch (it.dtype) {
    case DType::Int64: return scan_typed<int64_t, kProd>(it);
    case DType::Float32: return scan_typed<float, kProd>(it);
    case DType::Float64: return scan_typed<double, kProd>(it);
    default: kernel_dtype_error(kProd ? "cumprod" : "cumsum", it.dtype);
  }
}

}  // namespace

EMBER_REGISTER_CPU(cumsum_kernel, scan_impl<false>);
EMBER_REGISTER_CPU(cumprod_kernel, scan_impl<true>);

}  // namespace ember::cpu
