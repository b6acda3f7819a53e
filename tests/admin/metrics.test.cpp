#include "bus/admin/metrics.hpp"

#include <cstring>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>

using namespace bus;
using namespace bus::admin;
using namespace bus::actors;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in{text};
  for (std::string x; std::getline(in, x);)
    if (x == line)
      return true;
  return false;
}

struct node_fixture {
  bus_status bus;
  std::vector<projector_status> models;

  node_fixture() {
    bus.head = 120;
    bus.head_timestamp = 10'000'000'000;
    bus.appended = 120;
    bus.duplicates = 4;
    bus.subscribers = 2;
    bus.mailbox = 5;
    projector_status orders;
    orders.model = "orders";
    orders.state = model_state::paused;
    orders.checkpoint = 100;
    orders.checkpoint_timestamp = 7'500'000'000; // 2.5 s before the head
    orders.applied = 90;
    orders.skipped = 3;
    orders.parked = 2;
    orders.restarts = 1;
    orders.mailbox = 6;
    orders.apply_latency.observe(1ms);
    models.push_back(orders);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(metrics, node_fixture)

BOOST_AUTO_TEST_CASE(model_series_carry_what_status_says) {
  auto text = render_metrics(node_kind::bus, bus, models);
  const std::string labels = R"({model="orders",role="live"})";
  BOOST_TEST(has_line(text, "bus_model_applied_total" + labels + " 90"));
  BOOST_TEST(has_line(text, "bus_model_skipped_total" + labels + " 3"));
  BOOST_TEST(has_line(text, "bus_model_parked" + labels + " 2"));
  BOOST_TEST(has_line(text, "bus_model_lag_events" + labels + " 20"));
  BOOST_TEST(has_line(text, "bus_model_lag_seconds" + labels + " 2.5"));
  BOOST_TEST(has_line(text, "bus_model_restarts_total" + labels + " 1"));
  BOOST_TEST(has_line(text, "bus_model_checkpoint" + labels + " 100"));
  BOOST_TEST(has_line(text, "bus_model_mailbox_messages" + labels + " 6"));
  BOOST_TEST(
    has_line(text, R"(bus_model_state{model="orders",role="live",state="paused"} 1)"));
  BOOST_TEST(
    has_line(text, R"(bus_model_state{model="orders",role="live",state="running"} 0)"));
  BOOST_TEST(has_line(
    text,
    R"(bus_model_apply_latency_seconds_bucket{model="orders",role="live",le="0.001"} 1)"));
  BOOST_TEST(has_line(
    text, R"(bus_model_apply_latency_seconds_count{model="orders",role="live"} 1)"));
}

BOOST_AUTO_TEST_CASE(a_bus_node_reports_its_log_and_its_mailbox) {
  auto text = render_metrics(node_kind::bus, bus, models);
  BOOST_TEST(has_line(text, "bus_log_head 120"));
  BOOST_TEST(has_line(text, "bus_events_appended_total 120"));
  BOOST_TEST(has_line(text, "bus_events_duplicate_total 4"));
  BOOST_TEST(has_line(text, "bus_subscribers 2"));
  BOOST_TEST(has_line(text, R"(bus_actor_mailbox_messages{actor="bus"} 5)"));
  // In memory: no store, no store timings.
  BOOST_TEST(text.find("bus_store_") == std::string::npos);
  bus.store.measured = true;
  bus.store.commit.observe(4ms);
  bus.store.fsync.observe(3ms);
  bus.store.fsync.observe(3ms);
  text = render_metrics(node_kind::bus, bus, models);
  BOOST_TEST(has_line(text, "# TYPE bus_store_commit_seconds histogram"));
  BOOST_TEST(has_line(text, "bus_store_commit_seconds_count 1"));
  BOOST_TEST(has_line(text, "bus_store_fsync_seconds_count 2"));
  BOOST_TEST(has_line(text, R"(bus_store_fsync_seconds_bucket{le="0.0025"} 0)"));
  BOOST_TEST(has_line(text, R"(bus_store_fsync_seconds_bucket{le="0.005"} 2)"));
  BOOST_TEST(has_line(text, "bus_store_failed 0"));
  bus.store_state = bus::store_state::failed;
  text = render_metrics(node_kind::bus, bus, models);
  BOOST_TEST(has_line(text, "bus_store_failed 1"));
  BOOST_TEST(has_line(text, R"(bus_store_state{state="failed"} 1)"));
  BOOST_TEST(has_line(text, R"(bus_store_state{state="healthy"} 0)"));
  // Fenced is not failed: another node leads the log.
  bus.store_state = bus::store_state::fenced;
  text = render_metrics(node_kind::bus, bus, models);
  BOOST_TEST(has_line(text, "bus_store_failed 0"));
  BOOST_TEST(has_line(text, R"(bus_store_state{state="fenced"} 1)"));
  BOOST_TEST(has_line(text, R"(bus_store_state{state="failed"} 0)"));
}

BOOST_AUTO_TEST_CASE(a_bus_node_leading_by_lease_reports_its_lease) {
  auto text = render_metrics(node_kind::bus, bus, models);
  BOOST_TEST(text.find("bus_lease_") == std::string::npos); // no lease
  leadership lead;
  lead.state = lead_state::unsure;
  lead.token = 7;
  text = render_metrics(node_kind::bus, bus, models, lead);
  BOOST_TEST(has_line(text, R"(bus_lease_state{state="unsure"} 1)"));
  BOOST_TEST(has_line(text, R"(bus_lease_state{state="leading"} 0)"));
  BOOST_TEST(has_line(text, R"(bus_lease_state{state="lost"} 0)"));
  BOOST_TEST(has_line(text, "bus_lease_token 7"));
}

BOOST_AUTO_TEST_CASE(a_projector_node_reports_its_models_and_the_head_it_saw) {
  auto text = render_metrics(node_kind::projector, bus, models);
  BOOST_TEST(has_line(text, "bus_log_head 120"));
  BOOST_TEST(text.find("bus_events_appended_total") == std::string::npos);
  BOOST_TEST(text.find("bus_actor_mailbox_messages") == std::string::npos);
  BOOST_TEST(text.find("bus_model_applied_total") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_family_is_declared_once_before_its_samples) {
  auto text = render_metrics(node_kind::bus, bus, models);
  std::istringstream in{text};
  std::set<std::string> declared;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      BOOST_TEST(declared.insert(name).second, name << " declared twice");
      continue;
    }
    if (line.rfind("#", 0) == 0)
      continue;
    auto name = line.substr(0, line.find_first_of("{ "));
    for (auto suffix : {"_bucket", "_sum", "_count"})
      if (!declared.count(name) && name.size() > std::strlen(suffix)
          && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix)
               == 0)
        name.resize(name.size() - std::strlen(suffix));
    BOOST_TEST(declared.count(name) == 1u, line);
  }
}

BOOST_AUTO_TEST_SUITE_END()
