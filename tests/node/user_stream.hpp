#pragma once

// A stream of user events for the process tests, the requests that publish
// it, and the read models it must produce, folded here independently of
// the framework.

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "node_protocol.hpp"

namespace bus::node::test {

// A scratch directory removed at the end of the test case.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    auto base = std::filesystem::temp_directory_path();
    std::random_device rd;
    path = base / ("bus-store-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string store() const {
    return (path / "bus.db").string();
  }
};

struct user_event {
  std::string id;
  std::string type;
  boost::json::object payload;
};

// A stream of user events with explicit ids; `redeliver_percent` of the
// deliveries repeat an earlier event (same id and content).
inline std::vector<user_event> make_stream(std::size_t n, std::size_t users,
                                    unsigned redeliver_percent) {
  std::mt19937 rng{1234};
  std::vector<user_event> out;
  std::vector<std::size_t> firsts;
  for (std::size_t i = 0; out.size() < n; ++i) {
    if (!firsts.empty() && rng() % 100 < redeliver_percent) {
      out.push_back(out[firsts[rng() % firsts.size()]]);
      continue;
    }
    auto user = "user-" + std::to_string(i < users ? i : rng() % users);
    user_event e;
    e.id = "e" + std::to_string(i);
    auto roll = i < users ? 0 : rng() % 100;
    e.type = roll < 60 ? "UserCreated" : roll < 95 ? "UserUpdated" : "UserDeleted";
    e.payload["id"] = user;
    if (e.type != "UserDeleted") {
      e.payload["name"] = "name " + std::to_string(rng() % 1000);
      e.payload["email"] = "m" + std::to_string(rng() % 5000) + "@x.org";
    }
    firsts.push_back(out.size());
    out.push_back(std::move(e));
  }
  return out;
}

// The request lines for `stream`, msg_id = index + 1, then queries of every
// user's listing (msg_id from 1,000,000 on).
inline std::string requests(const std::vector<user_event>& stream, std::size_t users) {
  std::string text;
  for (std::size_t i = 0; i < stream.size(); ++i)
    text += event(static_cast<long long>(i + 1), stream[i].type,
                  boost::json::serialize(stream[i].payload), stream[i].id);
  for (std::size_t u = 0; u < users; ++u)
    text += query(1000000 + static_cast<long long>(u), "user_listing",
                  "user-" + std::to_string(u));
  return text;
}

// The user_listing state expected from the distinct events in stream order,
// computed here without the framework: merge on create/update, drop on
// delete.
inline std::map<std::string, boost::json::object>
fold_listing(const std::vector<user_event>& stream) {
  std::set<std::string> seen;
  std::map<std::string, boost::json::object> docs;
  for (auto& e : stream) {
    if (!seen.insert(e.id).second)
      continue;
    auto key = std::string{e.payload.at("id").as_string()};
    if (e.type == "UserDeleted") {
      docs.erase(key);
      continue;
    }
    for (auto& kv : e.payload)
      docs[key][kv.key()] = kv.value();
  }
  return docs;
}

// The user_by_email state expected from the distinct events in stream
// order: email -> user id; a user's new email replaces the old one, an email
// taken by another user moves to it, and a deletion drops the user's email.
inline std::map<std::string, std::string>
fold_email(const std::vector<user_event>& stream) {
  std::set<std::string> seen;
  std::map<std::string, std::string> email_of; // user -> email
  std::map<std::string, std::string> user_of;  // email -> user
  auto drop = [&](const std::string& user) {
    auto i = email_of.find(user);
    if (i == email_of.end())
      return;
    if (auto j = user_of.find(i->second); j != user_of.end() && j->second == user)
      user_of.erase(j);
    email_of.erase(i);
  };
  for (auto& e : stream) {
    if (!seen.insert(e.id).second)
      continue;
    auto user = std::string{e.payload.at("id").as_string()};
    if (e.type == "UserDeleted") {
      drop(user);
      continue;
    }
    auto email = std::string{e.payload.at("email").as_string()};
    drop(user);
    if (auto j = user_of.find(email); j != user_of.end())
      email_of.erase(j->second);
    user_of[email] = user;
    email_of[user] = email;
  }
  return user_of;
}

} // namespace bus::node::test
