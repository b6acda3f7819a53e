#include "bus/change_recorder.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bus/document_model.hpp"
#include "bus/forwarding_model.hpp"
#include "bus/index_model.hpp"
#include "bus/snapshot_rows.hpp"
#include "support/json_events.hpp"
#include "support/user_documents.hpp"

using namespace bus;
using bus::test::by_email_config;
using bus::test::make_event;
using bus::test::users_config;

namespace {

// A model, its recorder, and the rows of every snapshot taken so far, as
// a projector keeps them: record after every apply.
struct recorded {
  std::unique_ptr<read_model> model;
  change_recorder changes;
  std::string snapshots; // every take(), in order: the stored base and deltas
  std::vector<std::string> keys;

  recorded(std::unique_ptr<read_model> m, std::size_t rows_at_most,
           row_form form = row_form::record)
    : model(std::move(m)), changes(rows_at_most, form) {
    model->track_changes();
  }

  void apply(const std::string& type, const std::string& payload) {
    model->apply(make_event(type, payload));
    keys.clear();
    model->take_changes(keys);
    changes.record(keys, *model);
  }

  void take() { snapshots += changes.take(*model); }

  // What a restore from the snapshots would hold.
  boost::json::object restored() {
    auto state = rows_state(snapshots);
    BOOST_REQUIRE(state);
    return *state;
  }
};

// Counts the values the recorder has written: each is a serialization on
// the projector's thread.
class counting_writes final : public forwarding_model {
public:
  using forwarding_model::forwarding_model;

  bool write_value(std::string_view key, std::string& out) const override {
    ++writes;
    return forwarding_model::write_value(key, out);
  }

  mutable std::size_t writes = 0;
};

std::string user(int id, int email) {
  return R"({"id": "u)" + std::to_string(id) + R"(", "email": "e)"
         + std::to_string(email) + R"(@example.org", "name": "user )"
         + std::to_string(id) + "\"}";
}

} // namespace

// The rows of `text`, JSON lines and record rows alike.
std::size_t rows_in(std::string_view text) {
  auto lines = rows_as_json(text);
  BOOST_REQUIRE(lines);
  return static_cast<std::size_t>(std::count(lines->begin(), lines->end(), '\n'));
}

BOOST_AUTO_TEST_SUITE(change_recorder_suite)

BOOST_AUTO_TEST_CASE(many_changes_of_few_keys_hold_memory_of_the_keys_not_the_changes) {
  // A snapshot writer that falls behind: 100,000 updates of 100 users
  // between two snapshots. Recorded as a row each, that is some 6 MB.
  recorded users{std::make_unique<document_model>(users_config()), 4096};
  for (int i = 0; i < 100'000; ++i)
    users.apply("UserUpdated", user(i % 100, i));
  BOOST_TEST(users.changes.capture() == change_capture::keys);
  BOOST_TEST(users.changes.rows_bytes() <= 4096u + 200u);
  BOOST_TEST(users.changes.keys_kept() <= 100u);
  users.take();
  BOOST_TEST(users.snapshots.size() <= 4096u + 200u + 100u * 200u);
  BOOST_TEST(users.restored() == users.model->snapshot().as_object());
  // Taken, it records rows again.
  BOOST_TEST(users.changes.capture() == change_capture::rows);
  BOOST_TEST(users.changes.rows_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(past_the_bound_a_change_costs_a_lookup_not_a_serialization) {
  // 100,000 updates of 100 users between two snapshots, past the bound:
  // each key's value is written once, when the snapshot is taken.
  auto counted = std::make_unique<counting_writes>(
    std::make_unique<document_model>(users_config()));
  auto& writes = counted->writes;
  recorded users{std::move(counted), 4096};
  for (int i = 0; i < 100'000; ++i)
    users.apply("UserUpdated", user(i % 100, i));
  BOOST_TEST(users.changes.capture() == change_capture::keys);
  BOOST_TEST(writes < 200u); // the rows before the bound
  auto before = writes;
  users.take();
  BOOST_TEST(writes - before == 100u);
  BOOST_TEST(users.restored() == users.model->snapshot().as_object());
}

BOOST_AUTO_TEST_CASE(holds_agrees_with_write_value) {
  // A key the recorder thinks gone gets a row that removes it: holds()
  // must say what write_value() does, for keys added, changed and removed.
  recorded users{std::make_unique<document_model>(users_config()), 0};
  recorded by_email{std::make_unique<index_model>(by_email_config()), 0};
  std::mt19937 rng{7};
  for (int i = 0; i < 2'000; ++i) {
    auto payload = user(static_cast<int>(rng() % 40), static_cast<int>(rng() % 60));
    auto type = rng() % 4 == 0 ? "UserDeleted" : "UserUpdated";
    users.apply(type, payload);
    by_email.apply(type, payload);
  }
  for (auto* r : {&users, &by_email}) {
    for (int i = 0; i < 60; ++i) {
      for (auto key :
           {"u" + std::to_string(i), "e" + std::to_string(i) + "@example.org"}) {
        std::string value;
        BOOST_TEST(r->model->holds(key) == r->model->write_value(key, value),
                   r->model->name() << " " << key);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(counted_tells_the_lines_taken_and_the_keys_they_change) {
  // What the snapshot writer decides a fold on: the lines exactly, the
  // keys a fold would leave (removals included) within 5 %, whether the
  // recorder writes rows, keeps keys, or switches between the two.
  for (std::size_t bound :
       {std::size_t{0}, std::size_t{20'000}, std::size_t{1} << 30}) {
    for (int keys : {3, 50, 5'000}) {
      std::mt19937 rng{static_cast<unsigned>(keys)};
      recorded users{std::make_unique<document_model>(users_config()), bound};
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 8'000; ++i) {
          auto id = static_cast<int>(rng() % static_cast<unsigned>(keys));
          users.apply(rng() % 5 == 0 ? "UserDeleted" : "UserUpdated", user(id, i));
        }
        auto counted = users.changes.counted();
        auto text = users.changes.take(*users.model);
        auto lines = rows_in(text);
        auto folded = compact_rows({text}, removed_rows::keep);
        BOOST_REQUIRE(folded);
        auto distinct = rows_in(*folded);
        BOOST_TEST(counted.lines == lines,
                   "bound " << bound << ", " << keys << " keys");
        auto off = counted.keys > distinct ? counted.keys - distinct
                                           : distinct - counted.keys;
        BOOST_TEST(off <= std::max<std::size_t>(1, distinct * 5 / 100),
                   "bound " << bound << ": estimated " << counted.keys << ", folded "
                            << distinct);
        // Taken, it counts from nothing.
        BOOST_TEST(users.changes.counted().lines == 0u);
        BOOST_TEST(users.changes.counted().keys == 0u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(keys_removed_leave_a_short_row_and_are_not_kept) {
  // An index whose values move on with every update: each update removes
  // a key and adds one. Only the keys the model holds are kept.
  recorded by_email{std::make_unique<index_model>(by_email_config()), 0};
  for (int i = 0; i < 10'000; ++i)
    by_email.apply(i < 50 ? "UserCreated" : "UserUpdated", user(i % 50, i));
  BOOST_TEST(by_email.changes.capture() == change_capture::keys);
  BOOST_TEST(by_email.changes.keys_kept() <= 50u);
  by_email.take();
  BOOST_TEST(by_email.restored() == by_email.model->snapshot().as_object());
}

BOOST_AUTO_TEST_CASE(snapshots_restore_the_state_whatever_the_bound) {
  // Creates, updates and deletes over few keys, snapshots at random
  // points, for recorders that switch to keys at once, soon, or never.
  for (std::size_t bound : {std::size_t{0}, std::size_t{300}, std::size_t{1} << 30}) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
      std::mt19937 rng{seed};
      recorded users{std::make_unique<document_model>(users_config()), bound};
      recorded by_email{std::make_unique<index_model>(by_email_config()), bound};
      for (int i = 0; i < 400; ++i) {
        auto id = static_cast<int>(rng() % 12);
        auto roll = rng() % 10;
        auto type = roll < 2   ? "UserDeleted"
                    : roll < 4 ? "UserReplaced"
                               : "UserUpdated";
        auto payload = user(id, static_cast<int>(rng() % 30));
        users.apply(type, payload);
        by_email.apply(roll < 2 ? "UserDeleted" : "UserUpdated", payload);
        if (rng() % 25 == 0) {
          users.take();
          by_email.take();
        }
      }
      users.take();
      by_email.take();
      BOOST_TEST_CONTEXT("bound " << bound << ", seed " << seed) {
        BOOST_TEST(users.restored() == users.model->snapshot().as_object());
        BOOST_TEST(by_email.restored() == by_email.model->snapshot().as_object());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_buffer_handed_back_is_reused_only_while_empty) {
  recorded users{std::make_unique<document_model>(users_config()), 1 << 20};
  std::string spare;
  spare.reserve(100'000);
  users.changes.reuse(std::move(spare), 50'000);
  BOOST_TEST(users.changes.capacity() >= 100'000u);
  users.apply("UserCreated", user(1, 1));
  auto before = users.changes.rows_bytes();
  std::string other;
  other.reserve(500'000);
  users.changes.reuse(std::move(other), 50'000); // rows recorded: ignored
  BOOST_TEST(users.changes.rows_bytes() == before);
  BOOST_TEST(users.changes.capacity() < 500'000u);
  users.take();
  BOOST_TEST(users.restored() == users.model->snapshot().as_object());
}

BOOST_AUTO_TEST_CASE(a_recorder_for_a_store_of_text_writes_json_lines) {
  // A document model writes record rows, unless its recorder is for a
  // store that keeps JSON lines (PostgreSQL), in either capture mode.
  for (std::size_t bound : {std::size_t{0}, std::size_t{1} << 30}) {
    for (auto form : {row_form::record, row_form::json}) {
      recorded users{std::make_unique<document_model>(users_config()), bound, form};
      for (int i = 0; i < 300; ++i)
        users.apply(i % 7 == 6 ? "UserDeleted" : "UserUpdated", user(i % 40, i));
      users.take();
      auto& text = users.snapshots;
      BOOST_REQUIRE(!text.empty());
      auto has_record_rows = text.find('\0') != std::string::npos;
      BOOST_TEST(has_record_rows == (form == row_form::record),
                 "bound " << bound << ", form " << to_string(form));
      if (form == row_form::json)
        BOOST_TEST(text.front() == '[');
      document_model expected{users_config()};
      for (int i = 0; i < 300; ++i)
        expected.apply(
          make_event(i % 7 == 6 ? "UserDeleted" : "UserUpdated", user(i % 40, i)));
      BOOST_TEST(boost::json::value(users.restored()) == expected.snapshot());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
