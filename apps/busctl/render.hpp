#pragma once

// The admin endpoint's JSON answers (docs/admin-api.md) as text for people:
// one function per kind of answer. Missing fields render as empty or 0, so
// that an older or newer node still shows what it has.

#include <map>
#include <string>

#include <boost/json/object.hpp>

namespace busctl {

/// Applied events per second of each model, measured between two polls.
using rates = std::map<std::string, double>;

/// GET /status: the node, the head and one row per model (a blue/green
/// shadow or kept projector on a row of its own). With `applied_per_s`,
/// a RATE column.
std::string render_status(const boost::json::object& status,
                          const rates* applied_per_s = nullptr);

/// GET /status, only what says how far behind each model is.
std::string render_lag(const boost::json::object& status);

/// GET /health.
std::string render_health(const boost::json::object& health);

/// GET /models/{name}/parked, and what stays parked after a retry or discard.
std::string render_parked(const boost::json::object& reply);

/// POST /models/{name}/parked/retry or discard: `verb` is "retried" or
/// "discarded".
std::string render_unparked(const boost::json::object& reply, const char* verb);

/// POST /models/{name}/{pause,resume,rebuild,restart}.
std::string render_steered(const boost::json::object& reply);

/// GET /events: one row per event, payloads cut to `payload_width`.
std::string render_events(const boost::json::object& page, std::size_t payload_width);

/// Field access that tolerates a missing or mistyped field.
std::int64_t int_of(const boost::json::object& obj, const char* key);
std::string string_of(const boost::json::object& obj, const char* key);

/// Returns "YYYY-MM-DD hh:mm:ss.mmm" (UTC) of ms since the epoch.
std::string utc_time(std::int64_t ms);

} // namespace busctl
