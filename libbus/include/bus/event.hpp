#pragma once

// The event: the unit that the log stores and the bus fans out. Events are
// immutable once appended; the log shares them with every reader through
// event_batch, so a fan-out to N projectors copies nothing.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "bus/event_payload.hpp"

namespace bus {

/// One domain event.
struct event {
  /// Unique id; the log appends an id at most once.
  std::string id;
  /// Event type, e.g. "UserCreated"; subscriptions and read models key on it.
  std::string type;
  /// Domain data: an object, possibly still in the record it was read from.
  event_payload payload;
  /// Dense sequence number given by the log, from 1; 0 before append.
  std::uint64_t seq = 0;
  /// Nanoseconds since the Unix epoch, set by the log at append when 0.
  std::int64_t timestamp = 0;
  /// Version of the payload's schema, for upcasting old events.
  std::uint32_t schema_version = 1;
  /// True when the publisher derived `id` from the content rather than being
  /// given one: the log may then suffix it to keep it unique (see event_id.hpp).
  bool id_derived = false;
  /// Free-form metadata (correlation ids, causation ids, ...).
  boost::json::object metadata;
};

/// Storage of a batch, shared by the log and every reader.
using shared_events = std::shared_ptr<const std::vector<event>>;

/// Shares `events` together with `keep`, which owns the record bytes their
/// encoded payloads view: the bytes live until the last reader is done.
shared_events share_events(std::vector<event> events, std::shared_ptr<const void> keep);

/// A read-only view of consecutive events in `seq` order that shares
/// ownership of its storage. Copying a batch copies a pointer.
class event_batch {
public:
  using value_type = event;

  event_batch() = default;

  /// Views all of `storage`.
  explicit event_batch(shared_events storage);

  /// Views `storage[first, last)`.
  event_batch(shared_events storage, std::size_t first, std::size_t last);

  /// Makes a batch that owns `events`.
  static event_batch of(std::vector<event> events);

  /// Makes a batch that owns `events` and `keep` (see share_events).
  static event_batch of(std::vector<event> events, std::shared_ptr<const void> keep);

  const event* begin() const noexcept { return data() + first_; }
  const event* end() const noexcept { return data() + last_; }
  std::size_t size() const noexcept { return last_ - first_; }
  bool empty() const noexcept { return first_ == last_; }
  const event& operator[](std::size_t i) const { return data()[first_ + i]; }
  const event& front() const { return (*this)[0]; }
  const event& back() const { return (*this)[size() - 1]; }

  /// Returns the seq of the first event, or 0 when empty.
  std::uint64_t first_seq() const noexcept;

  /// Returns the seq of the last event, or 0 when empty.
  std::uint64_t last_seq() const noexcept;

  /// Returns the batch's storage (for serializers).
  const shared_events& storage() const noexcept { return storage_; }

private:
  const event* data() const noexcept { return storage_ ? storage_->data() : nullptr; }

  shared_events storage_;
  std::size_t first_ = 0;
  std::size_t last_ = 0;
};

} // namespace bus
