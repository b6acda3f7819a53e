#pragma once

// The tag byte in front of each value of an encoded record (see
// event_record.hpp), shared by the record codec and payload_writer.

namespace bus::internal {

enum record_tag : unsigned char {
  tag_null = 0,
  tag_false,
  tag_true,
  tag_int64,
  tag_uint64,
  tag_double,
  tag_string,
  tag_array,
  tag_object,
};

} // namespace bus::internal
