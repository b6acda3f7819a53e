#include "internal/pg_fence.hpp"

#include "internal/pg_params.hpp"
#include "internal/pg_wire.hpp"

namespace bus::internal {

void check_fence(PGconn* conn, const postgres_fence& fence) {
  binary_params params;
  params.text(fence.name).int8(static_cast<std::uint64_t>(fence.token));
  auto res = run_params(conn,
                        "SELECT token FROM bus_leader WHERE name = $1::text "
                        "AND token = $2 AND expires_at > now() FOR SHARE",
                        params, "fence", PGRES_TUPLES_OK);
  if (res.rows() == 0)
    throw fence_lost("fenced: another bus node leads '" + fence.name
                     + "' (this node's token " + std::to_string(fence.token)
                     + " is stale or its lease expired)");
}

} // namespace bus::internal
