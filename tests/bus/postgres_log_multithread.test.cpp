// Two threads, each with a log of its own on one database, appending at
// once: whoever loses a commit retries after its reload, and the database
// ends dense, each id stored once at the seq its writer was told.

#include "bus/postgres_log.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/pg_scratch.hpp"

using namespace bus;

namespace {

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

BOOST_FIXTURE_TEST_SUITE(postgres_log_multithread, bus::test::pg_scratch)

BOOST_AUTO_TEST_CASE(concurrent_writers_leave_no_gap_no_double_seq_and_no_double_id) {
  constexpr std::size_t batches = 60;
  // Boost.Test is not thread-safe: the threads only record, the test checks.
  std::mutex mutex;
  std::map<std::string, std::uint64_t> acknowledged; // id -> seq
  std::vector<std::string> problems;
  std::size_t refusals = 0;
  auto write = [&](std::string prefix) {
    auto log = postgres_log::open(uri);
    if (!log) {
      std::lock_guard<std::mutex> guard{mutex};
      problems.push_back(context_of(log.error()));
      return;
    }
    for (std::size_t i = 0; i < batches; ++i) {
      // Both writers send the shared ids too: one of them stores each.
      auto batch = named(prefix, i * 3, 3);
      auto shared = named("shared", i, 1);
      batch.insert(batch.end(), shared.begin(), shared.end());
      for (int attempt = 0;; ++attempt) {
        try {
          auto result = (*log)->append(batch);
          std::lock_guard<std::mutex> guard{mutex};
          for (auto& out : result.outcomes) {
            auto [at, fresh] = acknowledged.emplace(out.id, out.seq);
            if (!fresh && at->second != out.seq)
              problems.push_back(out.id + " acknowledged at two seqs");
          }
          break;
        } catch (const storage_error& ex) {
          std::lock_guard<std::mutex> guard{mutex};
          ++refusals;
          if (attempt == 100) {
            problems.push_back(std::string{"gave up: "} + ex.what());
            return;
          }
        }
      }
    }
  };
  std::thread first{write, "p"};
  std::thread second{write, "q"};
  first.join();
  second.join();
  BOOST_TEST_MESSAGE("refused commits: " << refusals);
  BOOST_TEST(problems.empty(), (problems.empty() ? "" : problems.front()));
  BOOST_REQUIRE_EQUAL(acknowledged.size(), 2 * batches * 3 + batches);
  check_dense(acknowledged.size());
  auto log = postgres_log::open(uri);
  BOOST_REQUIRE(log);
  std::set<std::uint64_t> seqs;
  for (auto& [id, seq] : acknowledged) {
    BOOST_TEST((*log)->find(id).value_or(0) == seq, id);
    seqs.insert(seq);
  }
  BOOST_TEST(seqs.size() == acknowledged.size());
}

BOOST_AUTO_TEST_SUITE_END()
