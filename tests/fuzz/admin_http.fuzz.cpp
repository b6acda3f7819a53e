// The admin endpoint's request path without the network: bytes through
// Beast's request parser under the server's limits (http_server.cpp), then
// the method and target through route_request and its query-string and
// %-decoding. Every outcome is a route or an error answer with a 4xx
// status and a JSON body; nothing crashes.

#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include "bus/admin/routes.hpp"
#include "bus/admin/server.hpp"
#include "fuzz_support.hpp"

using namespace bus;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  admin::admin_options limits;
  http::request_parser<http::string_body> parser;
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  boost::beast::error_code ec;
  auto text = fuzz::text_of(data, size);
  while (!text.empty() && !ec && !parser.is_done()) {
    auto used = parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (used == 0)
        break;
    }
    text.remove_prefix(used);
  }
  // The end of the stream, as the server's read sees it; before any byte,
  // Beast's put_eof asserts (the server's read reports end_of_stream then).
  if (!ec && !parser.is_done() && parser.got_some())
    parser.put_eof(ec);
  if (ec || !parser.is_done())
    return 0; // the server answers 400, 413 or 431, or closes
  auto& req = parser.get();
  auto routed = admin::route_request(req.method_string(), req.target());
  if (auto* a = std::get_if<admin::answer>(&routed)) {
    fuzz::require(a->status >= 400 && a->status < 500, "a refused request is a 4xx");
    boost::system::error_code json_ec;
    (void) boost::json::parse(a->body, json_ec);
    fuzz::require(!json_ec, "an error body is JSON");
  }
  return 0;
}
