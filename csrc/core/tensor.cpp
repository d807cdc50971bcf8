#include "core/tensor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <sstream>

#include "core/allocator.h"
#include "core/cuda_runtime.h"

namespace ember {

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) os << ", ";
    os << shape[i];
  }
  if (shape.size() == 1) os << ',';
  os << ')';
  return os.str();
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Device parse_device(const std::string& s) {
  if (s == "cpu") return {DeviceType::CPU, 0};
  if (s == "cuda") return {DeviceType::CUDA, 0};
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5 &&
      s.find_first_not_of("0123456789", 5) == std::string::npos && s.size() < 12)
    return {DeviceType::CUDA, std::stoi(s.substr(5))};
  fail<ValueError>("device", "unsupported device '", s, "' (expected 'cpu', 'cuda' or 'cuda:N')");
}

Storage::~Storage() {
  if (deleter_) deleter_(data_);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  if (device.is_cpu()) {
    void* p = cpu_allocate(nbytes);
    return std::make_shared<Storage>(p, nbytes, device,
                                     [nbytes](void* q) { cpu_free(q, nbytes); });
  }
  cuda::check_device("empty", device.index);
  void* p = cuda::malloc(nbytes, device.index);
  int index = device.index;
  return std::make_shared<Storage>(p, nbytes, device, [index](void* q) { cuda::free(q, index); });
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail<ValueError>("empty", "negative size in shape ", shape_str(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      for (int64_t e : shape)
        if (e == 0) return 0;
      throw std::bad_alloc();
    }
    n *= d;
  }
  return n;
}

int64_t wrap_dim(const char* op, int64_t dim, int64_t ndim, const Shape& shape) {
  int64_t n = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 and -1, as in PyTorch
  if (dim < -n || dim >= n)
    fail<IndexError>(op, "dim ", dim, " out of range for a tensor of shape ", shape_str(shape));
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail<ValueError>(op, "shapes ", shape_str(a), " and ", shape_str(b),
                       " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides,
               int64_t offset)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset) {
  compute_numel();
}

void Tensor::compute_numel() {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  numel_ = n;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  int64_t n = shape_numel(shape);
  size_t item = ember::itemsize(dtype);
  if (static_cast<uint64_t>(n) > std::numeric_limits<uint64_t>::max() / 2 / item)
    throw std::bad_alloc();
  auto storage = Storage::allocate(static_cast<size_t>(n) * item, device);
  return Tensor(std::move(storage), dtype, shape, contiguous_strides(shape), 0);
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (shape_[i] == 0) return true;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Tensor::is_non_overlapping_and_dense() const {
  if (is_contiguous()) return true;
  std::vector<size_t> order(shape_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return strides_[a] < strides_[b]; });
  int64_t expected = 1;
  for (size_t i : order) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

bool Tensor::may_overlap(const Tensor& other) const {
  if (storage_ != other.storage_ || numel_ == 0 || other.numel_ == 0) return false;
  auto extent = [](const Tensor& t, int64_t& lo, int64_t& hi) {
    lo = hi = t.offset_;
    for (size_t i = 0; i < t.shape_.size(); ++i) {
      int64_t span = (t.shape_[i] - 1) * t.strides_[i];
      (span < 0 ? lo : hi) += span;
    }
  };
  int64_t lo1, hi1, lo2, hi2;
  extent(*this, lo1, hi1);
  extent(other, lo2, hi2);
  int64_t b1 = lo1 * static_cast<int64_t>(itemsize());
  int64_t e1 = (hi1 + 1) * static_cast<int64_t>(itemsize());
  int64_t b2 = lo2 * static_cast<int64_t>(other.itemsize());
  int64_t e2 = (hi2 + 1) * static_cast<int64_t>(other.itemsize());
  return b1 < e2 && b2 < e1;
}

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  if (shape.size() != strides.size())
    fail<ValueError>("as_strided", "shape ", shape_str(shape), " and strides ",
                     shape_str(strides), " differ in length");
  int64_t lo = offset, hi = offset;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) fail<ValueError>("as_strided", "negative size in ", shape_str(shape));
    if (shape[i] == 0) empty = true;
  }
  if (!empty) {
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t span = (shape[i] - 1) * strides[i];
      (span < 0 ? lo : hi) += span;
    }
    int64_t cap = static_cast<int64_t>(storage_->nbytes() / itemsize());
    if (lo < 0 || hi >= cap)
      fail<ValueError>("as_strided", "shape ", shape_str(shape), " strides ", shape_str(strides),
                       " offset ", offset, " reach outside a storage of ", cap, " elements");
  }
  return Tensor(storage_, dtype_, shape, strides, offset);
}

namespace {

// Fills a single -1 in `shape` from `numel`; checks the product.
Shape infer_size(const char* op, Shape shape, int64_t numel, const Shape& from) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail<ValueError>(op, "only one dimension can be inferred in ", shape_str(shape));
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      fail<ValueError>(op, "invalid size ", shape[i], " in shape ", shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      fail<ValueError>(op, "shape ", shape_str(shape), " is invalid for input of shape ",
                       shape_str(from), " (", numel, " elements)");
    shape[infer] = numel / known;
  } else if (known != numel) {
    fail<ValueError>(op, "shape ", shape_str(shape), " is invalid for input of shape ",
                     shape_str(from), " (", numel, " elements)");
  }
  return shape;
}

// Strides for viewing (shape, strides) as new_shape without a copy, or false when the layout
// does not allow it (same algorithm as NumPy's _attempt_nocopy_reshape).
bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                  Shape& out) {
  out.assign(new_shape.size(), 0);
  Shape os, ost;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1) {
      os.push_back(shape[i]);
      ost.push_back(strides[i]);
    }
  }
  size_t oi = 0, oj = 1, ni = 0, nj = 1;
  size_t on = os.size(), nn = new_shape.size();
  while (ni < nn && oi < on) {
    int64_t np = new_shape[ni], op = os[oi];
    while (np != op) {
      if (np < op) {
        np *= new_shape[nj++];
      } else {
        op *= os[oj++];
      }
    }
    for (size_t k = oi; k + 1 < oj; ++k)
      if (ost[k] != os[k + 1] * ost[k + 1]) return false;
    out[nj - 1] = ost[oj - 1];
    for (size_t k = nj - 1; k > ni; --k) out[k - 1] = out[k] * new_shape[k];
    ni = nj++;
    oi = oj++;
  }
  int64_t last = ni > 0 ? out[ni - 1] : 1;
  for (size_t k = ni; k < nn; ++k) out[k] = last;  // trailing size-1 dims
  return true;
}

}  // namespace

Tensor Tensor::view(Shape shape, const char* op) const {
  shape = infer_size(op, std::move(shape), numel_, shape_);
  if (numel_ == 0 || is_contiguous())
    return Tensor(storage_, dtype_, shape, contiguous_strides(shape), offset_);
  Shape strides;
  if (!view_strides(shape_, strides_, shape, strides))
    fail<ValueError>(op, "cannot view a tensor of shape ", shape_str(shape_), " and strides ",
                     shape_str(strides_), " as ", shape_str(shape),
                     "; use reshape() (copies) or contiguous() first");
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_size("reshape", std::move(shape), numel_, shape_);
  Shape strides;
  if (numel_ == 0 || is_contiguous())
    return Tensor(storage_, dtype_, shape, contiguous_strides(shape), offset_);
  if (view_strides(shape_, strides_, shape, strides))
    return Tensor(storage_, dtype_, shape, strides, offset_);
  return contiguous().view(shape, "reshape");
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim("transpose", d0, ndim(), shape_);
  d1 = wrap_dim("transpose", d1, ndim(), shape_);
  if (ndim() == 0) return *this;
  Shape shape = shape_, strides = strides_;
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::permute(const Shape& dims) const {
  if (static_cast<int64_t>(dims.size()) != ndim())
    fail<ValueError>("permute", "got ", dims.size(), " dims for a tensor of shape ",
                     shape_str(shape_));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim("permute", dims[i], ndim(), shape_);
    if (seen[d]) fail<ValueError>("permute", "dim ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::expand(const Shape& shape, const char* op) const {
  if (shape.size() < shape_.size())
    fail<ValueError>(op, "cannot expand shape ", shape_str(shape_), " to ", shape_str(shape),
                     " with fewer dims");
  size_t lead = shape.size() - shape_.size();
  Shape out(shape.size()), strides(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t want = shape[i];
    if (i < lead) {
      if (want < 0)
        fail<ValueError>(op, "size -1 not allowed in a new leading dim: ", shape_str(shape));
      out[i] = want;
      strides[i] = 0;
      continue;
    }
    int64_t have = shape_[i - lead];
    if (want == -1) want = have;
    if (want == have) {
      out[i] = have;
      strides[i] = strides_[i - lead];
    } else if (have == 1 && want >= 0) {
      out[i] = want;
      strides[i] = 0;
    } else {
      fail<ValueError>(op, "cannot expand shape ", shape_str(shape_), " to ", shape_str(shape));
    }
  }
  return Tensor(storage_, dtype_, out, strides, offset_);
}

Tensor Tensor::squeeze(int64_t dim) const {
  if (ndim() == 0) {
    wrap_dim("squeeze", dim, 0, shape_);
    return *this;
  }
  dim = wrap_dim("squeeze", dim, ndim(), shape_);
  if (shape_[dim] != 1) return *this;
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::squeeze() const {
  Shape shape, strides;
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] != 1) {
      shape.push_back(shape_[i]);
      strides.push_back(strides_[i]);
    }
  }
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  dim = wrap_dim("unsqueeze", dim, ndim() + 1, shape_);
  Shape shape = shape_, strides = strides_;
  int64_t s = dim < ndim() ? shape_[dim] * strides_[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, s);
  return Tensor(storage_, dtype_, shape, strides, offset_);
}

Tensor Tensor::select(int64_t dim, int64_t index) const {
  if (ndim() == 0) fail<IndexError>("select", "cannot index a 0-d tensor");
  dim = wrap_dim("select", dim, ndim(), shape_);
  int64_t size = shape_[dim];
  if (index < -size || index >= size)
    fail<IndexError>("select", "index ", index, " is out of bounds for dim ", dim,
                     " with size ", size, " (shape ", shape_str(shape_), ")");
  if (index < 0) index += size;
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return Tensor(storage_, dtype_, shape, strides, offset_ + index * strides_[dim]);
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t stop, int64_t step) const {
  if (ndim() == 0) fail<IndexError>("slice", "cannot slice a 0-d tensor");
  dim = wrap_dim("slice", dim, ndim(), shape_);
  if (step == 0) fail<ValueError>("slice", "slice step cannot be zero");
  int64_t n = shape_[dim];
  // Python's slice.indices(): clamp into range, then count.
  auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
  int64_t len;
  if (step > 0) {
    start = start < 0 ? clamp(start + n, 0, n) : clamp(start, 0, n);
    stop = stop < 0 ? clamp(stop + n, 0, n) : clamp(stop, 0, n);
    len = stop > start ? (stop - start + step - 1) / step : 0;
  } else {
    start = start < 0 ? clamp(start + n, -1, n - 1) : clamp(start, -1, n - 1);
    stop = stop < 0 ? clamp(stop + n, -1, n - 1) : clamp(stop, -1, n - 1);
    len = start > stop ? (start - stop + (-step) - 1) / (-step) : 0;
  }
  Shape shape = shape_, strides = strides_;
  shape[dim] = len;
  strides[dim] = strides_[dim] * step;
  int64_t off = len > 0 ? offset_ + start * strides_[dim] : offset_;
  return Tensor(storage_, dtype_, shape, strides, off);
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  if (ndim() == 0) fail<IndexError>("narrow", "cannot narrow a 0-d tensor");
  dim = wrap_dim("narrow", dim, ndim(), shape_);
  int64_t n = shape_[dim];
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n)
    fail<IndexError>("narrow", "start ", start, " and length ", length,
                     " out of range for dim ", dim, " of size ", n);
  Shape shape = shape_;
  shape[dim] = length;
  return Tensor(storage_, dtype_, shape, strides_, offset_ + start * strides_[dim]);
}

Tensor Tensor::diagonal(int64_t off, int64_t d0, int64_t d1) const {
  d0 = wrap_dim("diagonal", d0, ndim(), shape_);
  d1 = wrap_dim("diagonal", d1, ndim(), shape_);
  if (d0 == d1) fail<ValueError>("diagonal", "dims must differ, got ", d0, " twice");
  int64_t len, start = offset_;
  if (off >= 0) {
    len = std::max<int64_t>(std::min(shape_[d0], shape_[d1] - off), 0);
    if (len > 0) start += off * strides_[d1];
  } else {
    len = std::max<int64_t>(std::min(shape_[d0] + off, shape_[d1]), 0);
    if (len > 0) start -= off * strides_[d0];
  }
  Shape shape, strides;
  for (int64_t i = 0; i < ndim(); ++i) {
    if (i == d0 || i == d1) continue;
    shape.push_back(shape_[i]);
    strides.push_back(strides_[i]);
  }
  shape.push_back(len);
  strides.push_back(strides_[d0] + strides_[d1]);
  return Tensor(storage_, dtype_, shape, strides, start);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape_, dtype_, device());
  copy_(out, *this, "clone");
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = Tensor::empty(shape_, dtype, device());
  copy_(out, *this, "to");
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor out = Tensor::empty(shape_, dtype_, device);
  copy_(out, *this, "to");
  return out;
}

}  // namespace ember
