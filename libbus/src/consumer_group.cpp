#include "bus/consumer_group.hpp"

#include <algorithm>

namespace bus {

namespace {

// FNV-1a over the member, the model and the partition, each ended by a
// zero byte so that ("ab", "c") and ("a", "bc") differ.
std::uint64_t rank(std::string_view member, std::string_view model,
                   std::uint32_t partition) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view bytes) {
    for (char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    h *= 1099511628211ull; // a zero byte: xor 0, then the prime
  };
  mix(member);
  mix(model);
  mix(std::to_string(partition));
  return h;
}

} // namespace

std::vector<std::string> assign_partitions(std::string_view model, std::uint32_t count,
                                           std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<std::string> result;
  if (members.empty())
    return result;
  // Everybody holds `base`, and `extra` members one more: the first ones
  // to reach that in placement order.
  auto base = count / members.size();
  auto extra = count % members.size();
  std::vector<std::size_t> load(members.size());
  result.reserve(count);
  std::vector<std::pair<std::uint64_t, std::size_t>> ranking(members.size());
  for (std::uint32_t p = 0; p < count; ++p) {
    for (std::size_t m = 0; m < members.size(); ++m)
      ranking[m] = {rank(members[m], model, p), m};
    // Highest rank first; equal ranks by name (the index in sorted order).
    std::sort(ranking.begin(), ranking.end(), [](auto& x, auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    for (auto& [r, m] : ranking) {
      auto& held = load[m];
      if (held < base || (held == base && extra > 0)) {
        if (held == base)
          --extra;
        ++held;
        result.push_back(members[m]);
        break;
      }
    }
  }
  return result;
}

std::vector<std::uint32_t> partitions_of_member(std::string_view model,
                                                std::uint32_t count,
                                                const std::vector<std::string>& members,
                                                std::string_view member) {
  std::vector<std::uint32_t> result;
  auto owners = assign_partitions(model, count, members);
  for (std::uint32_t p = 0; p < owners.size(); ++p)
    if (owners[p] == member)
      result.push_back(p);
  return result;
}

} // namespace bus
