// Tensor = shared storage + dtype + shape + strides (in elements) + offset + device.
//
// Baseline code only: per-capability kernel files (csrc/cpu/*.cpp) receive the plain structs
// of iter.h instead, so that no inline Tensor method is ever compiled with AVX-512 flags.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/small_vec.h"

namespace ember {

using Shape = SmallVec;

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

// Parses "cpu", "cuda", "cuda:1"; raises ValueError otherwise.
Device parse_device(const std::string& s);

// A block of memory on one device. The deleter releases it: to the allocator for memory we
// allocated, or by dropping a reference for memory borrowed from NumPy / DLPack.
class Storage {
 public:
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
      : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  // Bumped by every in-place write; autograd compares it with the value it saved.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  std::function<void(void*)> deleter_;
  std::atomic<uint64_t> version_{0};
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides,
         int64_t offset);

  // A new contiguous tensor; raises ValueError on negative sizes, MemoryError when too large.
  static Tensor empty(const Shape& shape, DType dtype, Device device = {});
  static Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t ndim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return numel_; }
  size_t itemsize() const { return ember::itemsize(dtype_); }
  Device device() const { return storage_->device(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  char* data_ptr() const {
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(itemsize());
  }
  bool is_contiguous() const;
  bool is_non_overlapping_and_dense() const;
  // True if two tensors may touch the same bytes (same storage, overlapping byte ranges).
  bool may_overlap(const Tensor& other) const;

  // Views: share storage, no copy. Arguments are checked; `op` names the caller in errors.
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  Tensor view(Shape shape, const char* op = "view") const;  // -1 infers one size
  Tensor reshape(Shape shape) const;                         // view when possible, else copy
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const Shape& dims) const;
  Tensor expand(const Shape& shape, const char* op = "expand") const;
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor slice(int64_t dim, int64_t start, int64_t stop, int64_t step) const;  // Python rules
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor diagonal(int64_t offset, int64_t d0, int64_t d1) const;

  Tensor contiguous() const;       // self when already contiguous
  Tensor clone() const;            // always a new contiguous copy
  Tensor to(DType dtype) const;    // self when the dtype matches
  Tensor to(Device device) const;  // self when the device matches

 private:
  void compute_numel();
  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::Float32;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
};

// Shape helpers shared by ops.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);  // with overflow check
// Wraps a possibly negative dim into [0, ndim); IndexError names the op and the shape.
int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim, const Shape& shape);
// NumPy broadcasting of two shapes; ValueError names both.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Copies src into dst (same shape after broadcasting src), converting dtype, any strides,
// either device. Used by contiguous(), to(), clone() and __setitem__.
void copy_(Tensor& dst, const Tensor& src, const char* op = "copy_");

}  // namespace ember
