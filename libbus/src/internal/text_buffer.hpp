#pragma once

// A small buffer in front of a std::string, for text written in many short
// pieces (the JSON of a snapshot row: brackets, quotes, short strings). Each
// piece is a store into the buffer; the string takes them in one append
// when the buffer fills or is flushed. Appending each piece to the string
// costs a capacity check and a library call per piece, more than the piece.
// The owner calls flush() when done (not the destructor: an append can
// throw).

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace bus::internal {

class text_buffer {
public:
  static constexpr std::size_t capacity = 480;

  explicit text_buffer(std::string& out) noexcept : out_(out) {
    // nop
  }

  text_buffer(const text_buffer&) = delete;
  text_buffer& operator=(const text_buffer&) = delete;

  void put(char c) {
    if (size_ == capacity)
      flush();
    data_[size_++] = c;
  }

  void put(std::string_view x) {
    if (x.size() > capacity - size_) {
      flush();
      if (x.size() > capacity) {
        out_.append(x.data(), x.size());
        return;
      }
    }
    std::memcpy(data_ + size_, x.data(), x.size());
    size_ += x.size();
  }

  /// Room for `n` bytes after what was put (flushed first if need be), or
  /// nullptr if `n` exceeds the capacity.
  char* reserve(std::size_t n) {
    if (n > capacity - size_) {
      flush();
      if (n > capacity)
        return nullptr;
    }
    return data_ + size_;
  }

  /// Takes the `n` bytes written at what reserve() returned.
  void commit(std::size_t n) noexcept { size_ += n; }

  /// The string, holding every piece put so far: for writers that append
  /// to it themselves.
  std::string& flushed() {
    flush();
    return out_;
  }

  void flush() {
    if (size_ > 0) {
      out_.append(data_, size_);
      size_ = 0;
    }
  }

private:
  std::string& out_;
  std::size_t size_ = 0;
  char data_[capacity];
};

} // namespace bus::internal
