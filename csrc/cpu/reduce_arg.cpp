// max/min along dims with the index of the first extreme (argmax/argmin when no values are
// wanted). Reduced dims keep their logical order (keep_order iter), so the flat position the
// walk reports is the index PyTorch returns. A NaN beats every number and the first NaN wins,
// as in PyTorch. Scalar compare loop: the index bookkeeping defeats simple vectorisation.
#include "cpu/reduce.h"
#include "cpu/reduce_loops.h"

namespace ember::cpu {
namespace {

template <class T>
struct Best {
  T v;
  int64_t i;  // -1 before the first element
};

template <bool kMax, class T>
bool better(T c, T cur) {
  if (cur != cur) return false;
  if (c != c) return true;
  return kMax ? c > cur : c < cur;
}

template <bool kMax>
void arg_impl(const ReduceIter& it) {
  if (it.dtype == DType::Float16 || it.dtype == DType::BFloat16)
    fail<TypeError>(kMax ? "max" : "min", "unsupported dtype ", dtype_name(it.dtype));
  visit_dtype(it.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_arithmetic_v<T>) {
      using S = Best<T>;
      auto range = [&](int64_t, const char* base, int64_t b, int64_t e) {
        S s{T{}, -1};
        walk_reduced(it, base, b, e, [&](const char* p, int64_t n, int64_t stride, int64_t f) {
          for (int64_t k = 0; k < n; ++k) {
            T v = load<T>(p + k * stride);
            if (s.i < 0 || better<kMax>(v, s.v)) s = S{v, f + k};
          }
        });
        return s;
      };
      // `a` covers earlier positions than `b`: on a tie the earlier index stays.
      auto combine = [](S a, S b) { return (a.i < 0 || (b.i >= 0 && better<kMax>(b.v, a.v))) ? b : a; };
      auto store = [&](int64_t, const OutOffsets& off, S s) {
        if (it.out) *reinterpret_cast<T*>(it.out + off.out) = s.v;
        *reinterpret_cast<int64_t*>(it.out2 + off.out2) = s.i;
      };
      reduce_outputs<S>(it, range, combine, store);
    }
  });
}

}  // namespace

EMBER_REGISTER_CPU(max_dim_kernel, arg_impl<true>);
EMBER_REGISTER_CPU(min_dim_kernel, arg_impl<false>);

}  // namespace ember::cpu
