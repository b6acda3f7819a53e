#pragma once

// The JSON bodies of the admin endpoint (docs/admin-api.md), rendered from
// what the actors answer; /status and /health have their own headers.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "bus/actors/messages.hpp"
#include "bus/event.hpp"
#include "bus/leadership.hpp"

namespace bus::admin {

/// Which kind of node serves the endpoint (`node` in /status).
enum class node_kind { bus, projector };

/// "bus" or "projector".
const char* to_string(node_kind x) noexcept;

/// GET /status: `{"node": ..., "head": ..., "read_models": [...]}`; a bus
/// node leading a log by lease (`lead`) adds `"lease": {...}`.
std::string render_status(node_kind node, const actors::bus_status& bus,
                          const std::vector<actors::projector_status>& models,
                          const std::optional<leadership>& lead = std::nullopt);

/// GET /events takes events into a page until the next one would bring it
/// past this many bytes (1 MiB); a larger event comes alone in its page.
constexpr std::size_t max_events_page_bytes = std::size_t{1} << 20;

/// GET /events: a page of events from `from`, filled one event at a time
/// until the next one would bring its body past max_events_page_bytes, so
/// that its filler can ask the log for about what still fits.
class events_page {
public:
  explicit events_page(std::uint64_t from) noexcept : from_(from), next_(from) {
    // nop
  }

  /// Takes `e`, the event at next(), into the page. Returns false, leaving
  /// it out and the page full, when it would bring the body past the cap
  /// (the first event always fits).
  bool add(const event& e);

  /// Whether an event was left out for want of room.
  bool full() const noexcept { return full_; }

  /// Events taken so far.
  std::size_t size() const noexcept { return size_; }

  /// How many more events of the average size taken so far would fit (at
  /// least one, to tell that the page is full).
  std::size_t room_for() const noexcept;

  /// The seq after the last event taken (`from` before the first).
  std::uint64_t next() const noexcept { return next_; }

  /// The body, with the log's head as read after the page.
  std::string render(std::uint64_t head) const;

private:
  std::uint64_t from_;
  std::uint64_t next_;
  std::size_t size_ = 0;
  bool full_ = false;
  std::string list_;
};

/// GET /events: the page of `events` asked from `from`, with the log's head
/// and the `from` of the next page (the seq after the last event, or
/// `from` itself when there is none yet).
std::string render_events(std::uint64_t from, std::uint64_t head,
                          const event_batch& events);

/// One logged event: the protocol's event object plus seq and timestamp_ms.
std::string render_event(const event& e);

/// GET /models/{name}/parked (`with_done` false) and the retry and discard
/// answers (`with_done` true): each entry gains the event's seq.
std::string render_parked(const actors::parked_list& xs, bool with_done);

/// A lifecycle answer: `{"model": ..., "state": ...}`.
std::string render_lifecycle(const actors::projector_status& s);

} // namespace bus::admin
