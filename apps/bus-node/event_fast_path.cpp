#include "event_fast_path.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "bus/event_id.hpp"
#include "bus/plain_json.hpp"

namespace bus::node {

namespace {

// Reads the members of an object (after whitespace) whose keys are all
// among `names`, handing each key's index to `field`, which reads the
// value; false on another key, a syntax error, or when `field` refuses.
template <std::size_t N, class Field>
bool members(plain_json_reader& in, const std::string_view (&names)[N], Field&& field) {
  if (!in.consume('{'))
    return false;
  if (in.consume('}'))
    return true;
  do {
    std::size_t key = 0;
    if (!in.known_key(names, key) || !field(key))
      return false;
  } while (in.consume(','));
  return in.consume('}');
}

// The fields of the three levels of an event line, each taken once.
enum field_bit : unsigned {
  src_bit = 1u << 0,
  dest_bit = 1u << 1,
  body_bit = 1u << 2,
  body_type_bit = 1u << 3,
  msg_id_bit = 1u << 4,
  event_bit = 1u << 5,
  event_type_bit = 1u << 6,
  event_id_bit = 1u << 7,
  payload_bit = 1u << 8,
};

constexpr unsigned required_fields = src_bit | dest_bit | body_bit | body_type_bit
                                     | msg_id_bit | event_bit | event_type_bit
                                     | payload_bit;

// Whether `key` is `name`, compared at a length known when compiled.
template <std::size_t N>
bool is(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// Sets `s` to `x` (not a part of `s`). libstdc++'s assign takes the
// general replace path, with its checks for overlap, at about twice the
// cost of an append to the cleared string.
void set_text(std::string& s, std::string_view x) {
  s.clear();
  s.append(x.data(), x.size());
}

} // namespace

struct event_fast_path::impl {
  plain_json_reader reader;
};

event_fast_path::event_fast_path() : impl_(std::make_unique<impl>()) {
  // nop
}

event_fast_path::~event_fast_path() {
  // nop
}

bool event_fast_path::parse(std::string_view line, request& req,
                            const boost::json::storage_ptr& arena) {
  auto& in = impl_->reader;
  in.reset(line);
  unsigned seen = 0;
  auto first = [&seen](field_bit bit) {
    if ((seen & bit) != 0)
      return false; // Boost.JSON keeps the last of a key's values
    seen |= bit;
    return true;
  };
  std::string_view src;
  std::string_view dest;
  std::string_view type;
  plain_integer msg_id;
  std::string_view ev_type;
  std::string_view ev_id;
  // "event": {"type": "...", "id": "..." (optional), "payload": {...}}
  static constexpr std::string_view event_keys[] = {"type", "id", "payload"};
  auto event_field = [&](std::size_t key) {
    switch (key) {
      case 0:
        return first(event_type_bit) && in.string(ev_type);
      case 1:
        return first(event_id_bit) && in.string(ev_id);
      default:
        return first(payload_bit) && in.object_record();
    }
  };
  // "body": {"type": "event", "msg_id": integer, "event": {...}}
  static constexpr std::string_view body_keys[] = {"type", "msg_id", "event"};
  auto body_field = [&](std::size_t key) {
    switch (key) {
      case 0:
        return first(body_type_bit) && in.string(type);
      case 1:
        return first(msg_id_bit) && in.integer(msg_id);
      default:
        return first(event_bit) && members(in, event_keys, event_field);
    }
  };
  // {"src": "...", "dest": "...", "body": {...}}, in any order
  static constexpr std::string_view line_keys[] = {"src", "dest", "body"};
  auto line_field = [&](std::size_t key) {
    switch (key) {
      case 0:
        return first(src_bit) && in.string(src);
      case 1:
        return first(dest_bit) && in.string(dest);
      default:
        return first(body_bit) && members(in, body_keys, body_field);
    }
  };
  if (!members(in, line_keys, line_field) || !in.at_end()
      || (seen & required_fields) != required_fields || !is(type, "event")
      || ev_type.empty() || ((seen & event_id_bit) != 0 && ev_id.empty()))
    return false;
  // The payload goes straight into its record form, in the chunk's arena:
  // no Boost.JSON object is built, the log stores these bytes as they are,
  // and the models read the fields they need from them.
  auto bytes = in.record();
  auto* stored = static_cast<char*>(arena->allocate(bytes.size(), 1));
  std::memcpy(stored, bytes.data(), bytes.size());
  // Integers only: every number is finite.
  auto encoded = event_payload::encoded(std::string_view{stored, bytes.size()}, arena,
                                        payload_numbers::finite);
  if ((seen & event_id_bit) != 0) {
    set_text(req.ev.id, ev_id);
  } else if (auto derived = derive_event_id(encoded)) {
    req.ev.id = std::move(*derived);
    req.ev.id_derived = true;
  } else {
    return false; // `req` still fresh
  }
  // Its object now in the heap's storage, not the arena's: moving the
  // event on counts no reference on the arena (event_payload's move).
  req.ev.payload = std::move(encoded);
  req.kind = request_kind::event;
  set_text(req.src, src);
  set_text(req.dest, dest);
  if (msg_id.type == plain_integer::kind::int64)
    req.msg_id = msg_id.as_int64();
  else
    req.msg_id = msg_id.bits;
  set_text(req.ev.type, ev_type);
  return true;
}

} // namespace bus::node
