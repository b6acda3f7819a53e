#pragma once

// A deterministic fixture with a bus over an in-memory log, plus helpers to
// publish events and read the whole log back.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "bus/errc.hpp"
#include "support/deterministic_fixture.hpp"
#include "support/test_models.hpp"

namespace bus::test {

/// Projector options with a given replay batch.
inline actors::projector_options replaying(std::uint32_t replay_batch) {
  actors::projector_options result;
  result.replay_batch = replay_batch;
  return result;
}

struct bus_fixture : deterministic_fixture {
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  actors::bus_actor bus = actors::spawn_bus(sys, log, actors::bus_options{});

  bus_fixture() { run(); }

  ~bus_fixture() {
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    run();
  }

  /// Stops projector `p` as a node's shutdown does.
  void stop(const actors::projector_actor& p) {
    self->send_exit(p, caf::exit_reason::user_shutdown);
    run();
  }

  /// Projector `p`'s own status.
  actors::projector_status status(const actors::projector_actor& p) {
    auto result = ask<actors::projector_status>(p, actors::status_atom::value);
    BOOST_REQUIRE(result);
    return *result;
  }

  /// Why an actor the test's actor monitors went down while the system
  /// ran; none if it did not.
  caf::error down_reason_after_run() {
    caf::error reason;
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    return reason;
  }

  /// Checks why an actor the test's actor monitors went down while the
  /// system ran: with `code`, and a context that holds each of `texts`.
  void expect_down(errc code, std::initializer_list<std::string_view> texts) {
    auto reason = down_reason_after_run();
    BOOST_TEST((code_of(reason) == code));
    for (auto text : texts)
      BOOST_TEST(context_of(reason).find(text) != std::string::npos,
                 context_of(reason));
  }

  /// Events "<prefix><i>" for i in [first, first + n), cycling through
  /// `types`, with payload {"k": "key<i % keys>", "n": i}.
  static std::vector<event> events(std::size_t first, std::size_t n,
                                   std::vector<std::string> types, std::size_t keys = 3,
                                   const std::string& prefix = "e") {
    std::vector<event> result;
    for (auto i = first; i < first + n; ++i)
      result.push_back(make_event(prefix + std::to_string(i), types[i % types.size()],
                                  {{"k", "key" + std::to_string(i % keys)},
                                   {"n", static_cast<std::int64_t>(i)}}));
    return result;
  }

  actors::publish_ack
  publish(std::vector<event> batch,
          actors::publish_wait wait = actors::publish_wait::projectors) {
    auto ack = ask<actors::publish_ack>(bus, actors::publish_atom::value,
                                        std::move(batch), wait);
    BOOST_REQUIRE(ack);
    return std::move(*ack);
  }

  /// Reads every event of the log through the bus's replay.
  std::vector<event> whole_log() {
    std::vector<event> result;
    std::uint64_t next = 1;
    while (true) {
      auto batch = ask<event_batch>(bus, actors::replay_atom::value, next,
                                    std::uint32_t{100});
      BOOST_REQUIRE(batch);
      if (batch->empty())
        return result;
      result.insert(result.end(), batch->begin(), batch->end());
      next = batch->last_seq() + 1;
    }
  }

  actors::projector_actor spawn_projector(model_spec spec,
                                          std::uint32_t replay_batch = 4096) {
    auto p = actors::spawn_projector(sys, bus, std::move(spec),
                                     replaying(replay_batch));
    run();
    return p;
  }

  boost::json::value snapshot_of(const actors::projector_actor& p) {
    auto snap = ask<actors::model_snapshot>(p, actors::snapshot_atom::value);
    BOOST_REQUIRE(snap);
    return snap->state;
  }
};

} // namespace bus::test
