// The apps' shared command line (apps/common/command_line.hpp), in process.

#include "command_line.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "bus/endpoint.hpp"

namespace {

// Parses `args` (after the program name) with `cli`.
std::optional<int> parse(bus::app::command_line& cli, std::vector<std::string> args) {
  args.insert(args.begin(), cli.name());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return cli.parse(static_cast<int>(argv.size()), argv.data());
}

// The exit status parse() asked for; -1 when the program should run.
int status_of(std::optional<int> status) {
  return status.value_or(-1);
}

struct counted {
  bus::app::command_line cli{"test-app", "summary", "details"};
  std::uint64_t events = 7;
  counted() {
    cli.app().add_option("--events", events)->transform(bus::app::count_in(1, 1000));
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_AUTO_TEST_CASE(a_count_in_range_is_taken_in_both_forms) {
  counted a;
  BOOST_TEST(!parse(a.cli, {"--events", "12"}));
  BOOST_TEST(a.events == 12u);
  counted b;
  BOOST_TEST(!parse(b.cli, {"--events=1000"}));
  BOOST_TEST(b.events == 1000u);
}

BOOST_AUTO_TEST_CASE(leading_zeros_are_decimal_not_octal) {
  counted a;
  BOOST_TEST(!parse(a.cli, {"--events", "010"}));
  BOOST_TEST(a.events == 10u);
}

BOOST_AUTO_TEST_CASE(bad_counts_exit_2) {
  for (auto bad : {"-1", "0", "1001", "1e3", "0x10", "", " 5", "5 ", "+5",
                   "99999999999999999999999"}) {
    counted a;
    BOOST_TEST(status_of(parse(a.cli, {"--events", bad})) == 2, bad);
    BOOST_TEST(a.events == 7u, bad);
  }
}

BOOST_AUTO_TEST_CASE(a_repeated_option_takes_its_last_value) {
  counted a;
  BOOST_TEST(!parse(a.cli, {"--events", "3", "--events", "4"}));
  BOOST_TEST(a.events == 4u);
}

BOOST_AUTO_TEST_CASE(unknown_options_and_stray_arguments_exit_2) {
  counted a;
  BOOST_TEST(status_of(parse(a.cli, {"--nosuch"})) == 2);
  counted b;
  BOOST_TEST(status_of(parse(b.cli, {"stray"})) == 2);
  counted c;
  BOOST_TEST(status_of(parse(c.cli, {"--events"})) == 2);
}

BOOST_AUTO_TEST_CASE(help_and_version_exit_0) {
  counted a;
  BOOST_TEST(status_of(parse(a.cli, {"--help"})) == 0);
  counted b;
  BOOST_TEST(status_of(parse(b.cli, {"--version"})) == 0);
  BOOST_TEST(std::string{bus::app::version()} == BUS_TEST_VERSION);
}

BOOST_AUTO_TEST_CASE(a_parsed_option_reports_the_parser_error) {
  bus::app::command_line cli{"test-app", "", ""};
  bus::endpoint at;
  bool set = false;
  bus::app::add_parsed(cli.app(), "--listen", at, bus::parse_endpoint, "",
                       [&] { set = true; });
  BOOST_TEST(status_of(parse(cli, {"--listen", "nohost"})) == 2);
  BOOST_TEST(!set);
  bus::app::command_line ok{"test-app", "", ""};
  bus::app::add_parsed(ok.app(), "--listen", at, bus::parse_endpoint, "",
                       [&] { set = true; });
  BOOST_TEST(!parse(ok, {"--listen=127.0.0.1:4100"}));
  BOOST_TEST(set);
  BOOST_TEST(at.host == "127.0.0.1");
  BOOST_TEST(at.port == 4100);
}

BOOST_AUTO_TEST_CASE(idle_workers_takes_poll_or_wake) {
  bus::app::command_line cli{"test-app", "", ""};
  auto idle = bus::idle_workers::wake;
  bus::app::add_idle_workers(cli.app(), idle);
  BOOST_TEST(!parse(cli, {"--idle-workers", "poll"}));
  BOOST_TEST((idle == bus::idle_workers::poll));
  bus::app::command_line bad{"test-app", "", ""};
  bus::app::add_idle_workers(bad.app(), idle);
  BOOST_TEST(status_of(parse(bad, {"--idle-workers", "spin"})) == 2);
  BOOST_TEST((idle == bus::idle_workers::poll));
}

BOOST_AUTO_TEST_CASE(log_level_sets_the_library_threshold) {
  bus::app::command_line cli{"test-app", "", ""};
  cli.add_logging();
  BOOST_TEST(!parse(cli, {"--log-level", "error", "--log-format", "json"}));
  BOOST_TEST((bus::current_log_level() == bus::log_level::error));
  bus::app::command_line bad{"test-app", "", ""};
  bad.add_logging();
  BOOST_TEST(status_of(parse(bad, {"--log-format", "xml"})) == 2);
  bus::set_log_sink({});
  bus::set_log_level(bus::log_level::info);
}

BOOST_AUTO_TEST_SUITE_END()
