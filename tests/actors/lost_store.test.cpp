// A store that cannot be reached (a lost connection to PostgreSQL) throws
// storage_error from any call, a lookup too. The bus answers such a
// publish with storage_failed and goes on; it once let the lookup of a
// publisher held for its resend escape, which killed the bus actor for
// good and printed CAF's "unhandled exception" on the node's stdout.

#include "bus/actors/bus_actor.hpp"
#include "bus/errc.hpp"
#include "bus/memory_log.hpp"
#include "support/bus_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

/// A memory log behind a connection the test can cut.
class cut_log final : public event_log {
public:
  bool cut = false;

  std::optional<std::uint64_t> find(std::string_view id) const override {
    check();
    return inner_.find(id);
  }

  event_batch read(std::uint64_t from, std::size_t max) const override {
    check();
    return inner_.read(from, max);
  }

  std::uint64_t head() const noexcept override { return inner_.head(); }

protected:
  append_result do_append(std::vector<event> batch) override {
    check();
    return inner_.append(std::move(batch));
  }

private:
  void check() const {
    if (cut)
      throw storage_error("find: the connection is lost");
  }

  memory_log inner_;
};

struct lost_store_fixture : bus_fixture {
  std::shared_ptr<cut_log> log = std::make_shared<cut_log>();
  bus_actor held = spawn_bus(sys, log, bus_options{});

  /// Publishes `xs` from the test's own actor: one publisher throughout.
  caf::expected<publish_ack> publish_as_self(std::vector<event> xs) {
    caf::expected<publish_ack> result{caf::error{}};
    auto answer = self->request(held, caf::infinite, publish_atom::value, std::move(xs),
                                publish_wait::log, publish_order::as_sent);
    run();
    answer.receive([&](publish_ack& ack) { result = std::move(ack); },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  ~lost_store_fixture() {
    self->send_exit(held, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(bus_lost_store, lost_store_fixture)

BOOST_AUTO_TEST_CASE(a_lost_connection_while_a_publisher_is_held_fails_only_publishes) {
  run();
  BOOST_REQUIRE(publish_as_self(events(0, 5, {"A"})));
  log->cut = true;
  auto failed = publish_as_self(events(5, 5, {"A"}));
  BOOST_REQUIRE(!failed);
  BOOST_TEST(code_of(failed.error()) == errc::storage_failed);
  // Held for its resend, the publisher's next publish is looked up in the
  // log, which still cannot be reached.
  auto later = publish_as_self(events(10, 5, {"A"}));
  BOOST_REQUIRE(!later);
  BOOST_TEST(code_of(later.error()) == errc::storage_failed, to_string(later.error()));
  // The connection is back: the resend, then the rest, in the order sent.
  log->cut = false;
  auto again = publish_as_self(events(5, 10, {"A"}));
  BOOST_REQUIRE(again);
  BOOST_TEST(again->outcomes.front().seq == 6u);
  BOOST_TEST(log->head() == 15u);
}

BOOST_AUTO_TEST_SUITE_END()
