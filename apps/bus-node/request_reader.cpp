#include "request_reader.hpp"

#include "bus/log.hpp"

namespace bus::node {

namespace {

// Room for the parse of a typical line; a longer one takes more blocks from
// the heap, returned when the line is done.
constexpr std::size_t scratch_bytes = 64 << 10;

// The first block of a chunk's payload arena, enough for a few thousand
// small payloads; it grows by doubling.
constexpr std::size_t payload_block_bytes = 256 << 10;

// Requests a chunk has room for (a block of input holds some thousands of
// lines: 4 MB of requests), and released chunks kept: the node has at most
// eight in flight.
constexpr std::size_t chunk_requests = 8192;
constexpr std::size_t spare_chunks = 10;

} // namespace

request_reader::request_reader(int fd, std::size_t max_line_bytes)
  : lines_(fd, max_line_bytes),
    max_line_bytes_(max_line_bytes),
    chunks_(spare_chunks, chunk_requests),
    scratch_buffer_(new unsigned char[scratch_bytes]),
    scratch_(scratch_buffer_.get(), scratch_bytes) {
  // nop
}

void request_reader::parse_line(std::string_view line, std::size_t number) {
  // Made without the arena: a request's payload whose object had the
  // arena's storage would count a reference on it with every move of the
  // event, on the reader's thread and the workers' alike.
  auto& req = chunk_->emplace_back();
  if (fast_path_.parse(line, req, payloads_))
    return;
  req.ev.payload = event_payload{payloads_}; // parse_request copies into it
  bool parsed = false;
  {
    parser_.reset(&scratch_);
    boost::system::error_code ec;
    parser_.write(line.data(), line.size(), ec); // the whole line, one value
    if (!ec) {
      auto value = parser_.release();
      if (auto* obj = value.if_object()) {
        parse_request(*obj, req);
        parsed = true;
      }
    } else {
      parser_.reset(); // drops what it parsed so far, before the arena goes
    }
  }
  scratch_.release(); // the line's values are gone: reuse their memory
  if (parsed)
    return;
  chunk_->pop_back();
  BUS_LOG(log_level::warning, "bus-node",
          "line " << number << ": not a JSON object, skipped");
}

request_chunk request_reader::read_chunk(bool& more) {
  chunk_ = chunks_.take();
  auto arena = event_arena::make(payload_block_bytes);
  payloads_ = std::move(arena.storage);
  more = lines_.read_block([this](std::string_view line,
                                  std::size_t number) { parse_line(line, number); },
                           [this](std::size_t number) {
                             BUS_LOG(log_level::warning, "bus-node",
                                     "line " << number << ": longer than "
                                             << max_line_bytes_ << " bytes, skipped");
                           });
  // Readers on other threads copy these payloads (upcasters, streams):
  // from here on their copies take the heap's memory, not the arena's.
  arena.arena->seal();
  payloads_ = {}; // the chunk's payloads keep their arena alive
  return std::move(chunk_);
}

} // namespace bus::node
