#include "internal/compact_string.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "internal/string_map.hpp"

namespace {

// Strings around the in-place limit, and far past it.
std::vector<std::string> samples() {
  std::vector<std::string> result{"", "a", "user-42", "u12345-6@example.org"};
  for (auto n : {30, 31, 32, 33, 64, 1000})
    result.push_back(std::string(static_cast<std::size_t>(n), 'x') + "!");
  result.push_back(std::string("nul\0inside", 10));
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(compact_string)

BOOST_AUTO_TEST_CASE(holds_any_string_in_place_or_on_the_heap) {
  for (auto& s : samples()) {
    bus::internal::compact_string x{s};
    BOOST_TEST(x.view() == s);
    BOOST_TEST(x.size() == s.size());
  }
}

BOOST_AUTO_TEST_CASE(assign_copy_and_move_between_any_two_sizes) {
  for (auto& from : samples()) {
    for (auto& to : samples()) {
      BOOST_TEST_CONTEXT(from.size() << " -> " << to.size()) {
        bus::internal::compact_string x{from};
        x.assign(to);
        BOOST_TEST(x.view() == to);
        bus::internal::compact_string copy{x};
        BOOST_TEST(copy.view() == to);
        bus::internal::compact_string target{from};
        target = copy;
        BOOST_TEST(target.view() == to);
        bus::internal::compact_string moved{std::move(copy)};
        BOOST_TEST(moved.view() == to);
        BOOST_TEST(copy.view().empty()); // NOLINT: moved-from is empty
        bus::internal::compact_string other{from};
        other = std::move(moved);
        BOOST_TEST(other.view() == to);
        auto& same = other;
        other = same; // self-assignment keeps the contents
        BOOST_TEST(other.view() == to);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(assign_from_its_own_contents) {
  for (auto& s : samples()) {
    bus::internal::compact_string x{s};
    x.assign(x.view().substr(s.size() / 2));
    BOOST_TEST(x.view() == s.substr(s.size() / 2));
  }
}

BOOST_AUTO_TEST_CASE(a_string_map_finds_keys_of_every_size_by_view) {
  bus::internal::string_map<int> map;
  auto keys = samples();
  for (std::size_t i = 0; i < keys.size(); ++i)
    map.emplace(bus::internal::compact_string{keys[i]}, static_cast<int>(i));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto found = map.find(std::string_view{keys[i]});
    BOOST_TEST_REQUIRE((found != map.end()));
    BOOST_TEST(found->second == static_cast<int>(i));
  }
  BOOST_TEST((map.find(std::string_view{"absent"}) == map.end()));
}

BOOST_AUTO_TEST_SUITE_END()
