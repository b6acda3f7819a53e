#pragma once

// The JSON-lines protocol of bus-node (seed 000): requests parsed from one
// line each, replies rendered as one line each. Replies use the separators
// ", " and ": " so that bodies read exactly as in the protocol's samples.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "bus/admin/json_style.hpp"
#include "bus/aggregate.hpp"
#include "bus/event.hpp"
#include "bus/read_model.hpp"

namespace bus::node {

/// Error codes of the protocol.
enum class error_code : int {
  /// The body's type is not one the node knows.
  not_supported = 10,
  /// The read model exists but is down (restarting or failed).
  temporarily_unavailable = 11,
  /// A field is missing or of the wrong type.
  malformed_request = 12,
  /// Processing failed; the request may or may not have taken effect.
  crash = 13,
  /// The request failed and is known not to have taken effect (the store
  /// could not commit the batch).
  abort = 14,
  /// No such read model, or no such key in it.
  key_does_not_exist = 20,
  /// The request does not fit the model's state (a blue/green rebuild is
  /// already under way, nothing to roll back or to discard).
  precondition_failed = 22,
  /// A command expected its stream at a version it is no longer at
  /// (optimistic concurrency, docs/commands.md): nothing was appended.
  conflict = 30,
};

enum class request_kind {
  init,
  subscribe,
  unsubscribe,
  event,
  query,
  status,
  pause,
  resume,
  rebuild,
  /// rebuild with "mode": "blue_green"
  blue_green,
  rollback,
  discard,
  /// The dead-letter store: list, retry or discard parked events.
  parked,
  retry_parked,
  discard_parked,
  restart,
  /// Waits until read models have applied up to a seq.
  await_applied,
  /// A command for an aggregate (docs/commands.md).
  command,
  error,
};

/// An await request without timeout_ms waits this long.
inline constexpr std::uint64_t default_await_timeout_ms = 5000;
/// The longest timeout_ms an await request may ask for (one hour).
inline constexpr std::uint64_t max_await_timeout_ms = 3600000;

/// One parsed request line.
struct request {
  request() = default;

  /// A request whose event payload, if any, will live in `payload_storage`
  /// (see request_reader.hpp).
#pragma GCC diagnostic push // the event's other members keep their defaults
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  explicit request(boost::json::storage_ptr payload_storage)
    : ev{{}, {}, boost::json::object(std::move(payload_storage))} {
    // nop
  }
#pragma GCC diagnostic pop

  request_kind kind = request_kind::error;
  std::string src;
  std::string dest;
  /// The body's msg_id as sent (null when missing).
  boost::json::value msg_id;
  /// init
  std::string node_id;
  /// subscribe, unsubscribe
  std::vector<std::string> event_types;
  /// event; `ev.id_derived` tells whether the id was derived.
  event ev;
  /// query, pause, resume, rebuild, blue_green, rollback, discard, restart
  std::string model;
  /// blue_green: the new definition, and whether to answer only once the
  /// shadow has replaced the live model. Behind a pointer, as the command
  /// below: rare, and a chunk holds thousands of requests.
  std::unique_ptr<model_spec> definition;
  bool await_switch = false;
  std::string key;
  /// retry_parked, discard_parked: the seq of one parked event (0: all);
  /// await_applied: the seq to wait for.
  std::uint64_t seq = 0;
  /// await_applied: how long to wait at most.
  std::uint64_t timeout_ms = 0;
  /// command
  std::unique_ptr<bus::command> cmd;
  /// error: the code and text of the error reply to send.
  error_code code = error_code::malformed_request;
  std::string text;
};

/// A chunk of requests, shared (never copied) between threads.
using request_chunk = std::shared_ptr<std::vector<request>>;

/// Turns a parsed JSON object line into `req` (a fresh request); requests
/// that cannot be served become kind `error` with the reply's code and text.
/// Nothing of `req` refers to `line` afterwards: an event's payload is
/// copied into the storage `req.ev.payload` was made with.
void parse_request(boost::json::object& line, request& req);

/// Makes `req` the malformed_request error with `text` (the parsers' one
/// way to refuse a line).
void malformed(request& req, std::string text);

/// Renders a reply line (ending in '\n') to `req`, with `body_fields` already
/// rendered as `"name": value` pairs joined by ", " (may be empty).
void render_reply(std::string& out, const request& req, std::string_view type,
                  std::string_view body_fields);

/// Renders the start of a reply to `req` up to its `in_reply_to` value: the
/// caller appends `, "name": value` fields and then `end_reply`. The same
/// text as render_reply, without a temporary string for the fields.
void begin_reply(std::string& out, const request& req, std::string_view type);

/// Appends the reply to an event: event_skipped (`skipped`), or
/// read_models_updated naming `updated_models` (JSON string literals joined
/// by ", ").
void render_event_reply(std::string& out, const request& req, std::string_view id,
                        bool skipped, std::string_view updated_models);

/// Ends a reply begun with begin_reply.
inline void end_reply(std::string& out) {
  out += "}}\n";
}

/// Appends `"name": "value"` to `out`, after ", " unless `out` is empty.
void render_field(std::string& out, std::string_view name, std::string_view value);

// Strings, keys and JSON values in the protocol's style, shared with the
// admin endpoint.
using admin::max_string_size;
using admin::render_json;
using admin::render_key;
using admin::render_string;
using admin::write_string;

/// Appends a JSON array of strings.
void render_strings(std::string& out, const std::vector<std::string>& xs);

/// Renders an error reply line to `req`.
void render_error(std::string& out, const request& req, error_code code,
                  std::string_view text);

} // namespace bus::node
