#include "bus/errc.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>

#include <sstream>
#include <string>

BOOST_AUTO_TEST_SUITE(errc)

BOOST_AUTO_TEST_CASE(every_code_has_its_name) {
  using bus::errc;
  BOOST_TEST(bus::to_string(errc::none) == "none");
  BOOST_TEST(bus::to_string(errc::invalid_config) == "invalid_config");
  BOOST_TEST(bus::to_string(errc::invalid_event) == "invalid_event");
  BOOST_TEST(bus::to_string(errc::no_such_model) == "no_such_model");
  BOOST_TEST(bus::to_string(errc::no_such_key) == "no_such_key");
  BOOST_TEST(bus::to_string(errc::model_unavailable) == "model_unavailable");
  BOOST_TEST(bus::to_string(errc::apply_failed) == "apply_failed");
  BOOST_TEST(bus::to_string(errc::out_of_range) == "out_of_range");
  BOOST_TEST(bus::to_string(errc::precondition_failed) == "precondition_failed");
  BOOST_TEST(bus::to_string(errc::overloaded) == "overloaded");
  BOOST_TEST(bus::to_string(errc::not_parked) == "not_parked");
  BOOST_TEST(bus::to_string(errc::forbidden) == "forbidden");
  BOOST_TEST(bus::to_string(errc::timed_out) == "timed_out");
  BOOST_TEST(bus::to_string(errc::no_reply) == "no_reply");
  BOOST_TEST(bus::to_string(errc::version_conflict) == "version_conflict");
  BOOST_TEST(bus::to_string(errc::command_rejected) == "command_rejected");
  BOOST_TEST(bus::to_string(errc::unknown_command) == "unknown_command");
  BOOST_TEST(bus::to_string(errc::query_failed) == "query_failed");
}

BOOST_AUTO_TEST_CASE(stream_output_prints_the_name) {
  std::ostringstream out;
  out << bus::errc::no_such_key << ' ' << bus::errc::apply_failed;
  BOOST_TEST(out.str() == "no_such_key apply_failed");
}

BOOST_AUTO_TEST_CASE(error_carries_its_code_in_the_bus_category) {
  auto err = bus::make_error(bus::errc::no_such_model);
  BOOST_TEST(static_cast<bool>(err));
  BOOST_TEST(err.category() == bus::errc_category::value);
  BOOST_TEST(bus::code_of(err) == bus::errc::no_such_model);
  BOOST_TEST(bus::context_of(err) == "");
}

BOOST_AUTO_TEST_CASE(error_carries_its_context_text) {
  auto err = bus::make_error(bus::errc::invalid_config, "node.batch_size: bad");
  BOOST_TEST(bus::code_of(err) == bus::errc::invalid_config);
  BOOST_TEST(bus::context_of(err) == "node.batch_size: bad");
}

BOOST_AUTO_TEST_CASE(no_error_has_code_none_and_no_context) {
  caf::error none;
  BOOST_TEST(bus::code_of(none) == bus::errc::none);
  BOOST_TEST(bus::context_of(none) == "");
}

BOOST_AUTO_TEST_CASE(error_of_another_category_has_code_none) {
  caf::error other = caf::make_error(caf::sec::unexpected_message);
  BOOST_REQUIRE(static_cast<bool>(other));
  BOOST_TEST(bus::code_of(other) == bus::errc::none);
}

BOOST_AUTO_TEST_CASE(errors_compare_by_code_and_category) {
  BOOST_TEST((bus::make_error(bus::errc::no_such_key)
              == bus::make_error(bus::errc::no_such_key)));
  BOOST_TEST((bus::make_error(bus::errc::no_such_key)
              != bus::make_error(bus::errc::no_such_model)));
}

BOOST_AUTO_TEST_SUITE_END()
