// Upcasting in projectors: a log written with old event versions, replayed
// and pushed live into a model that knows only the current version, on the
// memory log and on the SQLite log; a chain 1 -> 2 -> 3; a type renamed by
// an upcaster; a blue/green rebuild that brings in an upcaster; parked
// events kept as logged.

#include "bus/actors/projector.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/upcasters.hpp"

#include <map>
#include <stdexcept>

#include "bus/errc.hpp"
#include "bus/sqlite_log.hpp"
#include "support/bus_fixture.hpp"
#include "support/sqlite_scratch.hpp"
#include "internal/projector_state.hpp"
#include "internal/supervisor_state.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Keeps each event's payload under payload.id. It knows one type at one
// version only: anything else is a bug upstream, and it says so by
// throwing, as a model that misreads an old payload would fail.
class versioned_users final : public read_model {
public:
  versioned_users(std::string name, std::string type, std::uint32_t version)
    : name_(std::move(name)), types_{std::move(type)}, version_(version) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }

  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (e.type != types_[0] || e.schema_version != version_)
      throw std::runtime_error("knows only " + types_[0] + " v"
                               + std::to_string(version_) + ", got " + e.type + " v"
                               + std::to_string(e.schema_version));
    if (!e.payload.contains("email"))
      throw std::runtime_error("no email");
    users_[std::string{e.payload.at("id").as_string()}] = e.payload;
    return true;
  }

  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = users_.find(std::string{key}); i != users_.end())
      return boost::json::value(i->second);
    return std::nullopt;
  }

  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [k, v] : users_)
      result[k] = v;
    return result;
  }

  void reset() override { users_.clear(); }

private:
  std::string name_;
  std::vector<std::string> types_;
  std::uint32_t version_;
  std::map<std::string, boost::json::object> users_;
};

model_spec users_spec(std::string type, std::uint32_t version,
                      std::string name = "users") {
  model_spec spec{name, [=] {
                    return std::make_unique<versioned_users>(name, type, version);
                  }};
  // A throw is a failure at once (no retry timers to step).
  spec.recovery.attempts = 1;
  spec.recovery.then = on_poison::stop;
  return spec;
}

event user_event(std::string id, std::string type, std::uint32_t version,
                 boost::json::object payload) {
  auto e = make_event(std::move(id), std::move(type), std::move(payload));
  e.schema_version = version;
  e.metadata = boost::json::object{{"correlation_id", "c-" + e.id}};
  return e;
}

// UserCreated v1 {"id", "mail"} -> UserRegistered v2 {"id", "email"}.
upcaster v1_to_v2() {
  return upcaster{"UserCreated", 1, "UserRegistered", [](event& e) {
                    // Copy first: inserting may move the value it reads.
                    boost::json::value mail = e.payload.at("mail");
                    e.payload.erase("mail");
                    e.payload["email"] = std::move(mail);
                  }};
}

// UserRegistered v2 -> v3: adds "country".
upcaster v2_to_v3() {
  return upcaster{"UserRegistered", 2, {}, [](event& e) {
                    e.payload["country"] = "unknown";
                  }};
}

upcaster_registry_ptr registry(std::vector<upcaster> steps) {
  auto result = upcaster_registry::make(std::move(steps));
  if (!result)
    BOOST_FAIL(context_of(result.error()));
  return *result;
}

// The log as publishers wrote it: old and current versions mixed.
std::vector<event> mixed_log() {
  return {
    user_event("e1", "UserCreated", 1, {{"id", "u1"}, {"mail", "a@x"}}),
    user_event("e2", "UserCreated", 1, {{"id", "u2"}, {"mail", "b@x"}}),
    user_event("e3", "UserRegistered", 2, {{"id", "u3"}, {"email", "c@x"}}),
    user_event("e4", "UserCreated", 1, {{"id", "u1"}, {"mail", "a2@x"}}),
  };
}

boost::json::value users(std::initializer_list<std::pair<const char*, const char*>> xs,
                         bool with_country = false) {
  boost::json::object result;
  for (auto& [id, email] : xs) {
    boost::json::object user{{"id", id}, {"email", email}};
    if (with_country)
      user["country"] = "unknown";
    result[id] = std::move(user);
  }
  return result;
}

// The log keeps what was published: old versions, old names, metadata.
void check_log_kept_the_originals(const std::vector<event>& logged) {
  auto published = mixed_log();
  BOOST_REQUIRE_EQUAL(logged.size(), published.size());
  for (std::size_t i = 0; i < logged.size(); ++i) {
    BOOST_TEST(logged[i].type == published[i].type);
    BOOST_TEST(logged[i].schema_version == published[i].schema_version);
    BOOST_TEST((logged[i].payload == published[i].payload));
    BOOST_TEST((logged[i].metadata == published[i].metadata));
  }
}

struct upcasting_fixture : bus_fixture {
  projector_actor start(model_spec spec, upcaster_registry_ptr upcasters) {
    auto options = replaying(2); // several replay batches
    options.upcasters = std::move(upcasters);
    auto p = actors::spawn_projector(sys, bus, std::move(spec), options);
    run();
    return p;
  }
};

// A bus over a SQLite log, reopened as a restarted node would.
struct sqlite_upcasting_fixture : deterministic_fixture {
  sqlite_scratch dir{"bus-upcasting-", "bus.db"};

  bus_actor open_bus() {
    auto log = sqlite_log::open(dir.path);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    auto bus = spawn_bus(sys, std::shared_ptr<event_log>{std::move(*log)},
                         bus_options{});
    run();
    return bus;
  }

  void close(const bus_actor& bus) {
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_upcasting, upcasting_fixture)

BOOST_AUTO_TEST_CASE(version_one_log_replays_into_a_model_that_knows_only_version_two) {
  publish(mixed_log()); // before any model: the log alone holds them
  auto p = start(users_spec("UserRegistered", 2), registry({v1_to_v2()}));
  BOOST_TEST(snapshot_of(p) == users({{"u1", "a2@x"}, {"u2", "b@x"}, {"u3", "c@x"}}));
  BOOST_TEST(state_of<projector_state>(p).applied == 4u);
  // Live: a version-1 event of the old type name reaches the model, which
  // subscribed to UserRegistered only.
  auto ack = publish(
    {user_event("e5", "UserCreated", 1, {{"id", "u5"}, {"mail", "e@x"}})});
  BOOST_REQUIRE_EQUAL(ack.models.size(), 1u);
  BOOST_TEST(ack.models[0].model == "users");
  BOOST_TEST(ack.models[0].applied.size() == 1u);
  BOOST_TEST(ask<query_result>(p, query_atom::value, std::string{"u5"})->value
             == boost::json::parse(R"({"id": "u5", "email": "e@x"})"));
  auto logged = whole_log();
  logged.pop_back();
  check_log_kept_the_originals(logged);
}

BOOST_AUTO_TEST_CASE(without_the_upcaster_the_same_model_misses_version_one) {
  publish(mixed_log());
  // Subscribed to UserRegistered alone, it never sees the old events.
  auto p = start(users_spec("UserRegistered", 2), nullptr);
  BOOST_TEST(snapshot_of(p) == users({{"u3", "c@x"}}));
}

BOOST_AUTO_TEST_CASE(chain_one_two_three_reaches_a_version_three_model) {
  auto written = mixed_log();
  written.push_back(user_event("e5", "UserRegistered", 3,
                               {{"id", "u5"}, {"email", "e@x"}, {"country", "NO"}}));
  publish(written);
  auto p = start(users_spec("UserRegistered", 3), registry({v2_to_v3(), v1_to_v2()}));
  auto expected
    = users({{"u1", "a2@x"}, {"u2", "b@x"}, {"u3", "c@x"}}, true).as_object();
  expected["u5"] = boost::json::object{
    {"id", "u5"}, {"email", "e@x"}, {"country", "NO"}};
  BOOST_TEST(snapshot_of(p) == boost::json::value(expected));
  // A rebuild replays the same log through the same chain.
  BOOST_REQUIRE(ask<projector_status>(p, rebuild_atom::value));
  run();
  BOOST_TEST(snapshot_of(p) == boost::json::value(expected));
}

BOOST_AUTO_TEST_CASE(a_model_whose_spec_has_upcasters_uses_them_over_the_process_ones) {
  publish(mixed_log());
  auto spec = users_spec("UserRegistered", 3);
  spec.upcasters = registry({v1_to_v2(), v2_to_v3()});
  auto p = start(spec, registry({v1_to_v2()}));
  BOOST_TEST(snapshot_of(p)
             == users({{"u1", "a2@x"}, {"u2", "b@x"}, {"u3", "c@x"}}, true));
}

BOOST_AUTO_TEST_CASE(a_parked_event_is_kept_as_logged) {
  auto spec = users_spec("UserRegistered", 2);
  spec.recovery.attempts = 1;
  spec.recovery.then = on_poison::park;
  auto p = start(spec, registry({v1_to_v2()}));
  // No mail: upcast, it has no email, and the model throws.
  publish({user_event("e1", "UserCreated", 1, {{"id", "u1"}})});
  auto parked = ask<parked_list>(p, parked_atom::value);
  BOOST_REQUIRE(parked);
  auto& entries = parked->entries.as_array();
  BOOST_REQUIRE_EQUAL(entries.size(), 1u);
  auto& logged = entries[0].at("event").as_object();
  BOOST_TEST(logged.at("type") == "UserCreated");
  BOOST_TEST(logged.at("schema_version") == 1);
  BOOST_TEST(logged.at("metadata")
             == boost::json::parse(R"({"correlation_id": "c-e1"})"));
}

BOOST_AUTO_TEST_CASE(blue_green_rebuild_brings_in_an_upcaster) {
  // Live: a model of the old events (UserCreated v1).
  auto old_model = users_spec("UserCreated", 1);
  auto sup = spawn_supervisor(sys, bus, {old_model}, {}, replaying(2));
  run();
  std::vector<event> v1_only;
  for (auto& e : mixed_log())
    if (e.schema_version == 1) {
      // v1 publishers sent both (copied first: inserting may move "mail").
      boost::json::value mail = e.payload.at("mail");
      e.payload["email"] = std::move(mail);
      v1_only.push_back(e);
    }
  publish(v1_only);
  // The new definition knows only UserRegistered v2 and brings the upcaster.
  auto new_model = users_spec("UserRegistered", 2);
  new_model.upcasters = registry({upcaster{"UserCreated", 1, "UserRegistered",
                                           [](event& e) { e.payload.erase("mail"); }}});
  auto shadow = ask<projector_status>(sup, shadow_atom::value, new_model,
                                      shadow_wait::live);
  BOOST_REQUIRE(shadow);
  run();
  auto state = ask<model_snapshot>(sup, snapshot_atom::value, std::string{"users"});
  BOOST_REQUIRE(state);
  BOOST_TEST(state->state == users({{"u1", "a2@x"}, {"u2", "b@x"}}));
  // Old publishers go on: their events reach the new model upcast.
  publish({user_event("e9", "UserCreated", 1,
                      {{"id", "u9"}, {"mail", "z@x"}, {"email", "z@x"}})});
  auto answer = ask<query_result>(sup, query_atom::value, std::string{"users"},
                                  std::string{"u9"});
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->value == boost::json::parse(R"({"id": "u9", "email": "z@x"})"));
  // Rolled back, the old model answers in the old form again.
  BOOST_REQUIRE(ask<projector_status>(sup, rollback_atom::value, std::string{"users"}));
  run();
  answer = ask<query_result>(sup, query_atom::value, std::string{"users"},
                             std::string{"u9"});
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->value
             == boost::json::parse(R"({"id": "u9", "mail": "z@x", "email": "z@x"})"));
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(projector_upcasting_sqlite, sqlite_upcasting_fixture)

BOOST_AUTO_TEST_CASE(version_one_sqlite_log_replays_into_a_version_two_model) {
  auto writer = open_bus();
  BOOST_REQUIRE(
    ask<publish_ack>(writer, publish_atom::value, mixed_log(), publish_wait::log));
  close(writer);
  // Restarted: a new bus on the same file, a model that knows only v2.
  auto bus = open_bus();
  auto options = replaying(2);
  options.upcasters = registry({v1_to_v2()});
  auto p = spawn_projector(sys, bus, users_spec("UserRegistered", 2), options);
  run();
  auto state = ask<model_snapshot>(p, snapshot_atom::value);
  BOOST_REQUIRE(state);
  BOOST_TEST(state->state == users({{"u1", "a2@x"}, {"u2", "b@x"}, {"u3", "c@x"}}));
  auto logged = ask<event_batch>(bus, replay_atom::value, std::uint64_t{1},
                                 std::uint32_t{100});
  BOOST_REQUIRE(logged);
  check_log_kept_the_originals({logged->begin(), logged->end()});
  self->send_exit(p, caf::exit_reason::user_shutdown);
  close(bus);
}

BOOST_AUTO_TEST_SUITE_END()
