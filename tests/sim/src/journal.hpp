#pragma once

// What the simulator records while actors run: a logical clock, every
// apply of every model instance, injected throws, publish acknowledgements
// and violations found on the spot (a double apply is seen when it
// happens). Shared by the recording models, the clients and the checks; one
// thread (the test coordinator's) touches it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

#include "bus/actors/messages.hpp"
#include "bus/errc.hpp"
#include "bus/partitions.hpp"
#include "bus/sim/simulator.hpp"

namespace bus::sim {

/// Decides when a model's apply throws: on the first event it applies with
/// a seq at or past `from`, then on that same seq in every later instance
/// while `remaining` allows (-1: always, a poison event).
struct poison_plan {
  std::uint64_t from = 0;
  std::uint64_t pinned = 0;
  int remaining = 0;
};

/// One apply that a model took (apply returned true).
struct take {
  std::uint64_t seq;
  std::uint64_t at; // logical time
};

struct model_record {
  /// Takes per seq, across instances (for the acknowledgement check). A
  /// retry of a parked event is not among them: it comes after the event's
  /// publish was answered without it, rightly.
  std::map<std::uint64_t, std::vector<std::uint64_t>> took_at;
  /// Takes by an operator's retry of parked events, per seq.
  std::map<std::uint64_t, std::vector<std::uint64_t>> retried_at;
  /// Seqs the model's apply threw on (a failed attempt), across instances.
  std::set<std::uint64_t> threw;
  poison_plan poison;
  /// Logical time of the last event that makes acks of this model
  /// legitimately partial (pause, rebuild, throw, node loss, ...).
  std::uint64_t disturbed_at = 0;
  /// Every such time, in order: a take after the first one following a
  /// publish belongs to another history (a new incarnation replaying the
  /// log, a retry), not to that publish.
  std::vector<std::uint64_t> disturbances;
  /// Logical time from which the model was seen running since then.
  std::uint64_t stable_since = 0;
  std::uint64_t instances = 0;
};

/// A publish sent by a client: what it asked and what it got.
struct publish_record {
  std::size_t number = 0;
  std::vector<event> events;
  bool await = false;
  std::uint64_t sent_at = 0;
  std::optional<actors::publish_ack> ack;
  std::uint64_t acked_at = 0;
  bool failed = false;
  std::optional<caf::error> error;
  /// Models steady from before the publish until its ack (set at the ack).
  std::vector<std::string> steady;
};

/// A query the scenario sent to a model's supervisor after an awaited
/// publish's ack named the model (runner_query.cpp).
struct query_record {
  std::string model;
  std::string key;
  /// The publish whose ack named the model, and when the ack came.
  std::size_t publish = 0;
  std::uint64_t acked_at = 0;
  std::uint64_t sent_at = 0;
  /// The scenario had paused the model when the query was sent.
  bool paused = false;
  /// Set by world::step when a projector of the model takes the query from
  /// its mailbox: the seqs its model had applied then, in the order
  /// applied (the state the answer comes from), and its role.
  bool reached = false;
  std::vector<std::uint64_t> applied;
  /// The answer (none: the key is absent), or the error.
  bool answered = false;
  std::uint64_t replied_at = 0;
  std::optional<boost::json::value> value;
  std::optional<caf::error> error;
  bool checked = false;
};

struct journal {
  std::uint64_t clock = 0;
  std::map<std::string, model_record> models;
  std::vector<publish_record> publishes;
  /// Violations seen while actors ran.
  std::vector<violation> found;
  /// Set while a projector handles an operator's retry of parked events
  /// (world::step): its applies may go back in seq order.
  bool retrying = false;
  /// Replies to lifecycle requests still awaited.
  std::size_t open_requests = 0;
  /// Logical time of the last crash of the bus or the node: a request sent
  /// before it may time out legitimately.
  std::uint64_t crashed_at = 0;
  /// Requests that timed out with nothing crashed since they were sent.
  std::vector<std::string> unanswered;
  /// Queries sent, at most one per model outstanding.
  std::vector<query_record> queries;
  /// Events of publishes the store failed to commit (or refused behind
  /// such a failure): the client resends them, as error 14 invites.
  std::vector<event> resend;
  /// Ids of events whose publish failed otherwise: the client gave them up,
  /// so where a later redelivery puts them says nothing of its order.
  std::set<std::string> abandoned;

  /// Records a request that failed; a timeout is a hang unless a crash
  /// came after it was sent.
  /// A publish failed: its events are resent after a failed commit (the
  /// client keeps them for that), given up otherwise. A crash after it was
  /// sent puts them out of the order check: a bus that crashed answers
  /// nothing (here, a killed bus answers later, from its fenced log), and
  /// the new bus may have taken publishes sent after them meanwhile.
  void publish_failed(const publish_record& p) {
    auto commit_failed = p.error && code_of(*p.error) == errc::storage_failed;
    if (commit_failed)
      resend.insert(resend.end(), p.events.begin(), p.events.end());
    if (!commit_failed || crashed_at > p.sent_at)
      for (auto& e : p.events)
        abandoned.insert(e.id);
  }

  void request_failed(const caf::error& err, std::uint64_t sent_at,
                      const std::string& what) {
    if (err == caf::sec::request_timeout && crashed_at < sent_at)
      unanswered.push_back(what);
  }

  std::uint64_t tick() { return ++clock; }

  void disturb(const std::string& model) {
    // A partition's disturbance is its model's: queries and acks name it.
    auto& m = models[std::string{model_of(model)}];
    m.disturbed_at = tick();
    m.disturbances.push_back(m.disturbed_at);
    m.stable_since = 0;
  }

  void disturb_all() {
    for (auto& [name, m] : models) {
      m.disturbed_at = tick();
      m.disturbances.push_back(m.disturbed_at);
      m.stable_since = 0;
    }
  }
};

using journal_ptr = std::shared_ptr<journal>;

} // namespace bus::sim
