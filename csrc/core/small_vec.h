// A vector of int64_t that keeps up to 6 entries inline: tensor shapes and strides, so that
// making a small tensor costs no heap allocation beyond its storage.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

namespace ember {

class SmallVec {
 public:
  static constexpr size_t kInline = 6;
  using value_type = int64_t;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;

  SmallVec() = default;
  explicit SmallVec(size_t n, int64_t v = 0) { assign(n, v); }
  SmallVec(std::initializer_list<int64_t> il) { append(il.begin(), il.end()); }
  template <class It, class = decltype(*std::declval<It>())>
  SmallVec(It b, It e) {
    append(b, e);
  }
  SmallVec(const SmallVec& o) { append(o.begin(), o.end()); }
  SmallVec(SmallVec&& o) noexcept { steal(o); }
  SmallVec& operator=(const SmallVec& o) {
    if (this != &o) {
      size_ = 0;
      append(o.begin(), o.end());
    }
    return *this;
  }
  SmallVec& operator=(SmallVec&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  ~SmallVec() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return ptr(); }
  const int64_t* data() const { return ptr(); }
  int64_t& operator[](size_t i) { return ptr()[i]; }
  const int64_t& operator[](size_t i) const { return ptr()[i]; }
  int64_t& back() { return ptr()[size_ - 1]; }
  const int64_t& back() const { return ptr()[size_ - 1]; }
  iterator begin() { return ptr(); }
  iterator end() { return ptr() + size_; }
  const_iterator begin() const { return ptr(); }
  const_iterator end() const { return ptr() + size_; }

  void reserve(size_t n) {
    if (n <= capacity()) return;
    auto* p = static_cast<int64_t*>(std::malloc(n * sizeof(int64_t)));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, ptr(), size_ * sizeof(int64_t));
    if (heap_) std::free(heap_);
    heap_ = p;
    cap_ = n;
  }
  void push_back(int64_t v) {
    if (size_ == capacity()) reserve(capacity() * 2);
    ptr()[size_++] = v;
  }
  void resize(size_t n, int64_t v = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) ptr()[i] = v;
    size_ = n;
  }
  void assign(size_t n, int64_t v) {
    size_ = 0;
    resize(n, v);
  }
  void clear() { size_ = 0; }
  iterator insert(const_iterator pos, int64_t v) {
    size_t i = static_cast<size_t>(pos - begin());
    push_back(0);
    std::memmove(ptr() + i + 1, ptr() + i, (size_ - 1 - i) * sizeof(int64_t));
    ptr()[i] = v;
    return ptr() + i;
  }
  iterator erase(const_iterator pos) {
    size_t i = static_cast<size_t>(pos - begin());
    std::memmove(ptr() + i, ptr() + i + 1, (size_ - 1 - i) * sizeof(int64_t));
    --size_;
    return ptr() + i;
  }
  bool operator==(const SmallVec& o) const {
    return size_ == o.size_ && std::equal(begin(), end(), o.begin());
  }
  bool operator!=(const SmallVec& o) const { return !(*this == o); }

 private:
  size_t capacity() const { return heap_ ? cap_ : kInline; }
  int64_t* ptr() { return heap_ ? heap_ : inline_; }
  const int64_t* ptr() const { return heap_ ? heap_ : inline_; }
  template <class It>
  void append(It b, It e) {
    reserve(size_ + static_cast<size_t>(std::distance(b, e)));
    for (; b != e; ++b) ptr()[size_++] = static_cast<int64_t>(*b);
  }
  void release() {
    if (heap_) std::free(heap_);
    heap_ = nullptr;
    size_ = 0;
  }
  void steal(SmallVec& o) {
    size_ = o.size_;
    if (o.heap_) {
      heap_ = o.heap_;
      cap_ = o.cap_;
      o.heap_ = nullptr;
    } else {
      heap_ = nullptr;
      std::memcpy(inline_, o.inline_, size_ * sizeof(int64_t));
    }
    o.size_ = 0;
  }

  int64_t inline_[kInline];
  int64_t* heap_ = nullptr;
  size_t cap_ = 0;
  size_t size_ = 0;
};

}  // namespace ember
