// The lease bus nodes on one PostgreSQL log contend for: who leads, when a
// standby may take over, and that the fencing token moves with the lead.

#include "bus/postgres_lease.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "bus/errc.hpp"
#include "bus/postgres_log.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace std::chrono_literals;
using namespace bus;

namespace {

struct lease_fixture : bus::test::pg_scratch {
  std::unique_ptr<postgres_lease> connect(const std::string& holder,
                                          std::chrono::milliseconds ttl = 60s) {
    lease_options options;
    options.holder = holder;
    options.ttl = ttl;
    auto lease = postgres_lease::connect(uri, options);
    if (!lease)
      BOOST_FAIL(context_of(lease.error()));
    return std::move(*lease);
  }

  static bool renewed(postgres_lease& lease) {
    auto result = lease.renew();
    if (!result)
      BOOST_FAIL(context_of(result.error()));
    return *result;
  }

  static std::optional<std::int64_t> take(postgres_lease& lease,
                                          lease_view* seen = nullptr) {
    auto taken = lease.try_acquire(seen);
    if (!taken)
      BOOST_FAIL(context_of(taken.error()));
    return *taken;
  }

  // Tries to take the lease until it is taken or `limit` passed: what the
  // database decides depends on its clock, or on when it closes a session.
  static std::optional<std::int64_t> take_within(postgres_lease& lease,
                                                 std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (auto token = take(lease))
        return token;
      if (std::chrono::steady_clock::now() > until)
        return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
  }
};

// An event of its own (id "e<n>").
event numbered(int n) {
  auto e = bus::test::make_event("A", "{}");
  e.id = "e" + std::to_string(n);
  return e;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(postgres_lease_suite, lease_fixture)

BOOST_AUTO_TEST_CASE(the_first_node_leads_and_the_next_stands_by) {
  auto a = connect("node-a");
  auto b = connect("node-b");
  BOOST_TEST(take(*a).value_or(0) == 1);
  lease_view seen;
  BOOST_TEST(!take(*b, &seen));
  BOOST_TEST(seen.holder == "node-a");
  BOOST_TEST(seen.token == 1);
  BOOST_TEST(seen.remaining.count() > 50'000);
  // Renewing keeps it; the standby still cannot take it.
  BOOST_TEST(renewed(*a) == true);
  BOOST_TEST(!take(*b));
}

BOOST_AUTO_TEST_CASE(the_lease_of_a_killed_node_is_taken_at_once) {
  auto a = connect("node-a");
  auto b = connect("node-b");
  BOOST_REQUIRE(take(*a));
  // The holder's process dies: the database closes its session. The
  // standby takes over long before the 60 s lease would expire.
  a.reset();
  auto started = std::chrono::steady_clock::now();
  BOOST_TEST(take_within(*b, 10s).value_or(0) == 2);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 30s));
}

BOOST_AUTO_TEST_CASE(a_node_stopped_past_its_lease_is_replaced_and_loses_it) {
  auto a = connect("node-a", 300ms);
  auto b = connect("node-b", 300ms);
  BOOST_REQUIRE(take(*a));
  // a stays connected but renews nothing (a stopped process): b takes the
  // lease once it expired, with the next token.
  BOOST_TEST(take_within(*b, 10s).value_or(0) == 2);
  // Back, a learns that it lost the lead.
  BOOST_TEST(renewed(*a) == false);
  BOOST_TEST(renewed(*b) == true);
}

BOOST_AUTO_TEST_CASE(an_expired_lease_nobody_took_is_still_its_holders) {
  auto a = connect("node-a", 200ms);
  BOOST_REQUIRE(take(*a));
  // The database was out of reach for longer than the lease, say; no
  // other node took it meanwhile, so a keeps leading with its token.
  auto view = a->read();
  BOOST_REQUIRE(view);
  std::this_thread::sleep_for(view->remaining + 100ms);
  BOOST_TEST(renewed(*a) == true);
  auto b = connect("node-b", 200ms);
  BOOST_TEST(!take(*b));
  BOOST_TEST(a->token() == 1);
}

BOOST_AUTO_TEST_CASE(a_released_lease_is_taken_at_once) {
  auto a = connect("node-a");
  auto b = connect("node-b");
  BOOST_REQUIRE(take(*a));
  BOOST_REQUIRE(a->release());
  BOOST_TEST(take(*b).value_or(0) == 2);
}

BOOST_AUTO_TEST_CASE(the_log_of_a_replaced_leader_appends_nothing) {
  auto a = connect("node-a");
  auto b = connect("node-b");
  auto token_a = take(*a);
  BOOST_REQUIRE(token_a);
  postgres_options fenced;
  fenced.fence = postgres_fence{"bus", *token_a};
  auto log_a = postgres_log::open(uri, durability::fsync_each_batch, fenced);
  BOOST_REQUIRE(log_a);
  (*log_a)->append({numbered(1)});
  // b takes over (a let the lease go, as a stopped leader would by expiry).
  BOOST_REQUIRE(a->release());
  auto token_b = take(*b);
  BOOST_REQUIRE(token_b);
  BOOST_CHECK_THROW((*log_a)->append({bus::test::make_event("A", "{}")}),
                    storage_error);
  BOOST_TEST((*log_a)->health().state == store_state::fenced);
  fenced.fence = postgres_fence{"bus", *token_b};
  auto log_b = postgres_log::open(uri, durability::fsync_each_batch, fenced);
  BOOST_REQUIRE(log_b);
  auto appended = (*log_b)->append({numbered(3)});
  BOOST_TEST(appended.outcomes.front().seq == 2u); // dense: nothing of a's
}

BOOST_AUTO_TEST_CASE(a_lease_shorter_than_100_ms_is_refused) {
  lease_options options;
  options.holder = "node-a";
  options.ttl = 50ms;
  auto lease = postgres_lease::connect(uri, options);
  BOOST_REQUIRE(!lease);
  BOOST_TEST(code_of(lease.error()) == errc::invalid_config);
}

BOOST_AUTO_TEST_SUITE_END()
