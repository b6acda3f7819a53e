#pragma once

// Routing of the admin endpoint: a method and a request target in, the
// route with its parameters out, or the 4xx answer that names what is
// wrong (docs/admin-api.md lists the paths). No network involved.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bus/admin/answer.hpp"
#include "bus/admin/embedded_files.hpp"

namespace bus::admin {

enum class route_kind {
  status,
  health,
  metrics,
  events,
  /// GET /models/{name}/parked
  parked,
  /// POST /models/{name}/{pause,resume,rebuild,restart}
  lifecycle,
  /// POST /models/{name}/parked/retry
  retry_parked,
  /// POST /models/{name}/parked/discard
  discard_parked,
  /// An embedded file (GET / is index.html).
  file,
};

enum class lifecycle_kind { pause, resume, rebuild, restart };

/// "pause", "resume", "rebuild" or "restart".
const char* to_string(lifecycle_kind x) noexcept;

/// The most events one /events page holds.
constexpr std::uint32_t max_events_limit = 1000;

struct route {
  route_kind kind = route_kind::status;
  /// parked, lifecycle, retry_parked, discard_parked.
  std::string model;
  lifecycle_kind lifecycle = lifecycle_kind::pause;
  /// retry_parked, discard_parked: one parked event, or 0 for all.
  std::uint64_t seq = 0;
  /// events: the first seq and the page size.
  std::uint64_t from = 1;
  std::uint32_t limit = 100;
  /// file
  const embedded_file* file = nullptr;
};

/// A query string's parameters, decoded, in order.
using query_params = std::vector<std::pair<std::string, std::string>>;

/// Decodes `a=1&b=x%20y` ('+' is a space); an error names the bad part
/// (a bad %-escape, a parameter given twice).
std::variant<query_params, answer> parse_query(std::string_view query);

/// Decodes %-escapes in a path segment; nothing when one is malformed.
std::optional<std::string> percent_decode(std::string_view text,
                                          bool plus_is_space = false);

/// Routes `method` (as sent: "GET", "POST", ...) and `target` (the path
/// and query string); anything else gets its error answer.
std::variant<route, answer> route_request(std::string_view method,
                                          std::string_view target);

} // namespace bus::admin
