#include "bus/postgres_log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "bus/event_id.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;

namespace {

struct log_fixture : bus::test::pg_scratch {
  std::shared_ptr<postgres_log> open(durability policy = durability::fsync_each_batch,
                                     postgres_options options = {}) {
    auto log = postgres_log::open(uri, policy, std::move(options));
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }
};

event make(std::string id, std::string type, std::string_view payload) {
  auto e = bus::test::make_event(std::move(type), payload);
  e.id = std::move(id);
  return e;
}

std::vector<event> numbered(std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i)
    result.push_back(
      make("e" + std::to_string(i), "A", "{\"n\": " + std::to_string(i) + "}"));
  return result;
}

event derived(std::string type, std::string_view payload_text) {
  event e;
  e.type = std::move(type);
  e.payload = boost::json::parse(payload_text).as_object();
  e.id = *derive_event_id(e.payload);
  e.id_derived = true;
  return e;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(postgres_log_suite, log_fixture)

BOOST_AUTO_TEST_CASE(appends_dense_seqs_reads_them_back_and_finds_their_ids) {
  auto log = open();
  auto result = log->append(numbered(0, 5));
  BOOST_TEST(log->head() == 5u);
  BOOST_TEST(log->durable_head() == 5u);
  BOOST_TEST(result.appended.size() == 5u);
  auto batch = log->read(2, 3);
  BOOST_REQUIRE_EQUAL(batch.size(), 3u);
  BOOST_TEST(batch[0].seq == 2u);
  BOOST_TEST(batch[0].id == "e1");
  BOOST_TEST(batch[2].payload.at("n").as_int64() == 3);
  BOOST_TEST(log->read(6, 3).empty());
  BOOST_TEST(log->read(0, 3).empty());
  BOOST_TEST(log->find("e4").value_or(0) == 5u);
  BOOST_TEST(!log->find("e5"));
  // Committed before append() returned: another connection sees it.
  BOOST_TEST(select("SELECT count(*) FROM bus_ids") == "5");
}

BOOST_AUTO_TEST_CASE(reopening_gives_back_every_event_read_from_the_database) {
  {
    auto log = open();
    for (std::size_t i = 0; i < 10; ++i)
      log->append(numbered(i * 10, 10));
    BOOST_TEST(log->read(3, 1).front().id == "e2");
  }
  // A new log holds nothing in memory: every read and id check below goes
  // to the rows (ten of them, one per commit).
  auto log = open();
  BOOST_TEST(select("SELECT count(*) FROM bus_events") == "10");
  BOOST_TEST(log->head() == 100u);
  std::vector<event> all;
  for_each_batch(*log, [&](const event_batch& b) {
    all.insert(all.end(), b.begin(), b.end());
  });
  BOOST_REQUIRE_EQUAL(all.size(), 100u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    BOOST_TEST(all[i].seq == i + 1);
    BOOST_TEST(all[i].id == "e" + std::to_string(i));
    BOOST_TEST(all[i].payload.at("n").as_int64() == static_cast<std::int64_t>(i));
  }
  BOOST_TEST(log->find("e0").value_or(0) == 1u);
  // An old id is still a duplicate; a new one continues the seqs.
  auto again = log->append({make("e17", "A", "{}"), make("new", "A", "{}")});
  BOOST_TEST(again.outcomes[0].duplicate);
  BOOST_TEST(again.outcomes[0].seq == 18u);
  BOOST_TEST(again.outcomes[1].seq == 101u);
}

BOOST_AUTO_TEST_CASE(events_that_left_memory_are_read_from_the_database) {
  postgres_options small;
  small.tail_events = 16; // keeps the last chunk of 4,096 events only
  auto log = open(durability::os_buffered, small);
  for (std::size_t i = 0; i < 3; ++i)
    log->append(numbered(i * 4096, 4096));
  BOOST_TEST(log->head() == 12288u);
  // Across rows of 512 events, from the middle of one.
  auto batch = log->read(1000, 600);
  BOOST_REQUIRE_EQUAL(batch.size(), 600u);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    BOOST_TEST(batch[i].seq == 1000 + i);
    BOOST_TEST(batch[i].id == "e" + std::to_string(999 + i));
  }
  BOOST_TEST(log->find("e5").value_or(0) == 6u);
  BOOST_TEST(log->append({make("e5", "A", "{}")}).outcomes[0].duplicate);
}

BOOST_AUTO_TEST_CASE(duplicates_within_a_batch_and_across_batches_are_appended_once) {
  auto log = open();
  auto first = log->append(
    {make("a", "A", "{}"), make("b", "A", "{}"), make("a", "A", "{\"again\": true}")});
  BOOST_REQUIRE_EQUAL(first.outcomes.size(), 3u);
  BOOST_TEST(!first.outcomes[1].duplicate);
  BOOST_TEST(first.outcomes[2].duplicate);
  BOOST_TEST(first.outcomes[2].seq == 1u);
  BOOST_TEST(first.appended.size() == 2u);
  auto second = log->append({make("b", "A", "{}"), make("c", "A", "{}")});
  BOOST_TEST(second.outcomes[0].duplicate);
  BOOST_TEST(second.outcomes[0].seq == 2u);
  BOOST_TEST(second.outcomes[1].seq == 3u);
  BOOST_TEST(log->head() == 3u);
  BOOST_TEST(select("SELECT count(*) FROM bus_ids") == "3");
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "3");
}

BOOST_AUTO_TEST_CASE(derived_ids_are_settled_by_content_against_stored_events) {
  constexpr const char* created = R"({"id": "evt-123", "name": "Jane"})";
  {
    auto log = open();
    log->append({derived("UserCreated", created)});
  }
  // After a reopen, from the database: the same content is a redelivery,
  // other content under the same base gets an id of its own.
  auto log = open();
  auto redelivery = log->append({derived("UserCreated", created)});
  BOOST_TEST(redelivery.outcomes[0].duplicate);
  BOOST_TEST(redelivery.outcomes[0].seq == 1u);
  auto other = log->append(
    {derived("OrderPlaced", R"({"id": "evt-123", "total": 5})")});
  BOOST_TEST(!other.outcomes[0].duplicate);
  BOOST_TEST(other.outcomes[0].id != "evt-123");
  BOOST_TEST(other.outcomes[0].id.compare(0, 8, "evt-123-") == 0);
  BOOST_TEST(log->head() == 2u);
}

BOOST_AUTO_TEST_CASE(os_buffered_commits_each_batch_without_waiting_for_the_flush) {
  auto log = open(durability::os_buffered);
  log->append(numbered(0, 3));
  BOOST_TEST(log->durable_head() == 3u);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "3");
}

BOOST_AUTO_TEST_CASE(interval_shows_nothing_past_the_durable_head_before_sync) {
  auto log = open(durability::every(std::chrono::milliseconds{50}));
  BOOST_TEST(log->sync_interval().count() == 50);
  log->append(numbered(0, 3));
  log->append(numbered(3, 2));
  BOOST_TEST(log->head() == 5u);
  BOOST_TEST(log->durable_head() == 0u);
  // Not yet in the database: a reopen would not see it.
  BOOST_TEST(select("SELECT count(*) FROM bus_events") == "0");
  BOOST_TEST(open()->head() == 0u);
  // Pending ids are known to the log itself.
  BOOST_TEST(log->find("e4").value_or(0) == 5u);
  log->sync();
  BOOST_TEST(log->durable_head() == 5u);
  // One commit for both batches: one row.
  BOOST_TEST(select("SELECT count(*) FROM bus_events") == "1");
  BOOST_TEST(open()->head() == 5u);
}

BOOST_AUTO_TEST_CASE(an_owner_that_defers_syncs_commits_many_appends_at_once) {
  // Group commit under fsync, as the bus asks for it: append() leaves its
  // events past the durable head, and one sync commits them all.
  auto log = open();
  BOOST_TEST(log->defer_syncs());
  BOOST_TEST(log->sync_interval().count() == 0);
  log->append(numbered(0, 3));
  log->append(numbered(3, 2));
  BOOST_TEST(log->head() == 5u);
  BOOST_TEST(log->durable_head() == 0u);
  BOOST_TEST(select("SELECT count(*) FROM bus_events") == "0");
  BOOST_TEST(log->find("e4").value_or(0) == 5u);
  log->sync();
  BOOST_TEST(log->durable_head() == 5u);
  BOOST_TEST(select("SELECT count(*) FROM bus_events") == "1");
  BOOST_TEST(log->timings().commit.count() == 1u);
  BOOST_TEST(open()->head() == 5u);
}

BOOST_AUTO_TEST_CASE(
  failed_interval_commit_drops_the_pending_events_and_frees_their_ids) {
  auto log = open(durability::every(std::chrono::milliseconds{50}));
  log->append(numbered(0, 2));
  log->sync();
  log->append(numbered(2, 3));
  // Another writer takes seq 3 meanwhile: this commit must roll back whole.
  auto other = open();
  other->append({make("theirs", "B", "{}")});
  BOOST_CHECK_THROW(log->sync(), storage_error);
  // Nothing of the dropped events remains; the head is the database's.
  BOOST_TEST(log->head() == 3u);
  BOOST_TEST(log->durable_head() == 3u);
  BOOST_TEST(!log->find("e2"));
  BOOST_TEST(log->health().state == store_state::healthy);
  auto retried = log->append(numbered(2, 3));
  log->sync();
  BOOST_TEST(retried.outcomes[0].seq == 4u);
  BOOST_TEST(select("SELECT sum(count) FROM bus_events") == "6");
  BOOST_TEST(log->read(3, 1).front().id == "theirs");
}

BOOST_AUTO_TEST_CASE(unreachable_database_is_an_error_naming_it_without_password) {
  auto log = postgres_log::open(
    "postgresql://bus:secret@/nowhere?host=/nonexistent-dir");
  BOOST_REQUIRE(!log);
  auto text = context_of(log.error());
  BOOST_TEST(text.find("postgresql://bus:***@/nowhere") != std::string::npos, text);
  BOOST_TEST(text.find("secret") == std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
