#include "bus/log.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace {

struct record_copy {
  bus::log_level level;
  std::string source;
  std::string message;
};

// Captures every record, and restores the default sink and threshold after.
struct captured_log {
  std::vector<record_copy> records;
  captured_log() {
    bus::set_log_sink([this](const bus::log_record& r) {
      records.push_back({r.level, std::string{r.source}, std::string{r.message}});
    });
  }
  ~captured_log() {
    bus::set_log_sink({});
    bus::set_log_level(bus::log_level::info);
  }
};

} // namespace

// Named log_sink: a suite (a namespace) called "log" would clash with ::log.
BOOST_AUTO_TEST_SUITE(log_sink)

BOOST_AUTO_TEST_CASE(records_at_or_above_the_threshold_reach_the_sink) {
  captured_log cap;
  bus::set_log_level(bus::log_level::warning);
  BUS_LOG(bus::log_level::info, "supervisor", "dropped");
  BUS_LOG(bus::log_level::warning, "supervisor",
          "read model '"
            << "m"
            << "' failed");
  BUS_LOG(bus::log_level::error, "connector", "down " << 3);
  BOOST_REQUIRE_EQUAL(cap.records.size(), 2u);
  BOOST_TEST(cap.records[0].source == "supervisor");
  BOOST_TEST(cap.records[0].message == "read model 'm' failed");
  BOOST_TEST((cap.records[1].level == bus::log_level::error));
  BOOST_TEST(cap.records[1].message == "down 3");
}

BOOST_AUTO_TEST_CASE(a_disabled_level_does_not_build_its_message) {
  captured_log cap;
  bus::set_log_level(bus::log_level::error);
  int built = 0;
  auto costly = [&] {
    ++built;
    return std::string{"text"};
  };
  BUS_LOG(bus::log_level::debug, "x", costly());
  BOOST_TEST(built == 0);
  BUS_LOG(bus::log_level::error, "x", costly());
  BOOST_TEST(built == 1);
  bus::set_log_level(bus::log_level::off);
  BUS_LOG(bus::log_level::error, "x", costly());
  BOOST_TEST(built == 1);
  BOOST_TEST(cap.records.size() == 1u);
}

BOOST_AUTO_TEST_CASE(default_threshold_is_info) {
  BOOST_TEST((bus::current_log_level() == bus::log_level::info));
  BOOST_TEST(!bus::log_enabled(bus::log_level::debug));
  BOOST_TEST(bus::log_enabled(bus::log_level::info));
  BOOST_TEST(!bus::log_enabled(bus::log_level::off));
}

BOOST_AUTO_TEST_CASE(an_empty_sink_restores_the_default) {
  {
    captured_log cap;
    bus::log(bus::log_level::info, "a", "first");
    BOOST_TEST(cap.records.size() == 1u);
    bus::set_log_sink({});
    bus::log(bus::log_level::info, "a", "to stderr, not captured");
    BOOST_TEST(cap.records.size() == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_throwing_sink_does_not_escape_to_the_caller) {
  captured_log cap;
  bus::set_log_sink([](const bus::log_record&) { throw std::runtime_error{"full"}; });
  BOOST_CHECK_NO_THROW(bus::log(bus::log_level::error, "a", "lost"));
}

BOOST_AUTO_TEST_CASE(level_names_round_trip) {
  for (auto l : {bus::log_level::trace, bus::log_level::debug, bus::log_level::info,
                 bus::log_level::warning, bus::log_level::error, bus::log_level::off})
    BOOST_TEST((bus::parse_log_level(bus::to_string(l)) == l), bus::to_string(l));
  BOOST_TEST(!bus::parse_log_level("warn"));
  BOOST_TEST(!bus::parse_log_level("INFO"));
}

BOOST_AUTO_TEST_SUITE_END()
