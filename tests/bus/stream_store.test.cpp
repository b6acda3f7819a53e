#include "bus/stream_store.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "bus/errc.hpp"
#include "bus/event_stream.hpp"
#include "bus/memory_log.hpp"
#include "bus/sqlite_log.hpp"
#include "support/account_aggregate.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus;
using bus::test::account;
using bus::test::account_type;
using bus::test::make_command;

namespace {

stream_store make_store(std::size_t snapshot_every) {
  auto store = stream_store::make({account_type()}, snapshot_every);
  BOOST_REQUIRE(store);
  return std::move(*store);
}

// Runs `c` on `store` and hands its events to the store as the log would,
// with the next seqs; returns the events.
std::vector<event> commit(stream_store& store, const command& c, std::uint64_t& seq) {
  auto events = store.decide(c);
  if (!events)
    BOOST_FAIL(c.name << " on " << c.stream << ": " << context_of(events.error()));
  for (auto& e : *events) {
    e.seq = ++seq;
    store.observe(e);
  }
  return *events;
}

// A history over two interleaved streams: opens, deposits and withdrawals.
std::vector<event> history(stream_store& store, int steps) {
  std::vector<event> log;
  std::uint64_t seq = 0;
  for (auto* s : {"acct-a", "acct-b"})
    for (auto& e : commit(store, make_command("Open", s, 0, {{"owner", s}}), seq))
      log.push_back(e);
  for (int i = 0; i < steps; ++i) {
    std::string s = i % 3 == 0 ? "acct-b" : "acct-a";
    auto name = i % 4 == 3 ? "Withdraw" : "Deposit";
    auto amount = i % 4 == 3 ? 1 + i % 5 : 10 + i;
    for (auto& e : commit(
           store, make_command(name, s, store.version(s), {{"amount", amount}}), seq))
      log.push_back(e);
  }
  return log;
}

std::string state_of(const stream_store& store, const std::string& stream) {
  auto agg = store.load(stream);
  if (!agg)
    BOOST_FAIL(context_of(agg.error()));
  return boost::json::serialize((*agg)->snapshot());
}

std::string fold_of(const std::vector<event>& log, const std::string& stream) {
  account acc;
  for (auto& e : log)
    if (auto pos = stream_of(e); pos && pos->stream == stream)
      acc.apply(e);
  return boost::json::serialize(acc.snapshot());
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream_store_suite)

BOOST_AUTO_TEST_CASE(a_command_on_a_new_stream_decides_its_first_version) {
  auto store = make_store(10);
  auto events = store.decide(make_command("Open", "acct-1", 0, {{"owner", "ann"}}));
  BOOST_REQUIRE(events);
  BOOST_REQUIRE(events->size() == 1u);
  auto& e = events->front();
  BOOST_TEST(e.id == "acct-1@1");
  BOOST_TEST(e.type == "Opened");
  BOOST_TEST(e.seq == 0u);
  auto pos = stream_of(e);
  BOOST_REQUIRE(pos);
  BOOST_TEST(pos->stream == "acct-1");
  BOOST_TEST(pos->version == 1u);
  BOOST_TEST(pos->aggregate == "account");
  // Deciding writes nothing: the stream moves once the log took the event.
  BOOST_TEST(store.version("acct-1") == 0u);
  store.observe(e);
  BOOST_TEST(store.version("acct-1") == 1u);
}

BOOST_AUTO_TEST_CASE(a_stale_expected_version_is_a_conflict_naming_both_versions) {
  auto store = make_store(10);
  std::uint64_t seq = 0;
  commit(store, make_command("Open", "acct-1", 0, {{"owner", "ann"}}), seq);
  commit(store, make_command("Deposit", "acct-1", 1, {{"amount", 5}}), seq);
  // A second sender decided on version 1 too: it lost the race.
  auto late = store.decide(make_command("Deposit", "acct-1", 1, {{"amount", 7}}));
  BOOST_REQUIRE(!late);
  BOOST_TEST(code_of(late.error()) == errc::version_conflict);
  BOOST_TEST(context_of(late.error())
             == "stream 'acct-1': expected version 1, but it is at version 2");
  // Nor may a command create a stream that exists.
  auto again = store.decide(make_command("Open", "acct-1", 0, {{"owner", "bob"}}));
  BOOST_REQUIRE(!again);
  BOOST_TEST(code_of(again.error()) == errc::version_conflict);
  BOOST_TEST(store.version("acct-1") == 2u);
}

BOOST_AUTO_TEST_CASE(a_command_the_aggregate_refuses_is_rejected_and_changes_nothing) {
  auto store = make_store(10);
  std::uint64_t seq = 0;
  commit(store, make_command("Open", "acct-1", 0, {{"owner", "ann"}}), seq);
  auto before = state_of(store, "acct-1");
  auto overdraw = store.decide(make_command("Withdraw", "acct-1", 1, {{"amount", 5}}));
  BOOST_REQUIRE(!overdraw);
  BOOST_TEST(code_of(overdraw.error()) == errc::command_rejected);
  BOOST_TEST(context_of(overdraw.error()) == "Withdraw: insufficient balance 0");
  BOOST_TEST(store.version("acct-1") == 1u);
  BOOST_TEST(state_of(store, "acct-1") == before);
}

BOOST_AUTO_TEST_CASE(unknown_commands_and_foreign_streams_are_refused) {
  auto other = aggregate_type{"ledger", {"Post"}, [] {
                                return std::make_unique<account>();
                              }};
  auto store = stream_store::make({account_type(), other}, 10);
  BOOST_REQUIRE(store);
  auto unknown = store->decide(make_command("Fly", "acct-1", 0));
  BOOST_REQUIRE(!unknown);
  BOOST_TEST(code_of(unknown.error()) == errc::unknown_command);
  BOOST_TEST(context_of(unknown.error()) == "no aggregate handles command 'Fly'");
  std::uint64_t seq = 0;
  commit(*store, make_command("Open", "acct-1", 0, {{"owner", "ann"}}), seq);
  auto foreign = store->decide(make_command("Post", "acct-1", 1));
  BOOST_REQUIRE(!foreign);
  BOOST_TEST(code_of(foreign.error()) == errc::unknown_command);
  BOOST_TEST(context_of(foreign.error())
             == "command 'Post' is for aggregate 'ledger', but stream 'acct-1' belongs "
                "to 'account'");
  auto nameless = store->decide(make_command("Open", "", 0, {{"owner", "x"}}));
  BOOST_REQUIRE(!nameless);
  BOOST_TEST(code_of(nameless.error()) == errc::command_rejected);
}

BOOST_AUTO_TEST_CASE(an_event_the_aggregate_cannot_apply_never_leaves_the_store) {
  auto store = make_store(10);
  std::uint64_t seq = 0;
  commit(store, make_command("Open", "acct-1", 0, {{"owner", "ann"}}), seq);
  auto corrupt = store.decide(make_command("Corrupt", "acct-1", 1));
  BOOST_REQUIRE(!corrupt);
  BOOST_TEST(code_of(corrupt.error()) == errc::apply_failed);
  BOOST_TEST(context_of(corrupt.error()).find("account cannot apply 'Bogus'")
             != std::string::npos);
  auto touch = store.decide(make_command("Touch", "acct-1", 1));
  BOOST_REQUIRE(touch);
  BOOST_TEST(touch->empty());
}

BOOST_AUTO_TEST_CASE(types_sharing_a_command_are_a_configuration_error) {
  auto twin = aggregate_type{"twin", {"Deposit"}, [] {
                               return std::make_unique<account>();
                             }};
  auto store = stream_store::make({account_type(), twin}, 10);
  BOOST_REQUIRE(!store);
  BOOST_TEST(code_of(store.error()) == errc::invalid_config);
  BOOST_TEST(context_of(store.error())
             == "command 'Deposit' is handled by two aggregate types");
}

BOOST_AUTO_TEST_CASE(snapshot_plus_tail_equals_the_whole_stream) {
  auto snapshotting = make_store(4);
  auto log = history(snapshotting, 40);
  auto whole = make_store(0);
  for (auto& e : log)
    whole.observe(e);
  for (std::string s : {"acct-a", "acct-b"}) {
    auto version = snapshotting.version(s);
    BOOST_TEST(version == whole.version(s));
    // A snapshot every 4 events of the stream: the tail holds the rest.
    BOOST_TEST(snapshotting.snapshot_version(s) == version / 4 * 4);
    BOOST_TEST(snapshotting.tail_size(s) == version % 4);
    BOOST_TEST(whole.snapshot_version(s) == 0u);
    BOOST_TEST(whole.tail_size(s) == version);
    BOOST_TEST(state_of(snapshotting, s) == state_of(whole, s));
    BOOST_TEST(state_of(snapshotting, s) == fold_of(log, s));
  }
  // The digest saw every event: a different history gives a different state.
  BOOST_TEST(state_of(whole, "acct-a") != state_of(whole, "acct-b"));
}

BOOST_AUTO_TEST_CASE(a_replay_overlapping_what_was_seen_moves_nothing) {
  auto store = make_store(3);
  auto log = history(store, 12);
  auto before = state_of(store, "acct-a");
  auto version = store.version("acct-a");
  for (auto& e : log)
    store.observe(e);
  BOOST_TEST(store.version("acct-a") == version);
  BOOST_TEST(state_of(store, "acct-a") == before);
  // Events of no stream are none of the store's business.
  event plain;
  plain.id = "x";
  plain.type = "Deposited";
  store.observe(plain);
  BOOST_TEST(store.streams() == 2u);
}

BOOST_AUTO_TEST_CASE(an_event_naming_a_stream_without_its_id_is_not_of_the_stream) {
  // A client published "x1" with the metadata of acct-1 v1; the live
  // handler then wrote acct-1@1 itself. Read back after a restart, "x1"
  // took v1 and the handler's own event was dropped as seen before: the
  // node answered commands unlike the one before it.
  auto writer = make_store(10);
  std::uint64_t seq = 1;
  auto mine = commit(writer, make_command("Open", "acct-1", 0, {{"owner", "ann"}}),
                     seq);
  auto foreign = mine.front();
  foreign.id = "x1";
  foreign.seq = 1;
  foreign.payload = boost::json::object{{"owner", "eve"}};
  auto reader = make_store(10);
  reader.observe(foreign);
  reader.observe(mine.front());
  BOOST_TEST(reader.version("acct-1") == 1u);
  BOOST_TEST(state_of(reader, "acct-1") == state_of(writer, "acct-1"));
}

BOOST_AUTO_TEST_CASE(streams_are_rebuilt_from_the_memory_log) {
  auto writer = make_store(5);
  auto log = history(writer, 30);
  memory_log mem;
  auto appended = mem.append(log);
  BOOST_REQUIRE(appended.appended.size() == log.size());
  auto reader = make_store(5);
  for_each_batch(mem, [&](const event_batch& batch) {
    for (auto& e : batch)
      reader.observe(e);
  });
  for (std::string s : {"acct-a", "acct-b"}) {
    BOOST_TEST(reader.version(s) == writer.version(s));
    BOOST_TEST(state_of(reader, s) == state_of(writer, s));
  }
  // The ids are per stream version: a second write of one is a duplicate.
  auto again = mem.append({log.back()});
  BOOST_TEST(again.outcomes.front().duplicate);
}

BOOST_AUTO_TEST_CASE(streams_are_rebuilt_from_the_sqlite_store_after_reopening) {
  bus::test::sqlite_scratch scratch{"bus-streams-", "log.db"};
  auto writer = make_store(5);
  auto log = history(writer, 30);
  {
    auto db = sqlite_log::open(scratch.path);
    BOOST_REQUIRE(db);
    (*db)->append(log);
    (*db)->sync();
  }
  auto db = sqlite_log::open(scratch.path);
  BOOST_REQUIRE(db);
  auto reader = make_store(5);
  for_each_batch(**db, [&](const event_batch& batch) {
    for (auto& e : batch)
      reader.observe(e);
  });
  for (std::string s : {"acct-a", "acct-b"}) {
    BOOST_TEST(reader.version(s) == writer.version(s));
    BOOST_TEST(state_of(reader, s) == state_of(writer, s));
  }
}

BOOST_AUTO_TEST_SUITE_END()
