// The one list of states and roles: every value has one name, and the name
// reads back as the value (CAF checks its enums the same way).

#include "bus/actors/model_state.hpp"

#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "support/model_state_print.hpp"

using namespace bus::actors;

BOOST_AUTO_TEST_SUITE(model_state_names)

BOOST_AUTO_TEST_CASE(every_state_round_trips_through_its_name) {
  std::set<std::string> names;
  for (auto x : all_model_states) {
    std::string name = to_string(x);
    BOOST_TEST(name != "unknown");
    BOOST_TEST(names.insert(name).second, "duplicate name " << name);
    auto back = model_state_from_string(name);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(*back == x);
  }
  // The list holds every enumerator: the last one closes it.
  BOOST_TEST(std::size(all_model_states)
             == static_cast<std::size_t>(model_state::unreachable) + 1);
  BOOST_TEST(!model_state_from_string("Running"));
  BOOST_TEST(!model_state_from_string(""));
}

BOOST_AUTO_TEST_CASE(every_role_round_trips_through_its_name) {
  std::set<std::string> names;
  for (auto x : all_model_roles) {
    std::string name = to_string(x);
    BOOST_TEST(name != "unknown");
    BOOST_TEST(names.insert(name).second, "duplicate name " << name);
    auto back = model_role_from_string(name);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(*back == x);
  }
  BOOST_TEST(std::size(all_model_roles)
             == static_cast<std::size_t>(model_role::previous) + 1);
  BOOST_TEST(!model_role_from_string("primary"));
}

BOOST_AUTO_TEST_SUITE_END()
