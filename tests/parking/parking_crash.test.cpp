// Poison events across crashes: bus-poison-child (a bus on a sqlite_log
// store, a memory model with snapshots and a document model in a table,
// both parking their poison events) is killed with SIGKILL at several
// points of a deterministic stream and started again on the same store.
// Afterwards the parked events are exactly the poison events, each once,
// every model equals a fold of the log without them, and no acknowledged
// event is lost; a retry with the poison fixed yields the full fold and
// survives another SIGKILL. Every run of the child has a hard time limit;
// nothing is timed.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "node/node_process.hpp"
#include "parking/poison_stream.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus::parking::test;
using bus::node::test::process_result;
using bus::node::test::run_process;

namespace {

constexpr std::chrono::seconds run_limit{60};

// What one run of the child printed, taken apart.
struct child_output {
  /// (first index, flags) per complete ack line, in order.
  std::vector<std::pair<std::size_t, std::string>> acks;
  /// The other lines by their first word and model ("parked tally", "log").
  std::map<std::string, std::string> rest;
};

child_output parse(const process_result& result) {
  child_output out;
  auto lines = result.out_lines();
  // A kill may cut the last line: only lines ending in '\n' count.
  if (!result.out.empty() && result.out.back() != '\n')
    lines.pop_back();
  for (auto& line : lines) {
    BOOST_REQUIRE_MESSAGE(line.rfind("error", 0) != 0, line);
    auto space = line.find(' ');
    auto word = line.substr(0, space);
    if (word == "started")
      continue;
    if (word == "ack") {
      auto second = line.find(' ', space + 1);
      out.acks.emplace_back(std::stoul(line.substr(space + 1, second - space - 1)),
                            line.substr(second + 1));
      continue;
    }
    if (word == "parked" || word == "state" || word == "retried") {
      auto second = line.find(' ', space + 1);
      word += ' ' + line.substr(space + 1, second - space - 1);
      space = second;
    }
    out.rest[word] = line.substr(space + 1);
  }
  return out;
}

struct crash_fixture {
  bus::test::sqlite_scratch scratch{"bus-poison-crash-", "bus.db"};
  /// Indexes of the events some run saw acknowledged.
  std::set<std::size_t> acknowledged;

  /// Runs the child; kills it after `kill_after` lines (0: lets it finish).
  child_output run(std::vector<std::string> args, std::size_t kill_after = 0) {
    args.insert(args.begin(), {"--store", scratch.path});
    auto result = run_process(BUS_POISON_CHILD_PATH, args, "", run_limit, kill_after);
    BOOST_REQUIRE_MESSAGE(!result.timed_out, "the child hung; stderr: " << result.err);
    if (kill_after > 0) {
      BOOST_REQUIRE_MESSAGE(result.killed, "exited before the kill: " << result.out);
      BOOST_TEST(result.term_signal == SIGKILL);
    } else {
      BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "exit " << result.exit_code << ": "
                                                           << result.out << result.err);
    }
    auto out = parse(result);
    // An event acknowledged before is in the log: a republish is a
    // duplicate, never appended again.
    for (auto& [first, flags] : out.acks) {
      for (std::size_t j = 0; j < flags.size(); ++j) {
        if (acknowledged.count(first + j) > 0)
          BOOST_TEST(flags[j] == 'd', "event " << first + j << " was lost");
        acknowledged.insert(first + j);
      }
    }
    return out;
  }
};

boost::json::value json_of(const child_output& out, const std::string& what) {
  auto i = out.rest.find(what);
  BOOST_REQUIRE_MESSAGE(i != out.rest.end(), "the child printed no '" << what << "'");
  return boost::json::parse(i->second);
}

std::size_t index_of(const boost::json::value& event) {
  auto id = std::string{event.at("id").as_string()};
  return std::stoul(id.substr(3)); // "ev-<i>"
}

// The ids of parked entries, in the order listed (seq order).
std::vector<std::size_t> parked_indexes(const boost::json::value& entries) {
  std::vector<std::size_t> result;
  for (auto& x : entries.as_array()) {
    BOOST_TEST(x.at("reason").as_string() == "failed", x);
    result.push_back(index_of(x.at("event")));
  }
  return result;
}

std::vector<std::size_t> poison_indexes(bool (*poisoned)(std::size_t)) {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < stream_size; ++i)
    if (poisoned(i))
      result.push_back(i);
  return result;
}

bool none(std::size_t) {
  return false;
}

// Folds written here, apart from the models: n summed per key...
boost::json::value fold_tally(const boost::json::array& log,
                              bool (*left_out)(std::size_t)) {
  std::map<std::string, std::int64_t> sums;
  for (auto& e : log)
    if (!left_out(index_of(e)))
      sums[std::string{e.at("payload").at("id").as_string()}]
        += e.at("payload").at("n").as_int64();
  boost::json::object result;
  for (auto& [k, n] : sums)
    result[k] = n;
  return result;
}

// ...and a document per key: "Set" replaces it, "Add" merges into it.
boost::json::value fold_listing(const boost::json::array& log,
                                bool (*left_out)(std::size_t)) {
  boost::json::object docs;
  for (auto& e : log) {
    if (left_out(index_of(e)))
      continue;
    auto& payload = e.at("payload").as_object();
    auto key = payload.at("id").as_string();
    if (e.at("type").as_string() == "Set") {
      docs[key] = payload;
      continue;
    }
    auto& doc = docs[key];
    if (!doc.is_object())
      doc = boost::json::object{};
    for (auto& kv : payload)
      doc.as_object()[kv.key()] = kv.value();
  }
  return docs;
}

// The log holds the whole stream once, in order: nothing acknowledged
// lost, nothing appended twice.
boost::json::array check_log(const child_output& out) {
  auto events = json_of(out, "log").as_array();
  BOOST_REQUIRE_EQUAL(events.size(), stream_size);
  for (std::size_t i = 0; i < events.size(); ++i) {
    BOOST_TEST(index_of(events[i]) == i);
    BOOST_TEST(events[i].at("seq").as_int64() == static_cast<std::int64_t>(i + 1));
  }
  return events;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(parking_crash_multithread, crash_fixture)

BOOST_AUTO_TEST_CASE(sigkill_while_parking_loses_nothing_and_parks_nothing_twice) {
  // 100 ack lines in all; each run starts over (a client resending) and
  // gets further before its kill (after "started" and that many acks).
  // Between them, a run killed right after "started" crashes during the
  // restore and catch-up, where the tail's poison events park again.
  for (std::size_t acks : {3u, 12u, 29u, 47u, 64u, 83u}) {
    run({"--mode", "publish"}, 1 + acks);
    run({"--mode", "publish"}, 1);
  }
  BOOST_TEST(acknowledged.size() >= 83 * batch_size);
  auto report = run({"--mode", "report"});
  BOOST_TEST(acknowledged.size() == stream_size);
  auto log = check_log(report);
  // Exactly the poison events, each once, in seq order.
  BOOST_TEST(parked_indexes(json_of(report, "parked tally"))
               == poison_indexes(tally_poison),
             boost::test_tools::per_element());
  BOOST_TEST(parked_indexes(json_of(report, "parked listing"))
               == poison_indexes(listing_poison),
             boost::test_tools::per_element());
  BOOST_TEST(json_of(report, "state tally") == fold_tally(log, tally_poison));
  BOOST_TEST(json_of(report, "state listing") == fold_listing(log, listing_poison));

  // Fixed, a retry applies every parked event and persists that at once:
  // killed right after its answer, then restarted still poisoned, nothing
  // parks again and nothing is lost.
  auto retried = run({"--mode", "retry", "--fixed"}, 3);
  BOOST_TEST(retried.rest["retried tally"]
             == std::to_string(poison_indexes(tally_poison).size()) + " 0");
  BOOST_TEST(retried.rest["retried listing"]
             == std::to_string(poison_indexes(listing_poison).size()) + " 0");
  auto after = run({"--mode", "report"});
  auto same_log = check_log(after);
  BOOST_TEST(json_of(after, "parked tally").as_array().empty());
  BOOST_TEST(json_of(after, "parked listing").as_array().empty());
  BOOST_TEST(json_of(after, "state tally") == fold_tally(same_log, none));
  BOOST_TEST(json_of(after, "state listing") == fold_listing(same_log, none));
}

BOOST_AUTO_TEST_SUITE_END()
