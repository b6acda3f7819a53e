#include "internal/compact_string.hpp"

namespace bus::internal {

static_assert(sizeof(compact_string) == 32, "a compact_string fills 32 bytes");

compact_string& compact_string::operator=(compact_string&& other) noexcept {
  if (this != &other) {
    if (on_heap())
      delete[] heap().data;
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[0] = '\0';
    other.bytes_[tag_at] = 0;
  }
  return *this;
}

void compact_string::assign(std::string_view s) {
  if (on_heap()) {
    auto block = heap();
    if (s.size() <= block.capacity) {
      // Keep the buffer: the common update replaces a value by one alike.
      std::memmove(block.data, s.data(), s.size());
      block.data[s.size()] = '\0';
      block.size = s.size();
      set_heap(block);
      return;
    }
  }
  if (s.size() <= inline_capacity) {
    char copy[inline_capacity];
    if (!s.empty()) // `s` may point into this string
      std::memcpy(copy, s.data(), s.size());
    if (on_heap())
      delete[] heap().data;
    if (!s.empty())
      std::memcpy(bytes_, copy, s.size());
    if (s.size() < inline_capacity)
      bytes_[s.size()] = '\0';
    bytes_[tag_at] = static_cast<char>(s.size());
    return;
  }
  auto* data = new char[s.size() + 1];
  std::memcpy(data, s.data(), s.size());
  data[s.size()] = '\0';
  if (on_heap())
    delete[] heap().data;
  set_heap({data, s.size(), s.size()});
}

} // namespace bus::internal
