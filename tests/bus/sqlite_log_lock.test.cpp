// One writer per SQLite store: a second open of a store, in this process or
// in another one, is refused while the first is open, a store whose holder
// closed it or died opens again, and a row another writer slipped in fails
// the store.

#include "bus/sqlite_log.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <string>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/errc.hpp"
#include "support/json_events.hpp"
#include "support/scratch_dir.hpp"

using namespace bus;

namespace {

struct lock_fixture {
  bus::test::scratch_dir scratch{"bus-log-lock-"};
  std::string path = scratch.file("bus.db");

  std::shared_ptr<sqlite_log> open() {
    auto log = sqlite_log::open(path);
    if (!log)
      BOOST_FAIL(context_of(log.error()));
    return *log;
  }

  static std::vector<event> one_event(const std::string& id) {
    auto e = bus::test::make_event("A", R"({"n": 1})");
    e.id = id;
    return {e};
  }
};

// Runs `child` in a forked process and returns its exit status, or -1 when
// it did not exit (killed by a signal).
template <class F>
int in_child(F child) {
  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0)
    ::_exit(child()); // no atexit handlers: they belong to the test runner
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The refusal of opening `path` as the child saw it, through a pipe: ""
// when the open succeeded.
std::string refusal_in_child(const std::string& path) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  in_child([&] {
    ::close(fds[0]);
    auto log = sqlite_log::open(path);
    std::string why = log ? ""
                          : to_string(code_of(log.error())) + " "
                              + context_of(log.error());
    auto written = ::write(fds[1], why.data(), why.size());
    return written == static_cast<ssize_t>(why.size()) ? 0 : 1;
  });
  ::close(fds[1]);
  std::string result;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    result.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(sqlite_log_lock, lock_fixture)

BOOST_AUTO_TEST_CASE(a_second_open_in_the_same_process_is_refused) {
  auto first = open();
  first->append(one_event("e1"));
  auto second = sqlite_log::open(path);
  BOOST_REQUIRE(!second);
  BOOST_TEST(code_of(second.error()) == errc::storage_failed);
  auto why = context_of(second.error());
  BOOST_TEST_INFO("refusal: " << why);
  BOOST_TEST(why.find(path) != std::string::npos);
  BOOST_TEST(why.find("in use") != std::string::npos);
  // Closed, the store opens again, with what the first one wrote.
  first.reset();
  auto third = open();
  BOOST_TEST(third->head() == 1u);
}

BOOST_AUTO_TEST_CASE(another_process_is_refused_and_told_the_holders_pid) {
  auto holder = open();
  auto why = refusal_in_child(path);
  BOOST_TEST_INFO("refusal: " << why);
  BOOST_TEST(why.find("storage_failed") == 0u);
  BOOST_TEST(why.find(path + ": the store is in use by another process")
             != std::string::npos);
  BOOST_TEST(why.find("pid " + std::to_string(::getpid())) != std::string::npos);
  holder.reset();
  BOOST_TEST(refusal_in_child(path) == "");
}

BOOST_AUTO_TEST_CASE(a_store_whose_holder_was_killed_opens) {
  // SIGKILL: no destructor runs, the OS alone releases what it held.
  auto status = in_child([&] {
    auto log = sqlite_log::open(path);
    if (!log)
      return 1;
    (*log)->append(one_event("e1"));
    ::raise(SIGKILL);
    return 2;
  });
  BOOST_REQUIRE(status == -1);
  auto log = open();
  BOOST_TEST(log->head() == 1u);
}

// A writer that goes around the lock (an old release, a hand-made
// connection) and adds a row where this log's next one goes: the store is
// failed, not reported healthy while it refuses every batch.
BOOST_AUTO_TEST_CASE(a_row_written_by_another_writer_fails_the_store) {
  auto log = open();
  log->append(one_event("e1"));
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto rc = sqlite3_exec(db,
                         "INSERT INTO batches (first_seq, count, events) "
                         "VALUES (2, 1, x'00')",
                         nullptr, nullptr, nullptr);
  sqlite3_close(db);
  BOOST_REQUIRE(rc == SQLITE_OK);
  BOOST_CHECK_THROW(log->append(one_event("e2")), storage_error);
  BOOST_TEST(log->health().state == store_state::failed);
  BOOST_TEST_INFO("reason: " << log->health().reason);
  BOOST_TEST(log->health().reason.find("another writer") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
