// The node's request decoder: one line of JSON text as bus-node parses it
// (boost::json::parser with its default options, then parse_request), and
// the reply rendered for it. Properties: a request that parses as an event
// has a non-empty type and id, its payload renders as JSON again (as query
// answers and the stores write it) and its record (as the store and the
// wire keep it) decodes back to the same event; every reply is one line of
// JSON. The node's fast path (event_fast_path.hpp, plain_json.hpp) sees the same
// line: when it takes it, it must give exactly what the Boost.JSON path
// gives (differential: the two parsers must agree on every line it takes),
// and the payload it writes in record form is the record of that object.

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "bus/event_id.hpp"
#include "event_fast_path.hpp"
#include "fuzz_support.hpp"
#include "internal/event_record.hpp"
#include "protocol.hpp"

using namespace bus;

namespace {

void check_reply(const std::string& line) {
  fuzz::require(!line.empty() && line.back() == '\n'
                  && line.find('\n') == line.size() - 1,
                "a reply is one line");
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  fuzz::require(!ec && v.is_object(), "a reply is a JSON object");
}

void check_event_round_trip(const event& e) {
  fuzz::require(!e.type.empty() && !e.id.empty(), "an event has a type and an id");
  (void) content_fingerprint(e.type, e.payload);
  for (auto& text : {boost::json::serialize(e.payload), [&] {
                       std::string out;
                       node::render_json(out, e.payload.object());
                       return out;
                     }()}) {
    boost::system::error_code ec;
    (void) boost::json::parse(text, ec);
    fuzz::require(!ec, "a payload renders as JSON");
  }
  std::string record;
  internal::encode_event(e, record);
  internal::record_cursor cursor{record.data(), record.size()};
  event back;
  internal::decode_event(cursor.next(), 1, back);
  fuzz::require(cursor.at_end(), "one record");
  fuzz::require(back.id == e.id && back.type == e.type && back.payload == e.payload
                  && back.metadata == e.metadata && back.id_derived == e.id_derived
                  && back.schema_version == e.schema_version,
                "an event's record decodes to the event");
}

// The fast path's request equals the one parse_request made.
void check_fast_path(const node::request& fast, const node::request& slow) {
  fuzz::require(slow.kind == node::request_kind::event,
                "the fast path takes only events");
  fuzz::require(fast.kind == slow.kind && fast.src == slow.src && fast.dest == slow.dest
                  && fast.msg_id == slow.msg_id,
                "the fast path reads the envelope as Boost.JSON does");
  fuzz::require(fast.ev.id == slow.ev.id && fast.ev.type == slow.ev.type
                  && fast.ev.payload == slow.ev.payload
                  && fast.ev.metadata == slow.ev.metadata
                  && fast.ev.schema_version == slow.ev.schema_version
                  && fast.ev.id_derived == slow.ev.id_derived,
                "the fast path reads the event as Boost.JSON does");
  // Key order too: replies and stores write the payload as it came.
  fuzz::require(boost::json::serialize(fast.ev.payload)
                  == boost::json::serialize(slow.ev.payload),
                "the fast path keeps the payload's key order");
  // The fast path writes the payload in its record form, which the logs
  // then store as it is: it must be the record of the same object.
  std::string fast_record;
  std::string slow_record;
  internal::encode_event(fast.ev, fast_record);
  internal::encode_event(slow.ev, slow_record);
  fuzz::require(!fast.ev.payload.encoded_bytes().empty() && fast_record == slow_record,
                "the fast path's payload is the record the log writes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  static node::event_fast_path fast_path;
  // As bus-node's reader: a fresh request, and the chunk's arena apart.
  node::request fast;
  auto took = fast_path.parse(
    text, fast, boost::json::make_shared_resource<boost::json::monotonic_resource>());
  boost::json::parser parser;
  boost::system::error_code ec;
  parser.write(text.data(), text.size(), ec); // as bus-node: the whole line
  fuzz::require(!(took && ec), "the fast path takes only JSON");
  if (ec)
    return 0;
  auto value = parser.release();
  auto* obj = value.if_object();
  fuzz::require(!took || obj != nullptr, "the fast path takes only objects");
  if (obj == nullptr)
    return 0;
  node::request req;
  node::parse_request(*obj, req);
  if (took)
    check_fast_path(fast, req);
  std::string line;
  if (req.kind == node::request_kind::error) {
    fuzz::require(!req.text.empty(), "an error names what is wrong");
    node::render_error(line, req, req.code, req.text);
  } else {
    std::string fields;
    node::render_field(fields, "model", req.model);
    node::render_field(fields, "key", req.key);
    if (!req.event_types.empty()) {
      fields += ", ";
      node::render_key(fields, "event_types");
      node::render_strings(fields, req.event_types);
    }
    node::render_reply(line, req, "ok", fields);
  }
  check_reply(line);
  if (req.kind == node::request_kind::event)
    check_event_round_trip(req.ev);
  if (req.kind == node::request_kind::blue_green) {
    fuzz::require(req.definition != nullptr, "a blue_green request has its definition");
    auto model = req.definition->make(); // what the shadow will run
    fuzz::require(model != nullptr && model->name() == req.model,
                  "a definition makes the model it names");
    (void) model->definition();
  }
  return 0;
}
