// How the apps' log records look (apps/common/stderr_logger.hpp).

#include "stderr_logger.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using bus::app::format_record;
using bus::app::log_format;

BOOST_AUTO_TEST_SUITE(stderr_logger)

BOOST_AUTO_TEST_CASE(text_lines_carry_time_level_source_and_message) {
  bus::log_record r{bus::log_level::warning, "supervisor", "read model 'm' failed"};
  BOOST_TEST(format_record(log_format::text, "2025-01-31T12:00:00.123Z", r)
             == "2025-01-31T12:00:00.123Z WARN  supervisor: read model 'm' failed");
}

BOOST_AUTO_TEST_CASE(json_lines_are_one_object_with_four_fields) {
  // Quotes, backslashes and newlines in a message must not break the line.
  bus::log_record r{bus::log_level::error, "bus-node", "bad \"x\"\\\nnext"};
  auto line = format_record(log_format::json, "2025-01-31T12:00:00.123Z", r);
  BOOST_TEST(line.find('\n') == std::string::npos, line);
  auto v = boost::json::parse(line);
  auto& o = v.as_object();
  BOOST_TEST(o.size() == 4u);
  BOOST_TEST(o.at("time").as_string() == "2025-01-31T12:00:00.123Z");
  BOOST_TEST(o.at("level").as_string() == "error");
  BOOST_TEST(o.at("source").as_string() == "bus-node");
  BOOST_TEST(o.at("message").as_string() == "bad \"x\"\\\nnext");
}

BOOST_AUTO_TEST_SUITE_END()
