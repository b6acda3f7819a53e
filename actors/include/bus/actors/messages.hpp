#pragma once

// The message types that actors exchange, with CAF inspectors so that they
// can cross node boundaries. JSON values travel as their serialized text.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "bus/actors/detail/json_text.hpp"
#include "bus/actors/model_state.hpp"
#include "bus/event.hpp"
#include "bus/event_log.hpp"
#include "bus/event_wire.hpp"
#include "bus/latency_histogram.hpp"
#include "bus/read_model.hpp"

namespace bus {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  std::string payload;
  std::string metadata;
  if constexpr (Inspector::reads_state) {
    payload = bus::detail::json_text(x.payload.object());
    metadata = bus::detail::json_text(x.metadata);
  }
  return f(caf::meta::type_name("bus.event"), x.id, x.type, payload, x.seq, x.timestamp,
           x.schema_version, x.id_derived, metadata,
           caf::meta::load_callback([&]() -> caf::error {
             if (auto err = bus::detail::parse_json_text(payload, x.payload.mutate()))
               return err;
             return bus::detail::parse_json_text(metadata, x.metadata);
           }));
}

// A batch travels in the compact binary form of event_wire.hpp: the bulk of
// what crosses nodes, so it is not JSON text.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  std::string bytes;
  if constexpr (Inspector::reads_state)
    bytes = encode_events(x.begin(), x.end());
  return f(caf::meta::type_name("bus.event_batch"), bytes,
           caf::meta::load_callback([&]() -> caf::error {
             // The payloads stay in the bytes until a model asks.
             auto batch = decode_batch(std::move(bytes));
             if (!batch)
               return std::move(batch.error());
             x = std::move(*batch);
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_timings& x) {
  return f(caf::meta::type_name("bus.store_timings"), x.measured, x.commit, x.fsync);
}

} // namespace bus

namespace bus::actors {

/// When the bus answers a publish.
enum class publish_wait : std::uint8_t {
  /// Once the events are in the log (durable, with a log that syncs at an
  /// interval); the ack's `models` is empty.
  log,
  /// Once every subscribed projector has also applied them (or passed
  /// them); the ack's `models` names the models that applied each event.
  projectors,
};

/// Returns "log" or "projectors".
const char* to_string(publish_wait x) noexcept;

/// Whether the log must keep a publisher's events in the order it sent them
/// when one of its publishes fails to commit (a full disk, say) and later
/// ones, already under way, could commit before its resend.
enum class publish_order : std::uint8_t {
  /// After such a failure the bus refuses the publisher's later publishes
  /// (errc::storage_failed) until one begins with the failed publish's
  /// first event again, after any events the log holds already: its
  /// resend. The default, for a pipelined stream.
  as_sent,
  /// Each publish stands alone: no failure holds up the next. For a
  /// publisher whose publishes do not depend on each other's order (the
  /// command handler: a stream's version orders its commands). Also lifts
  /// a hold an earlier failure put on the publisher.
  any,
};

/// Returns "as_sent" or "any".
const char* to_string(publish_order x) noexcept;

/// When a supervisor answers a blue/green rebuild (shadow_atom).
enum class shadow_wait : std::uint8_t {
  /// At once, with the shadow's status as it starts catching up.
  start,
  /// Once the shadow has caught up and replaced the live projector.
  live,
};

/// Returns "start" or "live".
const char* to_string(shadow_wait x) noexcept;

/// What the bus did with one published event.
struct publish_outcome {
  /// The event's final id (derived ids may have been made unique).
  std::string id;
  /// Its seq; for a duplicate, the seq of the event already in the log.
  std::uint64_t seq = 0;
  /// True when the id was in the log already and nothing was appended.
  bool duplicate = false;
};

/// Which events of a publish one read model applied.
struct model_ack {
  std::string model;
  /// Indexes into the published batch.
  std::vector<std::uint32_t> applied;
};

/// The bus's answer to a publish.
struct publish_ack {
  /// One per published event, in publish order.
  std::vector<publish_outcome> outcomes;
  /// Per projector that was sent the events; filled only when the publisher
  /// asked to wait for the projectors.
  std::vector<model_ack> models;
};

/// A projector's answer to a delivery.
struct delivery_ack {
  /// Every seq up to this one is processed.
  std::uint64_t checkpoint = 0;
  /// Indexes into the delivered batch of the events the read model took.
  std::vector<std::uint32_t> applied;
  /// Indexes of events skipped because they were processed before.
  std::vector<std::uint32_t> skipped;
};

/// A read model's answer to a query.
struct query_result {
  std::string model;
  std::string key;
  boost::json::value value;
};

/// A read model's whole state at a checkpoint.
struct model_snapshot {
  std::string model;
  std::uint64_t checkpoint = 0;
  boost::json::value state;
};

/// What a projector (or its supervisor slot) reports about itself.
struct projector_status {
  std::string model;
  model_state state = model_state::running;
  std::uint64_t checkpoint = 0;
  /// Timestamp of the event at the checkpoint (0 before any).
  std::int64_t checkpoint_timestamp = 0;
  /// Events the read model took (live and replayed).
  std::uint64_t applied = 0;
  /// Events skipped because they were processed before.
  std::uint64_t skipped = 0;
  /// Events of a handled type that the read model ignored.
  std::uint64_t ignored = 0;
  /// Events applied while catching up from the log.
  std::uint64_t replayed = 0;
  /// Rebuilds requested so far.
  std::uint32_t rebuilds = 0;
  /// Restarts so far (filled by the supervisor).
  std::uint32_t restarts = 0;
  /// Why the projector last failed ("" if it never did).
  std::string last_error;
  /// Live; for a blue/green rebuild also the shadow (the new definition
  /// catching up) or the previous one (the projector a switch replaced).
  model_role role = model_role::live;
  /// Events parked as poison (filled by the projector).
  std::uint64_t parked = 0;
  /// When stalled: milliseconds since its checkpoint last moved, as the
  /// supervisor saw it (0 otherwise).
  std::int64_t stalled_ms = 0;
  /// Publish-to-applied latency of the events it applied from live pushes
  /// (not those pulled from the log while catching up): the time of
  /// applying minus the event's timestamp, set when it was appended.
  latency_histogram apply_latency;
  /// Messages waiting in the projector's mailbox when it answered (read by
  /// the projector itself: reading another actor's mailbox is unsafe).
  std::uint64_t mailbox = 0;
  /// Rows of its snapshot or table restored at start: so far while
  /// restoring, then all of them (0 for a model restored whole, or not at
  /// all).
  std::uint64_t restored_rows = 0;
  /// Paused: the checkpoint of the frozen state it answers queries from;
  /// none while it answers none (paused part of the way, or reset since).
  caf::optional<std::uint64_t> frozen_at;
};

/// Where one read model's checkpoint stood when an await_applied was
/// answered: every seq up to `checkpoint` is applied (or passed) by it.
struct model_checkpoint {
  std::string model;
  std::uint64_t checkpoint = 0;
};

/// A read model's parked events (its dead-letter store), after a listing,
/// a retry or a discard.
struct parked_list {
  std::string model;
  /// Events the request retried and applied, or discarded (0 for a
  /// listing); a retried event that failed again is parked again.
  std::uint64_t done = 0;
  /// The events parked now: a JSON array of parked_event objects
  /// (bus/parked_event.hpp), in seq order.
  boost::json::value entries;
};

/// The bus's own status.
struct bus_status {
  /// Seq of the last event (0: empty log).
  std::uint64_t head = 0;
  /// Timestamp of the last event (0: empty log).
  std::int64_t head_timestamp = 0;
  /// Timestamp of the first event (0: empty log): where the lag in time of
  /// a model at checkpoint 0 begins (one that applied nothing yet, or one
  /// on a lost node, whose checkpoint is not known).
  std::int64_t first_timestamp = 0;
  std::uint32_t subscribers = 0;
  /// Events this bus appended to its log since it started (durable ones:
  /// under group commit, once their sync succeeded).
  std::uint64_t appended = 0;
  /// Published events it found in the log already (redeliveries).
  std::uint64_t duplicates = 0;
  /// The store's commit and fsync times (not measured: a log in memory).
  store_timings store;
  /// Messages waiting in the bus's mailbox when it answered (read by the
  /// bus itself).
  std::uint64_t mailbox = 0;
  /// Whether the log takes events: failed after a write or an fsync failed,
  /// until the node restarts (see bus::store_state).
  bus::store_state store_state = bus::store_state::healthy;
  /// Why it failed ("" while healthy).
  std::string store_error;
};

/// A node attached to a bus: its supervisor (a `supervisor_actor`, carried
/// untyped because the bus's interface is declared before the supervisor's)
/// and the read models it serves.
/// A partitioned model a node shares with the other nodes that attach it:
/// its partitions are spread over them (bus/consumer_group.hpp).
struct shared_model {
  std::string model;
  std::uint32_t partitions = 0;
};

/// What the operator wants of one partition of a shared model, as the bus's
/// directory keeps it: its pause moves with it to whichever node runs it.
enum class partition_intent : std::uint8_t {
  /// Runs: never paused, or resumed.
  run,
  /// Paused: a node that takes it over replays it up to `frozen_at` and
  /// holds it there.
  pause,
};

/// Returns "run" or "pause".
const char* to_string(partition_intent x) noexcept;

/// The pause of partition `partition` of a shared model.
struct partition_pause {
  std::uint32_t partition = 0;
  partition_intent intent = partition_intent::run;
  /// Paused: the checkpoint of the frozen state it answered queries from
  /// when paused; none when it answered nothing then (it was catching up).
  caf::optional<std::uint64_t> frozen_at;
};

struct node_entry {
  std::string node;
  /// Null once the node is lost (its models are then "away").
  caf::actor supervisor;
  /// What it serves now: whole models, and the partitions assigned to it
  /// of the models it shares ("orders#2").
  std::vector<std::string> models;
  /// The models it shares with other nodes.
  std::vector<shared_model> shared;
};

/// What a connector (connector.hpp) reports about its link to the bus.
struct link_status {
  bool connected = false;
  /// Successful connections so far (reconnections included).
  std::uint32_t connections = 0;
  /// Failed dials since the last connection.
  std::uint32_t failed_attempts = 0;
  std::string last_error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_status& x) {
  return f(caf::meta::type_name("bus.link_status"), x.connected, x.connections,
           x.failed_attempts, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_model& x) {
  return f(caf::meta::type_name("bus.shared_model"), x.model, x.partitions);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_pause& x) {
  return f(caf::meta::type_name("bus.partition_pause"), x.partition, x.intent,
           x.frozen_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_entry& x) {
  return f(caf::meta::type_name("bus.node_entry"), x.node, x.supervisor, x.models,
           x.shared);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_status& x) {
  return f(caf::meta::type_name("bus.bus_status"), x.head, x.head_timestamp,
           x.first_timestamp, x.subscribers, x.appended, x.duplicates, x.store,
           x.mailbox, x.store_state, x.store_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_outcome& x) {
  return f(caf::meta::type_name("bus.publish_outcome"), x.id, x.seq, x.duplicate);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_ack& x) {
  return f(caf::meta::type_name("bus.model_ack"), x.model, x.applied);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, publish_ack& x) {
  return f(caf::meta::type_name("bus.publish_ack"), x.outcomes, x.models);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery_ack& x) {
  return f(caf::meta::type_name("bus.delivery_ack"), x.checkpoint, x.applied,
           x.skipped);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_result& x) {
  std::string value;
  if constexpr (Inspector::reads_state)
    value = bus::detail::json_text(x.value);
  return f(caf::meta::type_name("bus.query_result"), x.model, x.key, value,
           caf::meta::load_callback([&]() -> caf::error {
             return bus::detail::parse_json_text(value, x.value);
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_snapshot& x) {
  std::string state;
  if constexpr (Inspector::reads_state)
    state = bus::detail::json_text(x.state);
  return f(caf::meta::type_name("bus.model_snapshot"), x.model, x.checkpoint, state,
           caf::meta::load_callback([&]() -> caf::error {
             return bus::detail::parse_json_text(state, x.state);
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, projector_status& x) {
  return f(caf::meta::type_name("bus.projector_status"), x.model, x.state, x.checkpoint,
           x.checkpoint_timestamp, x.applied, x.skipped, x.ignored, x.replayed,
           x.rebuilds, x.restarts, x.last_error, x.role, x.parked, x.stalled_ms,
           x.apply_latency, x.mailbox, x.restored_rows, x.frozen_at);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, model_checkpoint& x) {
  return f(caf::meta::type_name("bus.model_checkpoint"), x.model, x.checkpoint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parked_list& x) {
  std::string entries;
  if constexpr (Inspector::reads_state)
    entries = bus::detail::json_text(x.entries);
  return f(caf::meta::type_name("bus.parked_list"), x.model, x.done, entries,
           caf::meta::load_callback([&]() -> caf::error {
             return bus::detail::parse_json_text(entries, x.entries);
           }));
}

} // namespace bus::actors

// A model_spec holds a factory: it travels between local actors only (a
// blue/green rebuild starts with one), never across nodes.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(bus::model_spec)
