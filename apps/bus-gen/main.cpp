// bus-gen: writes a stream of protocol requests for bus-node, for
// benchmarks and load tests: users created, updated and deleted, with a
// share of redeliveries (the same event sent again).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "command_line.hpp"

namespace {

constexpr const char* summary
  = "bus-gen: writes a stream of protocol requests for bus-node to stdout, "
    "for benchmarks and load tests.";

constexpr const char* details
  = R"(Writes N protocol "event" requests (users created, updated and deleted),
PERCENT of them redeliveries of an earlier event: the same line again, its
msg_id included, as a client resends it. With --derived-ids the events
carry no id, so the node derives them from payload.id. With --users-first
every user is created first (one UserCreated each, in order), then the
other events update random users, with no deletes: a key space that stays
at N users, as a long-running node sees it. The same seed gives the same
stream.
)";

const char* const types[] = {"UserCreated", "UserUpdated", "UserUpdated",
                             "UserDeleted"};

// A first delivery, kept for redelivery: far smaller than its line, so
// that a long stream fits in memory.
struct sent_event {
  std::uint64_t msg_id;
  std::uint64_t id;
  std::uint64_t user;
  std::uint32_t type;
};

void append_line(std::string& out, const sent_event& e, bool derived) {
  out += "{\"src\":\"gen\",\"dest\":\"node\",\"body\":{\"type\":\"event\",\"msg_id\":";
  out += std::to_string(e.msg_id);
  out += ",\"event\":{\"type\":\"";
  out += types[e.type];
  out += '"';
  if (!derived) {
    out += ",\"id\":\"e";
    out += std::to_string(e.id);
    out += '"';
  }
  auto user = std::to_string(e.user);
  out += ",\"payload\":{\"id\":\"user-" + user + "\",\"name\":\"User " + user
         + "\",\"email\":\"u" + user + "-" + std::to_string(e.id % 7)
         + "@example.org\"}}}}\n";
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t events = 100000, percent = 10, users = 10000, seed = 42;
  bool derived = false;
  bool users_first = false;
  bus::app::command_line cli{"bus-gen", summary, details};
  auto& app = cli.app();
  using bus::app::count_in;
  app.add_option("--events", events, "Requests to write (default 100000)")
    ->transform(count_in(1, 100'000'000))
    ->type_name("N");
  app
    .add_option("--redeliveries", percent,
                "Share of redeliveries, in percent (default 10)")
    ->transform(count_in(0, 100))
    ->type_name("PERCENT");
  app.add_option("--users", users, "Distinct users (default 10000)")
    ->transform(count_in(1, 1'000'000'000))
    ->type_name("N");
  app.add_option("--seed", seed, "Seed of the random stream (default 42)")
    ->transform(count_in(0, UINT64_MAX))
    ->type_name("S");
  app.add_flag("--derived-ids", derived,
               "Leave the event ids out: the node derives them from payload.id");
  app.add_flag("--users-first", users_first,
               "Create every user first, then update random users (no deletes)");
  if (auto status = cli.parse(argc, argv))
    return *status;
  std::mt19937_64 rng{seed};
  std::vector<sent_event> sent; // first deliveries, for redelivery
  sent.reserve(std::min<std::uint64_t>(events, 1 << 20));
  std::string out;
  out.reserve(2 << 20);
  std::uint64_t next_id = 1;
  for (std::uint64_t n = 0; n < events; ++n) {
    if (!sent.empty() && rng() % 100 < percent) {
      // Redeliveries keep their original msg_id: the client resends the line.
      append_line(out, sent[rng() % sent.size()], derived);
    } else {
      sent_event e;
      e.msg_id = n + 1;
      e.user = rng() % users;
      e.type = static_cast<std::uint32_t>(rng() % 4);
      e.id = next_id++;
      if (users_first) {
        // Drawn above all the same: --seed then picks the same redeliveries.
        e.user = e.id <= users ? e.id - 1 : e.user;
        e.type = e.id <= users ? 0 : 1; // UserCreated, then UserUpdated
      }
      append_line(out, e, derived);
      sent.push_back(e);
    }
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
