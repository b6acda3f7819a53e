// Two logs writing to one database: the primary key on the first seq of a
// row turns away a writer behind the head, so seqs stay dense and unique.

#include "bus/postgres_log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;

namespace {

struct writers_fixture : bus::test::pg_scratch {
  std::shared_ptr<postgres_log> open() {
    auto log = postgres_log::open(uri);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }
};

std::vector<event> named(const std::string& prefix, std::size_t first, std::size_t n) {
  std::vector<event> result;
  for (auto i = first; i < first + n; ++i) {
    auto e = bus::test::make_event("A", "{}");
    e.id = prefix + std::to_string(i);
    result.push_back(std::move(e));
  }
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(postgres_log_writers, writers_fixture)

BOOST_AUTO_TEST_CASE(writer_behind_the_head_is_refused_and_continues_after_reload) {
  auto a = open();
  auto b = open();
  a->append(named("a", 0, 5));
  // b still believes the log is empty: its seq 1 is taken.
  try {
    b->append(named("b", 0, 3));
    BOOST_FAIL("a writer behind the head appended");
  } catch (const storage_error& ex) {
    std::string what = ex.what();
    BOOST_TEST(what.find("another writer appended") != std::string::npos, what);
  }
  BOOST_TEST(b->head() == 5u);
  BOOST_TEST(b->health().state == store_state::healthy);
  // Retried, b's events follow a's; then a is the one behind.
  auto retried = b->append(named("b", 0, 3));
  BOOST_TEST(retried.outcomes[0].seq == 6u);
  BOOST_CHECK_THROW(a->append(named("a", 5, 2)), storage_error);
  BOOST_TEST(a->append(named("a", 5, 2)).outcomes[1].seq == 10u);
  // Both read what the other wrote.
  BOOST_TEST(a->read(6, 1).front().id == "b0");
  BOOST_TEST(b->find("a6").value_or(0) == 10u);
  check_dense(10);
}

BOOST_AUTO_TEST_CASE(an_id_the_other_writer_stored_is_a_duplicate_not_a_second_event) {
  auto a = open();
  auto b = open();
  a->append(named("x", 0, 1));
  auto result = b->append(named("x", 0, 1));
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 1u);
  check_dense(1);
}

BOOST_AUTO_TEST_SUITE_END()
