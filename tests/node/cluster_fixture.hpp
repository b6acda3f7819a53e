#pragma once

// A bus node and projector nodes as real processes on loopback (node_child),
// driven through the bus node's protocol: start them, wait for the read
// models to catch up, publish a user stream and check the models against
// its folds. Every wait has a hard deadline. Shared by the cluster and TLS
// tests.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>

#include "node_child.hpp"
#include "node_protocol.hpp"
#include "user_stream.hpp"

namespace bus::node::test {

inline const std::string config_dir = BUS_CONFIG_DIR;

struct cluster {
  const std::vector<std::string> both{"user_listing", "user_by_email"};
  std::unique_ptr<node_child> bus;
  std::string port;
  std::map<std::string, std::unique_ptr<node_child>> projectors;
  long long next_msg_id = 1;
  std::string last_status;

  void start_bus(std::vector<std::string> extra = {}, std::string at_port = "0") {
    std::vector<std::string> args{"--config", config_dir + "/bus-only.json", "--listen",
                                  "127.0.0.1:" + at_port};
    args.insert(args.end(), extra.begin(), extra.end());
    bus = std::make_unique<node_child>(BUS_NODE_PATH, args);
    auto err = bus->wait_for_err("listening on 127.0.0.1:");
    auto at = err.find("listening on 127.0.0.1:") + 23;
    port = err.substr(at, err.find('\n', at) - at);
  }

  // A bus node (with `bus_args`) and node-a (user_listing) and node-b
  // (user_by_email), attached and caught up.
  void start_all(std::vector<std::string> bus_args = {}) {
    start_bus(std::move(bus_args));
    start_projector("node-a", "projector-listing.json");
    start_projector("node-b", "projector-email.json");
    until_caught_up(both);
  }

  // Every event of `stream` was applied exactly once by each model.
  void check_applied_once(const std::vector<user_event>& stream) {
    std::uint64_t head = 0;
    auto ms = models(head);
    std::set<std::string> ids;
    for (auto& e : stream)
      ids.insert(e.id);
    BOOST_TEST(head == ids.size());
    for (auto& name : both)
      BOOST_TEST(ms[name].at("applied").as_int64() == static_cast<std::int64_t>(head),
                 name);
  }

  void start_projector(const std::string& name, const std::string& config,
                       std::vector<std::string> extra = {}) {
    // A name of config/, or a path of its own.
    auto path = config.front() == '/' ? config : config_dir + "/" + config;
    std::vector<std::string> args{
      "--connect", "127.0.0.1:" + port, "--config", path, "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    projectors[name] = std::make_unique<node_child>(BUS_PROJECTOR_PATH, args, false);
  }

  reply call(const std::string& body_fields) {
    auto id = next_msg_id++;
    bus->send(request("{" + body_fields + ", \"msg_id\": " + std::to_string(id) + "}"));
    auto r = parse_reply(bus->read_line());
    BOOST_REQUIRE_EQUAL(r.in_reply_to(), id);
    return r;
  }

  // The read models in the bus node's status, by name.
  std::map<std::string, boost::json::object> models(std::uint64_t& head) {
    auto r = call(R"("type": "status")");
    BOOST_REQUIRE_MESSAGE(r.text("type") == "status_ok", r.line);
    last_status = r.line;
    head = static_cast<std::uint64_t>(r.body.at("head").as_int64());
    std::map<std::string, boost::json::object> result;
    for (auto& m : r.body.at("read_models").as_array())
      result[std::string{m.at("model").as_string()}] = m.as_object();
    return result;
  }

  // Polls status (hard deadline) until every model in `names` runs at the
  // head: attached, caught up, and pushes flowing.
  void until_caught_up(const std::vector<std::string>& names) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    while (std::chrono::steady_clock::now() < deadline) {
      std::uint64_t head = 0;
      auto ms = models(head);
      bool all = true;
      for (auto& n : names) {
        auto i = ms.find(n);
        all = all && i != ms.end() && i->second.at("state").as_string() == "running"
              && static_cast<std::uint64_t>(i->second.at("checkpoint").as_int64())
                   == head;
      }
      if (all)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    BOOST_FAIL("read models did not catch up within 30 s: " + last_status);
  }

  // Polls status (hard deadline) until model `name` is in state `wanted`.
  // States in `on_the_way` may be seen first; any other fails at once.
  void until_state(const std::string& name, const std::string& wanted,
                   const std::set<std::string>& on_the_way,
                   std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline) {
      std::uint64_t head = 0;
      auto ms = models(head);
      auto i = ms.find(name);
      BOOST_REQUIRE_MESSAGE(i != ms.end(), name + " missing: " + last_status);
      state = std::string{i->second.at("state").as_string()};
      if (state == wanted)
        return;
      BOOST_REQUIRE_MESSAGE(on_the_way.count(state) > 0, name + " is " + state
                                                           + ", not " + wanted + ": "
                                                           + last_status);
      BOOST_TEST_MESSAGE(name << " is " << state << " ("
                              << std::string{i->second.at("last_error").as_string()}
                              << "), waiting for " << wanted);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    BOOST_FAIL(name + " still " + state + ", not " + wanted + ", after "
               + std::to_string(limit.count()) + " s: " + last_status);
  }

  // Publishes stream[first, last) and returns the replies in order.
  std::vector<reply> publish(const std::vector<user_event>& stream, std::size_t first,
                             std::size_t last) {
    std::string text;
    std::vector<long long> ids;
    for (auto i = first; i < last; ++i) {
      ids.push_back(next_msg_id);
      text += event(next_msg_id++, stream[i].type,
                    boost::json::serialize(stream[i].payload), stream[i].id);
    }
    bus->send(text);
    std::vector<reply> result;
    for (auto id : ids) {
      result.push_back(parse_reply(bus->read_line()));
      BOOST_REQUIRE_EQUAL(result.back().in_reply_to(), id);
    }
    return result;
  }

  // Queries every user and every email of `stream` on the bus node and
  // checks the answers against the folds.
  void check_models_equal_folds(const std::vector<user_event>& stream,
                                std::size_t users) {
    check_listing_equals_fold(stream, users);
    check_emails_equal_fold(stream);
  }

  // Queries every user's user_listing on the bus node against the fold.
  void check_listing_equals_fold(const std::vector<user_event>& stream,
                                 std::size_t users) {
    auto listing = fold_listing(stream);
    for (std::size_t u = 0; u < users; ++u) {
      auto key = "user-" + std::to_string(u);
      auto r = call(R"("type": "query", "model": "user_listing", "key": ")" + key
                    + "\"");
      auto doc = listing.find(key);
      if (doc == listing.end()) {
        BOOST_TEST(r.json("code") == "20", r.line);
      } else {
        BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
        BOOST_TEST(r.body.at("value") == boost::json::value(doc->second), r.line);
      }
    }
  }

  // Queries every email of `stream` in user_by_email against the fold.
  void check_emails_equal_fold(const std::vector<user_event>& stream) {
    auto emails = fold_emails(stream);
    std::set<std::string> all_emails;
    for (auto& e : stream)
      if (auto* m = e.payload.if_contains("email"))
        all_emails.insert(std::string{m->as_string()});
    for (auto& email : all_emails) {
      auto r = call(R"("type": "query", "model": "user_by_email", "key": ")" + email
                    + "\"");
      auto user = emails.find(email);
      if (user == emails.end()) {
        BOOST_TEST(r.json("code") == "20", r.line);
      } else {
        BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
        BOOST_TEST(r.text("value") == user->second, r.line);
      }
    }
  }
};

// Checks that every redelivery of an event seen before is skipped, and
// every first delivery is taken by the models in `takers`.
inline void check_replies(const std::vector<user_event>& stream, std::size_t first,
                          const std::vector<reply>& replies,
                          std::set<std::string>& seen,
                          const std::vector<std::string>& takers) {
  for (std::size_t j = 0; j < replies.size(); ++j) {
    auto& e = stream[first + j];
    auto& r = replies[j];
    if (!seen.insert(e.id).second) {
      BOOST_TEST(r.text("type") == "event_skipped", r.line);
      continue;
    }
    BOOST_REQUIRE_MESSAGE(r.text("type") == "read_models_updated", r.line);
    for (auto& t : takers)
      BOOST_TEST(r.json("updated_models").find("\"" + t + "\"") != std::string::npos,
                 r.line);
  }
}

} // namespace bus::node::test
