// Read-model code that throws while a projector answers about its state
// (projector.hpp): a query() or a requested snapshot() that throws answers
// its caller an errc::query_failed carrying the exception's text, and a
// periodic snapshot() that throws is skipped as a failed write is. The
// projector goes on and nothing is printed; what escapes its guards all the
// same fails it, logged, with the exception's text.

#include "bus/actors/projector.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "bus/errc.hpp"
#include "bus/snapshot_store.hpp"
#include "support/bus_fixture.hpp"
#include "support/sqlite_scratch.hpp"
#include "support/stdout_capture.hpp"
#include "support/sum_model.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

// Sums payload.n per payload.k; a query for "bad key" throws, and so does
// snapshot() while `broken` is set.
class touchy_sums final : public payload_sums {
public:
  explicit touchy_sums(std::shared_ptr<std::atomic<bool>> broken)
    : payload_sums("sums", {"A"}), broken_(std::move(broken)) {}

  std::optional<boost::json::value> query(std::string_view key) const override {
    if (key == "bad key")
      throw std::invalid_argument("malformed key: 'bad key'");
    return payload_sums::query(key);
  }

  boost::json::value snapshot() const override {
    if (broken_->load())
      throw std::runtime_error("state too large to snapshot");
    return payload_sums::snapshot();
  }

private:
  std::shared_ptr<std::atomic<bool>> broken_;
};

// Sums whose definition() throws: read-model code no guard of the
// projector's expects to throw, left to its exception handler.
class undefined_sums final : public payload_sums {
public:
  undefined_sums() : payload_sums("sums", {"A"}) {}
  std::string definition() const override {
    throw std::logic_error("no definition yet");
  }
};

struct model_errors_fixture : bus_fixture {
  sqlite_scratch db{"bus-projector-errors-", "bus.db.snapshots"};
  std::shared_ptr<std::atomic<bool>> broken = std::make_shared<std::atomic<bool>>(
    false);
  stdout_capture out;

  model_spec touchy() {
    return model_spec{"sums",
                      [b = broken] { return std::make_unique<touchy_sums>(b); }};
  }

  projector_actor start(std::uint64_t snapshot_every = 0) {
    auto opts = replaying(16);
    if (snapshot_every > 0) {
      opts.snapshot_path = db.path;
      opts.snapshot_every = snapshot_every;
    }
    auto p = bus::actors::spawn_projector(sys, bus, touchy(), opts);
    run();
    return p;
  }

  caf::expected<query_result> query(const projector_actor& p, std::string key) {
    return ask<query_result>(p, query_atom::value, std::move(key));
  }

  std::uint64_t stored_checkpoint() {
    auto store = snapshot_store::open(db.path);
    BOOST_REQUIRE(store);
    auto loaded = (*store)->load("sums");
    BOOST_REQUIRE(loaded);
    return loaded->has_value() ? (**loaded).checkpoint : 0;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(projector_model_errors, model_errors_fixture)

BOOST_AUTO_TEST_CASE(a_query_that_throws_answers_its_error_and_the_projector_goes_on) {
  auto p = start();
  publish(events(0, 6, {"A"}, 2));
  // More than a supervisor's restart budget: none of them takes it down.
  for (int i = 0; i < 7; ++i) {
    auto bad = query(p, "bad key");
    BOOST_REQUIRE(!bad);
    BOOST_TEST((code_of(bad.error()) == errc::query_failed));
    auto text = context_of(bad.error());
    BOOST_TEST(text.find("'sums'") != std::string::npos, text);
    BOOST_TEST(text.find("malformed key: 'bad key'") != std::string::npos, text);
  }
  auto good = query(p, "key0");
  BOOST_REQUIRE(good);
  BOOST_TEST(good->value == boost::json::value(0 + 2 + 4));
  BOOST_TEST((status(p).state == model_state::running));
  stop(p);
  BOOST_TEST(out.text.str() == "");
}

BOOST_AUTO_TEST_CASE(a_snapshot_request_that_throws_answers_its_error) {
  auto p = start();
  publish(events(0, 3, {"A"}, 3));
  broken->store(true);
  auto snap = ask<model_snapshot>(p, snapshot_atom::value);
  BOOST_REQUIRE(!snap);
  BOOST_TEST((code_of(snap.error()) == errc::query_failed));
  BOOST_TEST(context_of(snap.error()).find("state too large to snapshot")
               != std::string::npos,
             context_of(snap.error()));
  BOOST_TEST((status(p).state == model_state::running));
  broken->store(false);
  BOOST_REQUIRE(ask<model_snapshot>(p, snapshot_atom::value));
  stop(p);
  BOOST_TEST(out.text.str() == "");
}

// A periodic snapshot only saves replay at the next start: one whose
// snapshot() throws is skipped, as a failed write is, and the next one,
// snapshot_every events later, tries again.
BOOST_AUTO_TEST_CASE(a_periodic_snapshot_that_throws_is_skipped_and_the_model_goes_on) {
  auto p = start(3);
  for (auto& e : events(0, 3, {"A"}, 3))
    publish({e});
  BOOST_TEST(stored_checkpoint() == 3u);
  broken->store(true);
  for (auto& e : events(3, 6, {"A"}, 3))
    publish({e});
  BOOST_TEST((status(p).state == model_state::running));
  BOOST_TEST(status(p).checkpoint == 9u);
  BOOST_TEST(stored_checkpoint() == 3u);
  BOOST_REQUIRE(query(p, "key1"));
  broken->store(false);
  for (auto& e : events(9, 3, {"A"}, 3))
    publish({e});
  BOOST_TEST(stored_checkpoint() == 12u);
  // Nor does the last one, on the way out, keep it from stopping.
  broken->store(true);
  publish(events(12, 1, {"A"}, 3));
  stop(p);
  BOOST_TEST(stored_checkpoint() == 12u);
  broken->store(false);
  auto next = start(3);
  BOOST_TEST(status(next).checkpoint == 13u);
  BOOST_TEST(status(next).replayed == 1u);
  stop(next);
  BOOST_TEST(out.text.str() == "");
}

BOOST_AUTO_TEST_CASE(what_escapes_the_guards_fails_the_projector_naming_it) {
  // The projector's exception handler, the last line of defence: logged,
  // not printed by CAF, and the reason keeps the exception's text.
  auto opts = replaying(16);
  opts.snapshot_path = db.path; // asks the model's definition() at start
  auto p = bus::actors::spawn_projector(
    sys, bus, model_spec{"sums", [] { return std::make_unique<undefined_sums>(); }},
    opts);
  self->monitor(p);
  run();
  expect_down(errc::apply_failed, {"'sums'", "no definition yet"});
  BOOST_TEST(out.text.str() == "");
}

BOOST_AUTO_TEST_SUITE_END()
