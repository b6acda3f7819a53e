#include "user_stream.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <random>
#include <set>

#include <boost/json/serialize.hpp>

namespace bus::node::test {

scratch_dir::scratch_dir() {
  auto base = std::filesystem::temp_directory_path();
  std::random_device rd;
  path = base / ("bus-store-test-" + std::to_string(rd()));
  std::filesystem::create_directories(path);
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string scratch_dir::store() const {
  return (path / "bus.db").string();
}

std::string scratch_dir::write(const std::string& name, const std::string& text) const {
  auto file = (path / name).string();
  std::ofstream{file} << text;
  return file;
}

std::vector<user_event> make_stream(std::size_t n, std::size_t users,
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

std::string requests(const std::vector<user_event>& stream, std::size_t users) {
  std::string text;
  for (std::size_t i = 0; i < stream.size(); ++i)
    text += event(static_cast<long long>(i + 1), stream[i].type,
                  boost::json::serialize(stream[i].payload), stream[i].id);
  for (std::size_t u = 0; u < users; ++u)
    text += query(1000000 + static_cast<long long>(u), "user_listing",
                  "user-" + std::to_string(u));
  return text;
}

std::map<std::string, boost::json::object>
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

std::map<std::string, std::string> fold_emails(const std::vector<user_event>& stream) {
  std::set<std::string> seen;
  std::map<std::string, std::string> owner;   // email -> user
  std::map<std::string, std::string> current; // user -> email
  auto drop = [&](const std::string& user) {
    auto c = current.find(user);
    if (c == current.end())
      return;
    if (auto o = owner.find(c->second); o != owner.end() && o->second == user)
      owner.erase(o);
    current.erase(c);
  };
  for (auto& e : stream) {
    if (!seen.insert(e.id).second)
      continue;
    auto user = std::string{e.payload.at("id").as_string()};
    if (e.type == "UserDeleted") {
      drop(user);
      continue;
    }
    auto* email = e.payload.if_contains("email");
    if (email == nullptr)
      continue;
    auto address = std::string{email->as_string()};
    if (auto c = current.find(user); c != current.end() && c->second == address)
      continue;
    drop(user);
    if (auto o = owner.find(address); o != owner.end())
      current.erase(o->second);
    owner[address] = user;
    current[user] = address;
  }
  return owner;
}

std::vector<reply> complete_replies(process_result result) {
  auto end = result.out.rfind('\n');
  result.out.resize(end == std::string::npos ? 0 : end + 1);
  return replies_of(result);
}

std::vector<std::string> some_emails(const std::vector<user_event>& stream,
                                     std::size_t n) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto& e : stream)
    if (auto* email = e.payload.if_contains("email"); email && out.size() < n)
      if (seen.insert(std::string{email->as_string()}).second)
        out.emplace_back(email->as_string());
  return out;
}

std::string email_queries(const std::vector<std::string>& emails) {
  std::string text;
  for (std::size_t i = 0; i < emails.size(); ++i)
    text += query(2000000 + static_cast<long long>(i), "user_by_email", emails[i]);
  return text;
}

void check_queries(const std::vector<reply>& replies, std::size_t first,
                   const std::vector<user_event>& stream, std::size_t users,
                   const std::vector<std::string>& emails) {
  BOOST_REQUIRE_EQUAL(replies.size(), first + users + emails.size());
  auto listing = fold_listing(stream);
  for (std::size_t u = 0; u < users; ++u) {
    auto& r = replies[first + u];
    auto doc = listing.find("user-" + std::to_string(u));
    if (doc == listing.end()) {
      BOOST_TEST(r.json("code") == "20", r.line);
    } else {
      BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
      BOOST_TEST(r.body.at("value") == boost::json::value(doc->second), r.line);
    }
  }
  auto owners = fold_emails(stream);
  for (std::size_t i = 0; i < emails.size(); ++i) {
    auto& r = replies[first + users + i];
    auto owner = owners.find(emails[i]);
    if (owner == owners.end()) {
      BOOST_TEST(r.json("code") == "20", r.line);
    } else {
      BOOST_REQUIRE_MESSAGE(r.text("type") == "query_ok", r.line);
      BOOST_TEST(r.text("value") == owner->second, r.line);
    }
  }
}

std::set<std::string> crash_repeatedly(const std::vector<std::string>& args,
                                       const std::string& input,
                                       const std::vector<user_event>& stream,
                                       std::initializer_list<std::size_t> kill_at) {
  std::set<std::string> acknowledged;
  for (auto lines : kill_at) {
    auto result = run_process(BUS_NODE_PATH, args, input, std::chrono::seconds{30},
                              lines);
    BOOST_REQUIRE(!result.timed_out);
    BOOST_REQUIRE(result.killed);
    BOOST_TEST(result.term_signal == SIGKILL);
    for (auto& r : complete_replies(std::move(result))) {
      auto i = static_cast<std::size_t>(r.in_reply_to() - 1);
      if (i >= stream.size())
        continue;
      // Whatever was acknowledged before an earlier crash is skipped now.
      if (acknowledged.count(stream[i].id) > 0)
        BOOST_TEST(r.text("type") == "event_skipped",
                   "event " << stream[i].id << " was lost: " << r.line);
      acknowledged.insert(stream[i].id);
    }
  }
  return acknowledged;
}

void check_acknowledged_skipped(const std::vector<reply>& replies,
                                const std::vector<user_event>& stream,
                                const std::set<std::string>& acknowledged) {
  std::set<std::string> first_seen;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    auto redelivery = !first_seen.insert(stream[i].id).second;
    if (acknowledged.count(stream[i].id) > 0 || redelivery)
      BOOST_TEST(replies[i].text("type") == "event_skipped", replies[i].line);
  }
}

} // namespace bus::node::test
