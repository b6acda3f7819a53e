// Blue/green with read models kept in tables (model_storage::sqlite) on a
// node that also snapshots its other models: the table stays the model's
// durable state through a switch and a rollback.

#include "bus/actors/supervisor.hpp"

#include "bus/document_model.hpp"
#include "bus/forwarding_model.hpp"
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

// A C++ model whose definition() stays the same across versions, as a
// user's might: version 2 takes only the events with an even payload.n.
class versioned final : public forwarding_model {
public:
  versioned(int version)
    : forwarding_model(std::make_unique<document_model>(docs_config({"A"}))),
      version_(version) {
    // nop
  }

  bool apply(const event& e) override {
    if (version_ == 2 && e.payload.at("n").as_int64() % 2 != 0)
      return false;
    return forwarding_model::apply(e);
  }

  std::string definition() const override { return "docs"; }

private:
  int version_;
};

model_spec versioned_table(int version) {
  return model_spec{"m", [version] { return std::make_unique<versioned>(version); },
                    model_storage::sqlite};
}

boost::json::value fold_versioned(const std::vector<event>& log, int version) {
  versioned m{version};
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

// The table is the model's durable state: the projector that switches in
// replaces it with its own state, so that its restart loads its model's
// rows, even where both versions give the same definition(); a rollback
// hands it back the same way. (Each event its own key: every version's
// documents stay apart.)
BOOST_AUTO_TEST_CASE(the_projector_that_switches_in_takes_the_table_over) {
  start({versioned_table(1)});
  publish(events(0, 12, {"A"}, 100));
  BOOST_REQUIRE(shadow(versioned_table(2), shadow_wait::live));
  publish(events(12, 6, {"A"}, 100));
  BOOST_TEST(model_state("m") == fold_versioned(whole_log(), 2));
  crash_and_restart();
  BOOST_TEST(model_state("m") == fold_versioned(whole_log(), 2));
  publish(events(18, 4, {"A"}, 100));
  BOOST_TEST(model_state("m") == fold_versioned(whole_log(), 2));
  BOOST_REQUIRE(lifecycle_request(rollback_atom::value, "m"));
  publish(events(22, 4, {"A"}, 100));
  BOOST_TEST(model_state("m") == fold_versioned(whole_log(), 1));
  crash_and_restart();
  BOOST_TEST(status()[0].checkpoint == 26u);
  BOOST_TEST(model_state("m") == fold_versioned(whole_log(), 1));
}

BOOST_AUTO_TEST_SUITE_END()
