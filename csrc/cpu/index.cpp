// Indexing kernels (see index.h). Gather, store and masked_fill only move bytes, so they are
// written per item size rather than per dtype; accumulating puts do arithmetic per dtype, in
// float32 for float16/bfloat16 as everywhere else. Index validation happens here, before any
// offset is used, so a bad index never reaches a load or store.
#include "cpu/index.h"

#include <atomic>
#include <type_traits>
#include <climits>

#include "core/parallel.h"
#include "cpu/loops.h"

namespace ember::cpu {
namespace {

// Calls f(U{}) with U an unsigned integer of the dtype's size: byte moves need no more.
template <class F>
inline void visit_size(DType dtype, F&& f) {
  switch (itemsize(dtype)) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

int64_t index_offsets_impl(const IndexOffsetsArgs& a) {
  std::atomic<int64_t> bad{INT64_MAX};
  parallel_for(0, a.n, 65536, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t v = a.index[i];
      if (v < 0 && a.negative_ok) v += a.size;
      if (v < 0 || v >= a.size) {
        int64_t seen = bad.load();
        while (i < seen && !bad.compare_exchange_weak(seen, i)) {
        }
        return;
      }
      a.offsets[i] += v * a.stride;
    }
  });
  int64_t b = bad.load();
  return b == INT64_MAX ? -1 : b;
}

template <class U>
void gather_loop(char** d, const int64_t* s, int64_t n, const ElemIter&) {
  constexpr int64_t sz = sizeof(U);
  if (s[0] == sz && s[2] == 8) {
    U* out = reinterpret_cast<U*>(d[0]);
    const int64_t* off = reinterpret_cast<const int64_t*>(d[2]);
    for (int64_t i = 0; i < n; ++i) out[i] = load<U>(d[1] + i * s[1] + off[i] * sz);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = load<int64_t>(d[2] + i * s[2]);
    U v = load<U>(d[1] + i * s[1] + off * sz);
    std::memcpy(d[0] + i * s[0], &v, sz);
  }
}

void index_gather_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_size(it.out_dtype, [&](auto u) { loop = gather_loop<decltype(u)>; });
  cpu_elementwise(it, loop);
}

// The type accumulating puts compute in.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, half_t> || std::is_same_v<T, bf16_t>, float,
                                 std::conditional_t<std::is_same_v<T, bool>, int32_t, T>>;

template <class T, int Op>
void put_loop(char** d, const int64_t* s, int64_t n, const ElemIter&) {
  constexpr int64_t sz = sizeof(T);
  for (int64_t i = 0; i < n; ++i) {
    char* p = d[0] + i * s[0] + load<int64_t>(d[2] + i * s[2]) * sz;
    T v = load<T>(d[1] + i * s[1]);
    if constexpr (Op != kPutStore) {
      using A = acc_t<T>;
      A x = convert<A>(load<T>(p)), y = convert<A>(v);
      v = convert<T>(static_cast<A>(Op == kPutAdd ? x + y : x * y));
    }
    std::memcpy(p, &v, sz);
  }
}

void index_put_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  const int op = static_cast<int>(it.alpha);
  if (op == kPutStore) {
    visit_size(it.out_dtype, [&](auto u) { loop = put_loop<decltype(u), kPutStore>; });
    cpu_elementwise(it, loop);
    return;
  }
  visit_dtype(it.out_dtype, [&](auto t) {
    using T = decltype(t);
    loop = op == kPutAdd ? put_loop<T, kPutAdd> : put_loop<T, kPutMul>;
  });
  cpu_elementwise(it, loop, INT64_MAX);  // one thread: duplicate offsets must not race
}

template <class U>
void masked_fill_loop(char** d, const int64_t* s, int64_t n, const ElemIter&) {
  const U value = load<U>(d[3]);
  if (s[0] == sizeof(U) && s[1] == sizeof(U) && s[2] == 1) {
    U* out = reinterpret_cast<U*>(d[0]);
    const U* self = reinterpret_cast<const U*>(d[1]);
    const bool* mask = reinterpret_cast<const bool*>(d[2]);
    for (int64_t i = 0; i < n; ++i) out[i] = mask[i] ? value : self[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    U v = load<bool>(d[2] + i * s[2]) ? value : load<U>(d[1] + i * s[1]);
    std::memcpy(d[0] + i * s[0], &v, sizeof(U));
  }
}

void masked_fill_impl(const ElemIter& it) {
  Loop1d loop = nullptr;
  visit_size(it.out_dtype, [&](auto u) { loop = masked_fill_loop<decltype(u)>; });
  cpu_elementwise(it, loop);
}

int64_t nonzero_count_impl(const NonzeroArgs& a) {
  std::atomic<int64_t> total{0};
  parallel_for(0, a.numel, 65536, [&](int64_t begin, int64_t end) {
    int64_t c = 0;
    for (int64_t i = begin; i < end; ++i) c += a.mask[i];
    total += c;
  });
  return total.load();
}

// Walks the mask in row-major order carrying the coordinate, so no division per element.
void nonzero_fill_impl(const NonzeroArgs& a) {
  int64_t coord[64] = {};
  int64_t* out = a.out;
  for (int64_t i = 0; i < a.numel; ++i) {
    if (a.mask[i]) {
      for (int d = 0; d < a.ndim; ++d) *out++ = coord[d];
    }
    for (int d = a.ndim - 1; d >= 0; --d) {
      if (++coord[d] < a.shape[d]) break;
      coord[d] = 0;
    }
  }
}

}  // namespace

EMBER_REGISTER_CPU(index_offsets_kernel, index_offsets_impl);
EMBER_REGISTER_CPU(index_gather_kernel, index_gather_impl);
EMBER_REGISTER_CPU(index_put_kernel, index_put_impl);
EMBER_REGISTER_CPU(masked_fill_kernel, masked_fill_impl);
EMBER_REGISTER_CPU(nonzero_count_kernel, nonzero_count_impl);
EMBER_REGISTER_CPU(nonzero_fill_kernel, nonzero_fill_impl);

}  // namespace ember::cpu
