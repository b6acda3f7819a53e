// The assignment of a partitioned model's partitions to the nodes that
// share it (bus/consumer_group.hpp): one owner each, balanced, and stable
// when members come and go.

#include "bus/consumer_group.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/test/unit_test.hpp>

using namespace bus;

namespace {

std::map<std::string, std::size_t> loads(const std::vector<std::string>& owners) {
  std::map<std::string, std::size_t> result;
  for (auto& o : owners)
    ++result[o];
  return result;
}

std::size_t moved(const std::vector<std::string>& before,
                  const std::vector<std::string>& after) {
  std::size_t n = 0;
  for (std::size_t p = 0; p < before.size(); ++p)
    n += before[p] != after[p] ? 1 : 0;
  return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(consumer_group)

BOOST_AUTO_TEST_CASE(every_partition_has_one_owner_among_the_members) {
  std::vector<std::string> members{"node-a", "node-b", "node-c"};
  for (std::uint32_t count : {1u, 2u, 3u, 4u, 7u, 16u, 1024u}) {
    auto owners = assign_partitions("orders", count, members);
    BOOST_TEST_CONTEXT(count << " partitions") {
      BOOST_REQUIRE_EQUAL(owners.size(), count);
      for (auto& o : owners)
        BOOST_TEST((std::find(members.begin(), members.end(), o) != members.end()));
      // Balanced: everybody holds count / members, or one more.
      auto base = count / members.size();
      auto load = loads(owners);
      for (auto& [member, n] : load)
        BOOST_TEST((n == base || n == base + 1));
      if (count >= members.size())
        BOOST_TEST(load.size() == members.size());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_assignment_depends_on_the_names_only) {
  auto x = assign_partitions("orders", 12, {"node-a", "node-b", "node-c"});
  auto y = assign_partitions("orders", 12, {"node-c", "node-a", "node-b", "node-a"});
  BOOST_TEST(x == y);
  // Another model spreads otherwise (not every model on the same node).
  auto z = assign_partitions("users", 12, {"node-a", "node-b", "node-c"});
  BOOST_TEST(x != z);
  BOOST_TEST(assign_partitions("orders", 4, {}).empty());
}

BOOST_AUTO_TEST_CASE(a_lost_member_moves_few_partitions_and_its_return_restores_them) {
  std::vector<std::string> all{"node-a", "node-b", "node-c"};
  std::vector<std::string> two{"node-a", "node-c"};
  auto before = assign_partitions("orders", 12, all);
  auto after = assign_partitions("orders", 12, two);
  // Everything node-b held moves; of the rest, at most what the new shares
  // force: each survivor takes at most 6.
  std::size_t held_by_b = 0;
  for (std::size_t p = 0; p < before.size(); ++p) {
    if (before[p] == "node-b")
      ++held_by_b;
    BOOST_TEST(after[p] != "node-b");
  }
  BOOST_TEST(held_by_b == 4u);
  BOOST_TEST(moved(before, after) <= 2 * held_by_b);
  // The same membership gives the same assignment back.
  BOOST_TEST(assign_partitions("orders", 12, all) == before);
}

BOOST_AUTO_TEST_CASE(a_members_partitions_are_those_it_owns) {
  std::vector<std::string> members{"node-a", "node-b"};
  auto owners = assign_partitions("orders", 5, members);
  std::set<std::uint32_t> seen;
  for (auto& m : members)
    for (auto p : partitions_of_member("orders", 5, members, m)) {
      BOOST_TEST(owners[p] == m);
      BOOST_TEST(seen.insert(p).second);
    }
  BOOST_TEST(seen.size() == 5u);
  BOOST_TEST(partitions_of_member("orders", 5, members, "node-z").empty());
}

BOOST_AUTO_TEST_SUITE_END()
