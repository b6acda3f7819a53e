#pragma once

// Whether a bus node leads its log, as its operators see it: a bus node on a
// PostgreSQL log holds a lease (bus/postgres_lease.hpp) while standbys wait,
// and the admin endpoint shows the lease beside the store. A plain value,
// so that it is also built without PostgreSQL.

#include <chrono>
#include <cstdint>
#include <string>

namespace bus {

/// Whether a node leads its log.
enum class lead_state : std::uint8_t {
  /// Its lease is confirmed: it answers requests.
  leading,
  /// Its lease ran out unrenewed (the database is unreachable): it answers
  /// nothing until a renewal succeeds, as another node may lead meanwhile.
  unsure,
  /// Another node took the lease: it never leads again (restart it to
  /// stand by).
  lost,
};

/// Every lead_state, for metrics that list them.
constexpr lead_state all_lead_states[] = {lead_state::leading, lead_state::unsure,
                                          lead_state::lost};

/// Returns "leading", "unsure" or "lost".
const char* to_string(lead_state x) noexcept;

/// A node's lease as it last saw it.
struct leadership {
  lead_state state = lead_state::leading;
  /// The lease's name (one per log) and this node's name in it.
  std::string lease;
  std::string holder;
  /// The fencing token this node's commits carry.
  std::int64_t token = 0;
  std::chrono::milliseconds ttl{0};
  /// Why it is in this state (the last renewal, or what failed).
  std::string why;
};

} // namespace bus
