#pragma once

// A writer of Prometheus' text exposition format (version 0.0.4): a family
// is declared once with its HELP and TYPE lines, then its samples follow.
// Label values are escaped (backslash, double quote, newline), HELP text
// too (backslash, newline). Histograms come out as Prometheus wants them:
// cumulative `_bucket` series with `le`, ending in `+Inf`, then `_sum` and
// `_count`. There is no Prometheus client library in Debian.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/latency_histogram.hpp"

namespace bus::admin {

enum class metric_type { counter, gauge, histogram };

using metric_labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// Escapes a label value.
std::string escape_label_value(std::string_view x);

/// Formats a sample value: integers exactly, others in the shortest form
/// that reads back the same, NaN and +Inf/-Inf as Prometheus spells them.
std::string format_value(double x);

class prometheus_writer {
public:
  /// Starts family `name` (its HELP and TYPE lines); its samples follow.
  void family(std::string_view name, metric_type type, std::string_view help);

  void sample(std::string_view name, const metric_labels& labels, double value);

  void sample(std::string_view name, const metric_labels& labels, std::uint64_t value);

  /// The series of histogram family `name`, in seconds.
  void histogram(std::string_view name, const metric_labels& labels,
                 const latency_histogram& x);

  const std::string& text() const noexcept { return out_; }

private:
  void series(std::string_view name, const metric_labels& labels,
              std::string_view extra_name = {}, std::string_view extra_value = {});

  std::string out_;
};

} // namespace bus::admin
