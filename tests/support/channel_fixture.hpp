#pragma once

// A channel on the deterministic scheduler with scripted receivers: each
// records what it takes and acks or replies only when the test says so
// (or at once, for an eager one).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/actors/channel.hpp"
#include "support/deterministic_fixture.hpp"

namespace bus::test {

/// A receiver the test drives: it forwards (ack_atom, id) and
/// (reply_atom, reply) to its channel when the test sends them to it.
using scripted_receiver
  = caf::typed_actor<caf::reacts_to<actors::take_atom, actors::channel_message>,
                     caf::reacts_to<actors::ack_atom, std::uint64_t>,
                     caf::reacts_to<actors::reply_atom, actors::channel_reply>>;

/// One delivery a receiver took.
struct taken {
  std::string receiver;
  actors::channel_message message;
};

struct channel_fixture : deterministic_fixture {
  actors::channel_actor channel;
  std::shared_ptr<std::vector<taken>> takes = std::make_shared<std::vector<taken>>();

  explicit channel_fixture(actors::channel_options options = {}) {
    channel = actors::spawn_channel(sys, options);
    run();
  }

  ~channel_fixture() { caf::anon_send_exit(channel, caf::exit_reason::user_shutdown); }

  /// Spawns a receiver named `name`; an eager one acks each message as it
  /// takes it (and does not reply to requests).
  scripted_receiver receiver(std::string name, bool eager = false) {
    auto ch = channel;
    auto log = takes;
    auto r = sys.spawn(
      [=](scripted_receiver::pointer r_self) -> scripted_receiver::behavior_type {
        return {
          [=](actors::take_atom, actors::channel_message& m) {
            log->push_back(taken{name, m});
            if (eager)
              r_self->send(ch, actors::ack_atom::value, m.id);
          },
          [=](actors::ack_atom, std::uint64_t id) {
            r_self->send(ch, actors::ack_atom::value, id);
          },
          [=](actors::reply_atom, actors::channel_reply& reply) {
            r_self->send(ch, actors::reply_atom::value, std::move(reply));
          },
        };
      });
    run();
    return r;
  }

  /// Joins `r` to the channel with `credit`.
  actors::channel_status join(const scripted_receiver& r, std::uint32_t credit = 10) {
    auto status = ask<actors::channel_status>(
      channel, actors::join_atom::value, actors::channel_receiver_actor{r}, credit);
    BOOST_REQUIRE(status);
    return *status;
  }

  std::uint64_t enqueue(std::string body) {
    auto id = ask<std::uint64_t>(channel, actors::enqueue_atom::value, std::move(body));
    BOOST_REQUIRE(id);
    return *id;
  }

  /// Makes `r` ack message `id`, and runs.
  void ack(const scripted_receiver& r, std::uint64_t id) {
    self->send(r, actors::ack_atom::value, id);
    run();
  }

  /// Kills `r` (it cannot trap this), and runs.
  void kill(const scripted_receiver& r) {
    caf::anon_send_exit(r, caf::exit_reason::kill);
    run();
  }

  actors::channel_status status() {
    auto s = ask<actors::channel_status>(channel, actors::status_atom::value);
    BOOST_REQUIRE(s);
    return *s;
  }

  /// Who took what, in order: "a:1#1 b:2#1 " (receiver:id#attempt).
  std::string deliveries() const {
    std::string out;
    for (auto& t : *takes)
      out += t.receiver + ":" + std::to_string(t.message.id) + "#"
             + std::to_string(t.message.attempt) + " ";
    return out;
  }

  /// Sends a request without running anything; the answer lands in the
  /// cell once the test runs the system.
  std::shared_ptr<std::optional<caf::expected<actors::channel_reply>>>
  request(std::string correlation_id, std::string body, caf::timespan timeout) {
    auto result
      = std::make_shared<std::optional<caf::expected<actors::channel_reply>>>();
    auto ch = channel;
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(ch, caf::infinite, actors::request_atom::value, correlation_id, body,
                 timeout)
        .then([=](actors::channel_reply& x) { *result = std::move(x); },
              [=](caf::error& err) { *result = std::move(err); });
    });
    return result;
  }
};

} // namespace bus::test
