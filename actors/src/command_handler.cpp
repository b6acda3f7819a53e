#include "bus/actors/command_handler.hpp"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/log.hpp"

namespace bus::actors {

namespace {

/// Where the handler stands.
enum class handler_phase : std::uint8_t {
  /// Reading the log from seq 1 to its head: commands wait.
  reading_log,
  /// Knows every stream's version: runs commands.
  serving,
};

struct queued_command {
  command cmd;
  caf::typed_response_promise<command_ack> promise;
};

struct command_handler_state {
  command_handler_state() = default; // see caf-notes: C++20 handle check

  bus_actor bus;
  std::optional<stream_store> store;
  command_handler_options options;
  handler_phase phase = handler_phase::reading_log;
  /// Commands that came while reading the log, in arrival order.
  std::deque<queued_command> early;
  /// Ready requests that came while reading the log.
  std::vector<caf::typed_response_promise<std::uint64_t>> ready_waiters;
  /// Streams with a command under way, each with the commands that wait
  /// for it in arrival order.
  std::unordered_map<std::string, std::deque<queued_command>> busy;
  /// Publishes sent and not yet answered.
  std::uint32_t publishing = 0;
  /// Commands decided while `publishing` was at its limit, in order. Their
  /// streams count as busy, so their decisions stay valid while they wait.
  std::deque<std::pair<std::shared_ptr<queued_command>, std::vector<event>>> held;

  static inline const char* name = "command_handler";
};

using handler_self = command_handler_actor::stateful_pointer<command_handler_state>;

std::int64_t now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

void run(handler_self self, queued_command q);

// The command under way on `stream` is answered: the next one waiting for
// the stream runs (and those behind it wait for that one).
void finish(handler_self self, const std::string& stream) {
  auto i = self->state.busy.find(stream);
  if (i == self->state.busy.end())
    return;
  auto waiting = std::move(i->second);
  self->state.busy.erase(i);
  for (auto& q : waiting)
    run(self, std::move(q));
}

void appended(handler_self self, queued_command& q, std::vector<event>& events,
              const publish_ack& ack) {
  auto& st = self->state;
  std::optional<std::size_t> taken; // the first version the log held already
  for (std::size_t j = 0; j < events.size() && j < ack.outcomes.size(); ++j) {
    if (ack.outcomes[j].duplicate) {
      taken = taken.value_or(j);
      continue;
    }
    events[j].seq = ack.outcomes[j].seq;
    st.store->observe(events[j]);
  }
  if (taken) {
    // Another writer appended this stream version first (the ids are per
    // version, so the log refused ours): a conflict, never a silent append.
    q.promise.deliver(
      make_error(errc::version_conflict,
                 "stream '" + q.cmd.stream + "': expected version "
                   + std::to_string(q.cmd.expected_version) + ", but version "
                   + std::to_string(q.cmd.expected_version + *taken + 1)
                   + " is in the log already (written by another writer)"));
    return;
  }
  q.promise.deliver(
    command_ack{q.cmd.stream, st.store->version(q.cmd.stream), std::move(events)});
}

void publish(handler_self self, std::shared_ptr<queued_command> q,
             std::vector<event> events);

// A publish is answered: a held command may go, then the next command of
// the stream runs.
void published(handler_self self, const std::string& stream) {
  auto& st = self->state;
  --st.publishing;
  while (st.publishing < st.options.max_publishes_in_flight && !st.held.empty()) {
    auto next = std::move(st.held.front());
    st.held.pop_front();
    publish(self, std::move(next.first), std::move(next.second));
  }
  finish(self, stream);
}

void publish(handler_self self, std::shared_ptr<queued_command> q,
             std::vector<event> events) {
  auto& st = self->state;
  ++st.publishing;
  auto to_publish = events;
  // publish_order::any: a stream's versions order its commands, and a
  // failed commit on one stream must not hold up the others' until a
  // client resends it.
  self
    ->request(st.bus, caf::infinite, publish_atom::value, std::move(to_publish),
              st.options.wait, publish_order::any)
    .then(
      [self, q, events = std::move(events)](publish_ack& ack) mutable {
        appended(self, *q, events, ack);
        published(self, q->cmd.stream);
      },
      [self, q](caf::error& err) {
        // Nothing acknowledged: the stream keeps its version.
        q->promise.deliver(err);
        published(self, q->cmd.stream);
      });
}

void run(handler_self self, queued_command q) {
  auto& st = self->state;
  if (st.phase == handler_phase::reading_log) {
    st.early.push_back(std::move(q));
    return;
  }
  if (auto i = st.busy.find(q.cmd.stream); i != st.busy.end()) {
    i->second.push_back(std::move(q));
    return;
  }
  auto events = st.store->decide(q.cmd);
  if (!events) {
    q.promise.deliver(std::move(events.error()));
    return;
  }
  if (events->empty()) {
    q.promise.deliver(command_ack{q.cmd.stream, st.store->version(q.cmd.stream), {}});
    return;
  }
  auto stamp = now_ns();
  for (auto& e : *events)
    e.timestamp = stamp;
  st.busy.emplace(q.cmd.stream, std::deque<queued_command>{});
  auto shared = std::make_shared<queued_command>(std::move(q));
  if (st.publishing >= st.options.max_publishes_in_flight)
    st.held.emplace_back(std::move(shared), std::move(*events));
  else
    publish(self, std::move(shared), std::move(*events));
}

void serve(handler_self self) {
  auto& st = self->state;
  st.phase = handler_phase::serving;
  BUS_LOG(log_level::debug, "command_handler",
          "read the log: " << st.store->streams() << " streams");
  for (auto& p : st.ready_waiters)
    p.deliver(static_cast<std::uint64_t>(st.store->streams()));
  st.ready_waiters.clear();
  auto early = std::move(st.early);
  st.early.clear();
  for (auto& q : early)
    run(self, std::move(q));
}

// Reads the log from `from` to its head into the store.
void read_log(handler_self self, std::uint64_t from) {
  auto& st = self->state;
  self
    ->request(st.bus, caf::infinite, replay_atom::value, from, st.options.replay_batch)
    .then(
      [self](event_batch& batch) {
        if (batch.empty())
          return serve(self);
        for (auto& e : batch)
          self->state.store->observe(e);
        read_log(self, batch.last_seq() + 1);
      },
      [self](caf::error& err) {
        // Without the log the versions are unknown: no command may run.
        BUS_LOG(log_level::error, "command_handler",
                "cannot read the log: " << caf::to_string(err));
        self->quit(err);
      });
}

command_handler_actor::behavior_type
command_handler_impl(handler_self self, bus_actor bus, stream_store store,
                     command_handler_options options) {
  auto& st = self->state;
  st.bus = std::move(bus);
  st.store.emplace(std::move(store));
  st.options = options;
  if (st.options.max_publishes_in_flight == 0)
    st.options.max_publishes_in_flight = 1;
  read_log(self, 1);
  return {
    [self](command_atom, command& cmd) -> caf::result<command_ack> {
      auto promise = self->make_response_promise<command_ack>();
      run(self, queued_command{std::move(cmd), promise});
      return promise;
    },
    [self](ready_atom) -> caf::result<std::uint64_t> {
      auto& state = self->state;
      if (state.phase == handler_phase::serving)
        return static_cast<std::uint64_t>(state.store->streams());
      auto promise = self->make_response_promise<std::uint64_t>();
      state.ready_waiters.push_back(promise);
      return promise;
    },
  };
}

} // namespace

command_handler_actor spawn_command_handler(caf::actor_system& sys, bus_actor bus,
                                            stream_store store,
                                            command_handler_options options) {
  return sys.spawn(command_handler_impl, std::move(bus), std::move(store), options);
}

} // namespace bus::actors
