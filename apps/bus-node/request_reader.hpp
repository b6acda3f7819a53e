#pragma once

// Reads protocol requests from a file descriptor, a block of lines at a
// time, into chunks for the session. Used by the node's main thread only.
//
// Event requests in their plain form take event_fast_path; the
// other lines are parsed with Boost.JSON, into a scratch arena that is reset
// for the next line, so that the request's envelope (src, dest, body, ...)
// costs no allocation. Either way only an event's payload is kept, built in
// an arena that the chunk's events share and that is freed with the last
// of them; the arena is sealed before the chunk leaves, since readers on
// other threads copy payloads (see event_arena.hpp).

#include <cstddef>
#include <memory>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>

#include "bus/event_arena.hpp"
#include "bus/vector_pool.hpp"
#include "event_fast_path.hpp"
#include "line_reader.hpp"
#include "protocol.hpp"

namespace bus::node {

class request_reader {
public:
  /// Reads from `fd`; longer lines than `max_line_bytes` are skipped (and
  /// logged), as are lines that are not a JSON object.
  request_reader(int fd, std::size_t max_line_bytes);

  /// Reads one block of input and returns the requests of the lines it
  /// completed (possibly none). Sets `more` to false at end of input.
  request_chunk read_chunk(bool& more);

private:
  void parse_line(std::string_view line, std::size_t number);

  line_reader lines_;
  std::size_t max_line_bytes_;
  /// Chunks the session is done with, for the next ones.
  vector_pool<request> chunks_;
  event_fast_path fast_path_;
  boost::json::parser parser_;
  std::unique_ptr<unsigned char[]> scratch_buffer_;
  boost::json::monotonic_resource scratch_;
  request_chunk chunk_;
  boost::json::storage_ptr payloads_;
};

} // namespace bus::node
