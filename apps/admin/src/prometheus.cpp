#include "bus/admin/prometheus.hpp"

#include <charconv>
#include <cmath>

namespace bus::admin {

namespace {

const char* to_string(metric_type x) {
  switch (x) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
  }
  return "untyped";
}

std::string escape_help(std::string_view x) {
  std::string result;
  for (auto c : x) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

} // namespace

std::string escape_label_value(std::string_view x) {
  std::string result;
  result.reserve(x.size());
  for (auto c : x) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '"')
      result += "\\\"";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

std::string format_value(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  // Whole numbers as integers (a lag of 3 s is "3", not "3e+00").
  if (x == std::floor(x) && std::fabs(x) < 1e15)
    return std::to_string(static_cast<std::int64_t>(x));
  char buf[64];
  // The shortest text that reads back as the same double, in %g style:
  // 0.25 rather than 0.25000000000000000, 0.0001 rather than 1e-04.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::general);
  if (ec != std::errc{})
    return "NaN";
  return std::string(buf, end);
}

void prometheus_writer::family(std::string_view name, metric_type type,
                               std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += to_string(type);
  out_ += '\n';
}

void prometheus_writer::series(std::string_view name, const metric_labels& labels,
                               std::string_view extra_name,
                               std::string_view extra_value) {
  out_ += name;
  if (labels.empty() && extra_name.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first)
      out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    out_ += escape_label_value(v);
    out_ += '"';
  };
  for (auto& [k, v] : labels)
    label(k, v);
  if (!extra_name.empty())
    label(extra_name, extra_value);
  out_ += "} ";
}

void prometheus_writer::sample(std::string_view name, const metric_labels& labels,
                               double value) {
  series(name, labels);
  out_ += format_value(value);
  out_ += '\n';
}

void prometheus_writer::sample(std::string_view name, const metric_labels& labels,
                               std::uint64_t value) {
  series(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void prometheus_writer::histogram(std::string_view name, const metric_labels& labels,
                                  const latency_histogram& x) {
  std::string bucket{name};
  bucket += "_bucket";
  auto& counts = x.counts();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_histogram::bounds_ns.size(); ++i) {
    cumulative += counts[i];
    series(bucket, labels, "le",
           format_value(static_cast<double>(latency_histogram::bounds_ns[i]) / 1e9));
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  series(bucket, labels, "le", "+Inf");
  out_ += std::to_string(x.count());
  out_ += '\n';
  series(std::string{name} + "_sum", labels);
  out_ += format_value(static_cast<double>(x.sum_ns()) / 1e9);
  out_ += '\n';
  series(std::string{name} + "_count", labels);
  out_ += std::to_string(x.count());
  out_ += '\n';
}

} // namespace bus::admin
