// The node's whole input path: bytes through line_reader (in pieces, as a
// pipe delivers them, with a small line limit), each line through the JSON
// parser and parse_request as bus-node's main does. Properties: every line
// of the input is handed out once, in order, with its number, whole when it
// fits the limit, and reported overlong when it does not.
//
// Input: byte 0 sets the line limit (1 to 256), byte 1 the size of the
// pieces written to the pipe (1 to 256); the rest is the stream.

#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parser.hpp>

#include "fuzz_support.hpp"
#include "line_reader.hpp"
#include "protocol.hpp"

using namespace bus;

namespace {

struct seen {
  std::string line; // empty for an overlong line
  std::size_t number;
  bool overlong;
};

// What line_reader must hand out for `stream` under `max`.
std::vector<seen> expected_lines(std::string_view stream, std::size_t max) {
  std::vector<seen> out;
  std::size_t number = 0;
  while (!stream.empty()) {
    auto nl = stream.find('\n');
    auto piece = stream.substr(0, nl);
    ++number;
    if (piece.size() > max)
      out.push_back({{}, number, true});
    else if (nl != std::string_view::npos || !piece.empty())
      out.push_back({std::string{piece}, number, false});
    if (nl == std::string_view::npos)
      break;
    stream.remove_prefix(nl + 1);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  auto max = static_cast<std::size_t>(data[0]) + 1;
  auto piece = static_cast<std::size_t>(data[1]) + 1;
  auto stream = fuzz::text_of(data + 2, size - 2);
  int fds[2];
  fuzz::require(::pipe(fds) == 0, "a pipe");
  node::line_reader reader{fds[0], max};
  boost::json::parser parser;
  std::vector<seen> got;
  std::vector<node::request> requests;
  auto on_line = [&](std::string_view line, std::size_t number) {
    got.push_back({std::string{line}, number, false});
    parser.reset();
    boost::system::error_code ec;
    parser.write(line.data(), line.size(), ec);
    if (ec)
      return;
    auto value = parser.release();
    if (auto* obj = value.if_object())
      node::parse_request(*obj, requests.emplace_back());
  };
  auto on_overlong = [&](std::size_t number) { got.push_back({{}, number, true}); };
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    auto n = std::min(piece, stream.size() - at);
    fuzz::require(::write(fds[1], stream.data() + at, n) == static_cast<ssize_t>(n),
                  "a write to the pipe");
    fuzz::require(reader.read_block(on_line, on_overlong), "more input to come");
  }
  ::close(fds[1]);
  while (reader.read_block(on_line, on_overlong)) {
    // nop: until the end of input
  }
  ::close(fds[0]);
  auto want = expected_lines(stream, max);
  fuzz::require(got.size() == want.size(), "every line handed out once");
  for (std::size_t i = 0; i < got.size(); ++i)
    fuzz::require(got[i].number == want[i].number && got[i].overlong == want[i].overlong
                    && got[i].line == want[i].line,
                  "each line whole, in order, with its number");
  std::string out;
  for (auto& req : requests)
    if (req.kind == node::request_kind::error)
      node::render_error(out, req, req.code, req.text);
  return 0;
}
