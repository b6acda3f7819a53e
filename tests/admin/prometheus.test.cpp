#include "bus/admin/prometheus.hpp"

#include <sstream>

#include <boost/test/unit_test.hpp>

using namespace bus::admin;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

bool has_line(const std::string& text, const std::string& line) {
  auto xs = lines_of(text);
  return std::find(xs.begin(), xs.end(), line) != xs.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(prometheus)

BOOST_AUTO_TEST_CASE(a_family_starts_with_help_and_type) {
  prometheus_writer w;
  w.family("bus_events_appended_total", metric_type::counter, "Events appended.");
  w.sample("bus_events_appended_total", {}, std::uint64_t{42});
  BOOST_TEST(w.text()
             == "# HELP bus_events_appended_total Events appended.\n"
                "# TYPE bus_events_appended_total counter\n"
                "bus_events_appended_total 42\n");
}

BOOST_AUTO_TEST_CASE(label_values_escape_backslash_quote_and_newline) {
  BOOST_TEST(escape_label_value(R"(a\b"c)"
                                "\n"
                                "d")
             == R"(a\\b\"c\nd)");
  prometheus_writer w;
  w.family("m", metric_type::gauge, "help with \\ and\nnewline");
  w.sample("m", {{"model", "we\"ird\\name"}, {"role", "live"}}, 1.5);
  BOOST_TEST(has_line(w.text(), R"(# HELP m help with \\ and\nnewline)"));
  BOOST_TEST(has_line(w.text(), R"(m{model="we\"ird\\name",role="live"} 1.5)"));
}

BOOST_AUTO_TEST_CASE(values_are_written_as_prometheus_reads_them) {
  BOOST_TEST(format_value(0.25) == "0.25");
  BOOST_TEST(format_value(3) == "3");
  BOOST_TEST(format_value(1e20) == "1e+20");
  BOOST_TEST(format_value(2.5e-7) == "2.5e-07");
  BOOST_TEST(format_value(0.0001) == "0.0001");
  BOOST_TEST(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  BOOST_TEST(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  BOOST_TEST(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_in_inf_sum_count) {
  bus::latency_histogram h;
  h.observe(200us); // le 0.00025
  h.observe(200us);
  h.observe(3ms); // le 0.005
  h.observe(20s); // above every bound
  prometheus_writer w;
  w.family("lat_seconds", metric_type::histogram, "Latency.");
  w.histogram("lat_seconds", {{"model", "m"}}, h);
  auto& text = w.text();
  BOOST_TEST(has_line(text, "# TYPE lat_seconds histogram"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="0.0001"} 0)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="0.00025"} 2)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="0.0025"} 2)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="0.005"} 3)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="10"} 3)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_bucket{model="m",le="+Inf"} 4)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_sum{model="m"} 20.0034)"));
  BOOST_TEST(has_line(text, R"(lat_seconds_count{model="m"} 4)"));
  // Every bucket is a line, in increasing order of le, +Inf last.
  std::size_t buckets = 0;
  for (auto& line : lines_of(text))
    buckets += line.rfind("lat_seconds_bucket", 0) == 0;
  BOOST_TEST(buckets == bus::latency_histogram::bounds_ns.size() + 1);
  auto inf = text.find("le=\"+Inf\"");
  BOOST_TEST(text.find("le=\"10\"") < inf);
  BOOST_TEST(inf < text.find("lat_seconds_sum"));
}

BOOST_AUTO_TEST_CASE(an_empty_histogram_still_has_every_series) {
  prometheus_writer w;
  w.histogram("h", {}, bus::latency_histogram{});
  BOOST_TEST(has_line(w.text(), R"(h_bucket{le="+Inf"} 0)"));
  BOOST_TEST(has_line(w.text(), "h_sum 0"));
  BOOST_TEST(has_line(w.text(), "h_count 0"));
}

BOOST_AUTO_TEST_SUITE_END()
