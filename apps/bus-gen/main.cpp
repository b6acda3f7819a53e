// bus-gen: writes a stream of protocol requests for bus-node, for
// benchmarks and load tests: users created, updated and deleted, with a
// share of redeliveries (the same event sent again).

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: bus-gen [--events N] [--redeliveries PERCENT] [--users N] [--seed S] [--derived-ids]

Writes N protocol "event" requests to stdout, PERCENT of them redeliveries
of an earlier event. With --derived-ids the events carry no id, so the node
derives them from payload.id.
)";

bool parse_number(const char* text, unsigned long long& out) {
  char* end = nullptr;
  auto x = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0')
    return false;
  out = x;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  unsigned long long events = 100000, percent = 10, users = 10000, seed = 42;
  bool derived = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    unsigned long long* target = nullptr;
    if (arg == "--events")
      target = &events;
    else if (arg == "--redeliveries")
      target = &percent;
    else if (arg == "--users")
      target = &users;
    else if (arg == "--seed")
      target = &seed;
    else if (arg == "--derived-ids") {
      derived = true;
      continue;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    if (target == nullptr || i + 1 >= argc || !parse_number(argv[++i], *target)
        || (target == &percent && percent > 100) || (target == &users && users == 0)) {
      std::cerr << "bus-gen: bad argument " << arg << "\n" << usage;
      return 2;
    }
  }
  std::mt19937_64 rng{seed};
  std::vector<std::string> sent; // lines of first deliveries, for redelivery
  sent.reserve(events);
  std::string out;
  out.reserve(1 << 20);
  unsigned long long next_id = 1;
  const char* types[] = {"UserCreated", "UserUpdated", "UserUpdated", "UserDeleted"};
  for (unsigned long long n = 0; n < events; ++n) {
    std::string line;
    if (!sent.empty() && rng() % 100 < percent) {
      line = sent[rng() % sent.size()];
    } else {
      auto user = rng() % users;
      auto type = types[rng() % 4];
      auto id = next_id++;
      line = "{\"src\":\"gen\",\"dest\":\"node\",\"body\":{\"type\":\"event\",\"msg_id\":"
             + std::to_string(n + 1) + ",\"event\":{\"type\":\"" + type + "\"";
      if (!derived)
        line += ",\"id\":\"e" + std::to_string(id) + "\"";
      line += ",\"payload\":{\"id\":\"user-" + std::to_string(user)
              + "\",\"name\":\"User " + std::to_string(user) + "\",\"email\":\"u"
              + std::to_string(user) + "-" + std::to_string(id % 7)
              + "@example.org\"}}}}";
      sent.push_back(line);
    }
    // Redeliveries keep their original msg_id: the client resends the line.
    out += line;
    out += '\n';
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
