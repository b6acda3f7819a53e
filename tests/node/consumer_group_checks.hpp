#pragma once

// Checks of a model shared by projector nodes (competing consumers), made
// through the bus node's status: each partition listed once, in the state
// and at the checkpoint expected. Every wait polls under a hard deadline.
// Shared by the consumer group and shared pause tests.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"

namespace bus::node::test {

inline const char* shared_listing = R"({"read_models": [{"name": "user_listing",
  "kind": "document", "key": "id", "merge_on": ["UserCreated", "UserUpdated"],
  "delete_on": ["UserDeleted"], "partitions": 6}]})";

constexpr int shared_partition_count = 6;

inline std::vector<std::string> all_partitions() {
  std::vector<std::string> result;
  for (int i = 0; i < shared_partition_count; ++i)
    result.push_back("user_listing#" + std::to_string(i));
  return result;
}

// True when each partition is listed once in `status` (a rebalance is
// over: no node runs one it gave away).
inline bool listed_once_each(const std::string& status) {
  for (auto& name : all_partitions()) {
    auto quoted = "\"" + name + "\"";
    auto first = status.find(quoted);
    if (first == std::string::npos
        || status.find(quoted, first + 1) != std::string::npos)
      return false;
  }
  return true;
}

// Polls the bus node's status every 50 ms until `settled(models, head)`
// holds for one status; false once the hard deadline (60 s, scaled) passed.
template <class Predicate>
bool poll_until(cluster& c, Predicate settled) {
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds{60});
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint64_t head = 0;
    auto ms = c.models(head);
    if (settled(ms, head))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return false;
}

// Polls the bus node's status (hard deadline) until each partition is
// listed once and runs at the head.
inline void until_settled(cluster& c) {
  auto settled = [&c](const auto& ms, std::uint64_t head) {
    bool result = listed_once_each(c.last_status);
    for (auto& name : all_partitions()) {
      auto i = ms.find(name);
      result = result && i != ms.end() && i->second.at("state").as_string() == "running"
               && static_cast<std::uint64_t>(i->second.at("checkpoint").as_int64())
                    == head;
    }
    return result;
  };
  if (!poll_until(c, settled))
    BOOST_FAIL("the partitions did not settle within 60 s: " + c.last_status);
}

// Polls the bus node's status (hard deadline) until each partition is
// listed once, paused at checkpoint `frozen`. A partition seen past
// `frozen`, or running, applies events published after the pause: that
// fails at once. Any other state may pass on the way (away, restoring,
// paused on its way up to `frozen`, unreachable on a loaded machine).
inline void until_paused_at(cluster& c, std::uint64_t frozen) {
  auto paused = [&c, frozen](const auto& ms, std::uint64_t) {
    bool result = listed_once_each(c.last_status);
    for (auto& name : all_partitions()) {
      auto i = ms.find(name);
      if (i == ms.end()) {
        result = false;
        continue;
      }
      auto state = std::string{i->second.at("state").as_string()};
      auto at = static_cast<std::uint64_t>(i->second.at("checkpoint").as_int64());
      BOOST_REQUIRE_MESSAGE(at <= frozen && state != "running",
                            name + " is " + state + " at checkpoint "
                              + std::to_string(at) + ", not paused at "
                              + std::to_string(frozen) + ": " + c.last_status);
      result = result && state == "paused" && at == frozen;
    }
    return result;
  };
  if (!poll_until(c, paused))
    BOOST_FAIL("the partitions were not all paused at " + std::to_string(frozen)
               + " within 60 s: " + c.last_status);
}

// Each partition is listed once in the bus node's status (it runs on one
// node), and the events they applied sum to the head: each applied once.
inline void applied_once_each(cluster& c) {
  std::uint64_t head = 0;
  auto ms = c.models(head);
  std::int64_t applied = 0;
  for (auto& name : all_partitions()) {
    auto i = ms.find(name);
    BOOST_REQUIRE_MESSAGE(i != ms.end(), name + " missing: " + c.last_status);
    applied += i->second.at("applied").as_int64();
  }
  BOOST_TEST(listed_once_each(c.last_status),
             "listed more than once: " << c.last_status);
  BOOST_TEST(applied == static_cast<std::int64_t>(head));
}

// Queries each of `users` once while partitions move: each answer is the frozen
// state (a fold of `before`, the events published before the pause) or
// error 11 (a partition away, or paused and replaying up to where it
// froze), never a state past the pause.
inline void check_frozen_or_unavailable(cluster& c,
                                        const std::vector<user_event>& before,
                                        std::size_t users) {
  auto listing = fold_listing(before);
  for (std::size_t u = 0; u < users; ++u) {
    auto key = "user-" + std::to_string(u);
    auto r = c.call(R"("type": "query", "model": "user_listing", "key": ")" + key
                    + "\"");
    auto doc = listing.find(key);
    if (r.text("type") == "query_ok")
      BOOST_TEST((doc != listing.end()
                  && r.body.at("value") == boost::json::value(doc->second)),
                 r.line);
    else
      BOOST_TEST((r.json("code") == "11"
                  || (r.json("code") == "20" && doc == listing.end())),
                 r.line);
  }
}

} // namespace bus::node::test
