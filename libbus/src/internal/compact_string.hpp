#pragma once

// A string for the keys and values of the read models' hash maps: up to
// 31 bytes live inside the object (ids, emails, most keys), longer ones on
// the heap. A map slot then holds its key's bytes, so that finding a key
// compares memory already loaded, and a new key costs no allocation.
// std::string, the same size, keeps only 15 bytes in place. data() is not
// NUL-terminated.

#include <cstddef>
#include <cstring>
#include <string_view>

namespace bus::internal {

class compact_string {
public:
  /// The longest string kept in place.
  static constexpr std::size_t inline_capacity = 31;

  compact_string() noexcept {
    bytes_[0] = '\0';
    bytes_[tag_at] = 0;
  }

  explicit compact_string(std::string_view s) : compact_string() { assign(s); }

  compact_string(const compact_string& other) : compact_string() {
    assign(other.view());
  }

  compact_string(compact_string&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_); // takes its heap buffer
    other.bytes_[0] = '\0';
    other.bytes_[tag_at] = 0;
  }

  compact_string& operator=(const compact_string& other) {
    if (this != &other)
      assign(other.view());
    return *this;
  }

  compact_string& operator=(compact_string&& other) noexcept;

  ~compact_string() {
    if (on_heap())
      delete[] heap().data;
  }

  /// Replaces the contents with `s`, reusing the heap buffer if it fits.
  void assign(std::string_view s);

  const char* data() const noexcept { return on_heap() ? heap().data : bytes_; }

  std::size_t size() const noexcept {
    return on_heap() ? heap().size : static_cast<unsigned char>(bytes_[tag_at]);
  }

  std::string_view view() const noexcept { return {data(), size()}; }

  operator std::string_view() const noexcept { return view(); }

private:
  // bytes_[0, 31): the characters in place; bytes_[31]: their count, or
  // heap_tag when they are on the heap, described at the front of bytes_.
  static constexpr std::size_t tag_at = inline_capacity;
  static constexpr unsigned char heap_tag = 0xff;

  struct heap_block {
    char* data;
    std::size_t size;
    std::size_t capacity;
  };

  bool on_heap() const noexcept {
    return static_cast<unsigned char>(bytes_[tag_at]) == heap_tag;
  }

  heap_block heap() const noexcept {
    heap_block result;
    std::memcpy(&result, bytes_, sizeof result);
    return result;
  }

  void set_heap(const heap_block& block) noexcept {
    std::memcpy(bytes_, &block, sizeof block);
    bytes_[tag_at] = static_cast<char>(heap_tag);
  }

  alignas(8) char bytes_[inline_capacity + 1];
};

inline bool operator==(const compact_string& x, std::string_view y) noexcept {
  return x.view() == y;
}

inline bool operator!=(const compact_string& x, std::string_view y) noexcept {
  return x.view() != y;
}

} // namespace bus::internal
