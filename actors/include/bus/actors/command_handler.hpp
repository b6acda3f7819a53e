#pragma once

// The command handler: the write side's actor (docs/commands.md). It owns a
// stream_store, rebuilt from the bus's log when it starts, and turns each
// command into events appended through the bus, so that they reach the
// read models like any publish.
//
// Optimistic concurrency: a command carries the stream version its sender
// decided on. The handler runs one command per stream at a time; the
// others for that stream wait, and each is checked against the version the
// stream has once the one before it is answered. Of two commands that
// expect the same version, exactly one is appended; the other is answered
// with errc::version_conflict. The events' ids ("stream@version") make the
// log itself refuse a second write of a stream version, should another
// writer try.
//
// Local to the bus's node: its messages do not cross nodes.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "bus/actors/atoms.hpp"
#include "bus/actors/interfaces.hpp"
#include "bus/actors/messages.hpp"
#include "bus/aggregate.hpp"
#include "bus/stream_store.hpp"

namespace bus {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  std::string data;
  if constexpr (Inspector::reads_state)
    data = bus::detail::json_text(x.data);
  return f(caf::meta::type_name("bus.command"), x.name, x.stream, x.expected_version,
           data, caf::meta::load_callback([&]() -> caf::error {
             return bus::detail::parse_json_text(data, x.data);
           }));
}

} // namespace bus

namespace bus::actors {

/// The answer to a command that was taken.
struct command_ack {
  std::string stream;
  /// The stream's version after the command.
  std::uint64_t version = 0;
  /// The events appended (with their seqs), in stream order; none when the
  /// command changed nothing.
  std::vector<event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_ack& x) {
  return f(caf::meta::type_name("bus.command_ack"), x.stream, x.version, x.events);
}

/// The command handler's interface.
using command_handler_actor = caf::typed_actor<
  // Validates and runs a command; answered once its events are appended
  // (and applied, see command_handler_options::wait), or with the error:
  // errc::version_conflict, errc::command_rejected, errc::unknown_command,
  // errc::apply_failed, or the bus's error (nothing appended).
  caf::replies_to<command_atom, command>::with<command_ack>,
  // Answered with the number of streams once the handler has read the log
  // up to its head at start (commands sent earlier wait for that).
  caf::replies_to<ready_atom>::with<std::uint64_t>>;

/// Tuning of the command handler.
struct command_handler_options {
  /// When a command is answered: once its events are in the log, or once
  /// the read models have applied them too (a query sent after the answer
  /// then sees them).
  publish_wait wait = publish_wait::log;
  /// Publishes under way at once (commands on different streams); more
  /// wait, decided, for one to be answered. At most the bus's
  /// max_publishes_in_flight, or the bus refuses the excess.
  std::uint32_t max_publishes_in_flight = 16;
  /// Events per replay request while reading the log at start.
  std::uint32_t replay_batch = 4096;
};

/// Spawns a command handler on `bus` that runs the aggregates of `store`.
command_handler_actor spawn_command_handler(caf::actor_system& sys, bus_actor bus,
                                            stream_store store,
                                            command_handler_options options = {});

} // namespace bus::actors
