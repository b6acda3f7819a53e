// Blue/green with read models kept in tables (model_storage::sqlite) on a
// node that also snapshots its other models: the table stays the model's
// durable state through a switch and a rollback.

#include "bus/actors/supervisor.hpp"

#include "bus/document_model.hpp"
#include "support/blue_green_fixture.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Documents keyed by payload.k, merged from the events of `types`.
document_model_config docs_config(std::vector<std::string> types) {
  document_model_config cfg;
  cfg.name = "m";
  cfg.key = "k";
  cfg.merge_on = std::move(types);
  return cfg;
}

model_spec docs_table(std::vector<std::string> types) {
  auto cfg = docs_config(std::move(types));
  return model_spec{cfg.name, [cfg] { return std::make_unique<document_model>(cfg); },
                    model_storage::sqlite};
}

boost::json::value fold(const std::vector<event>& log, std::vector<std::string> types) {
  document_model m{docs_config(std::move(types))};
  for (auto& e : log)
    m.apply(e);
  return m.snapshot();
}

struct tables_fixture : blue_green_fixture {
  temp_store models;

  tables_fixture() {
    options.snapshot_path = store.path;
    options.snapshot_every = 4;
    options.models_path = models.path;
  }

  /// Kills the live projector (no last commit) and lets the supervisor
  /// restart it: the replacement loads the table.
  void crash_and_restart() {
    self->send_exit(slot().handle, caf::exit_reason::kill);
    run();
    sched.trigger_timeout();
    run();
    BOOST_REQUIRE(status()[0].state == model_state::running);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_blue_green_tables, tables_fixture)

// Found by the simulator (tables, seed 5000261): promoted back, the old
// projector took snapshots beside its table, and the snapshots took the
// changed keys its commits needed: the table's checkpoint went on while its
// rows stayed behind, and a restart loaded them.
BOOST_AUTO_TEST_CASE(a_table_model_rolled_back_keeps_its_rows_in_its_table) {
  start({docs_table({"A"})});
  publish(events(0, 12, {"A", "B"}, 5));
  BOOST_REQUIRE(shadow(docs_table({"A", "B"}), shadow_wait::live));
  publish(events(12, 4, {"A", "B"}, 5));
  BOOST_REQUIRE(lifecycle_request(rollback_atom::value, "m"));
  publish(events(16, 14, {"A", "B"}, 5));
  BOOST_TEST(model_state("m") == fold(whole_log(), {"A"}));
  crash_and_restart();
  BOOST_TEST(status()[0].checkpoint == 30u);
  BOOST_TEST(model_state("m") == fold(whole_log(), {"A"}));
}

BOOST_AUTO_TEST_SUITE_END()
