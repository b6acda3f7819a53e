#include "bus/actors/messages.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using namespace bus::actors;

BOOST_AUTO_TEST_SUITE(messages_names)

BOOST_AUTO_TEST_CASE(every_partition_intent_has_its_own_name) {
  BOOST_TEST(std::string{to_string(partition_intent::run)} == "run");
  BOOST_TEST(std::string{to_string(partition_intent::pause)} == "pause");
}

BOOST_AUTO_TEST_CASE(every_enum_of_the_messages_has_its_own_name) {
  BOOST_TEST(std::string{to_string(publish_wait::log)} == "log");
  BOOST_TEST(std::string{to_string(publish_wait::projectors)} == "projectors");
  BOOST_TEST(std::string{to_string(publish_order::as_sent)} == "as_sent");
  BOOST_TEST(std::string{to_string(publish_order::any)} == "any");
  BOOST_TEST(std::string{to_string(shadow_wait::start)} == "start");
  BOOST_TEST(std::string{to_string(shadow_wait::live)} == "live");
}

BOOST_AUTO_TEST_SUITE_END()
