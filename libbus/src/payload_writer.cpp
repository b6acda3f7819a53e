#include "bus/payload_writer.hpp"

#include <cmath>
#include <cstring>

#include "internal/record_tags.hpp"

namespace bus {

using namespace internal;

bool payload_writer::value_here() {
  if (open_.empty()) {
    misused_ = true; // a value outside the payload object
    return false;
  }
  auto& top = open_.back();
  if (top.left == 0 || (top.object && top.key_next)) {
    misused_ = true;
    return false;
  }
  --top.left;
  if (top.object)
    top.key_next = true;
  return true;
}

void payload_writer::close_full() {
  while (!open_.empty() && open_.back().left == 0
         && (!open_.back().object || open_.back().key_next))
    open_.pop_back();
}

void payload_writer::reset() noexcept {
  pos_ = 0;
  open_.clear();
  started_ = false;
  misused_ = false;
  nonfinite_ = false;
}

void payload_writer::begin_object(std::size_t n) {
  if (!started_ && open_.empty()) {
    started_ = true; // the payload itself: an object without a tag
  } else {
    if (!value_here())
      return;
    tag(tag_object);
  }
  varint(n);
  open_.push_back(container{n, true, true});
  close_full();
}

void payload_writer::key(std::string_view k) {
  if (open_.empty() || !open_.back().object || !open_.back().key_next
      || open_.back().left == 0) {
    misused_ = true;
    return;
  }
  open_.back().key_next = false;
  varint(k.size());
  raw(k);
}

void payload_writer::begin_array(std::size_t n) {
  if (!value_here())
    return;
  tag(tag_array);
  varint(n);
  open_.push_back(container{n, false, false});
  close_full();
}

void payload_writer::null() {
  if (!value_here())
    return;
  tag(tag_null);
  close_full();
}

void payload_writer::boolean(bool x) {
  if (!value_here())
    return;
  tag(x ? tag_true : tag_false);
  close_full();
}

void payload_writer::int64(std::int64_t x) {
  if (!value_here())
    return;
  tag(tag_int64);
  // zigzag, as the record codec writes it
  varint((static_cast<std::uint64_t>(x) << 1) ^ static_cast<std::uint64_t>(x >> 63));
  close_full();
}

void payload_writer::uint64(std::uint64_t x) {
  if (!value_here())
    return;
  tag(tag_uint64);
  varint(x);
  close_full();
}

void payload_writer::number(double x) {
  if (!value_here())
    return;
  if (!std::isfinite(x))
    nonfinite_ = true;
  tag(tag_double);
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  char le[8];
  for (int i = 0; i < 8; ++i)
    le[i] = static_cast<char>(bits >> (8 * i));
  raw(std::string_view{le, 8});
  close_full();
}

void payload_writer::string(std::string_view x) {
  if (!value_here())
    return;
  tag(tag_string);
  varint(x.size());
  raw(x);
  close_full();
}

} // namespace bus
