// The snapshot store's front: picks the backend from the location and
// keeps the compaction rule, which both backends share.

#include "bus/snapshot_store.hpp"

#include <algorithm>

#include "bus/errc.hpp"
#include "bus/store_location.hpp"
#include "internal/snapshot_backend.hpp"

namespace bus {

namespace {

// Deltas are folded into the base once they hold this many bytes and twice
// as many as the base: each row is folded about 1.5 times, a restore reads
// at most three times the state (and folds it before it parses anything),
// and a fold holds about as much in memory (four times would fold less
// often, and hold more).
constexpr std::uint64_t min_deltas_to_compact = 64 * 1024;
constexpr std::uint64_t deltas_per_base = 2;

} // namespace

const char* to_string(snapshot_layout x) noexcept {
  return x == snapshot_layout::rows ? "rows" : "whole";
}

snapshot_store::snapshot_store(std::unique_ptr<backend> impl)
  : backend_(std::move(impl)) {
  // nop
}

snapshot_store::~snapshot_store() = default;

caf::expected<std::unique_ptr<snapshot_store>>
snapshot_store::open(const std::string& location) {
  caf::expected<std::unique_ptr<backend>> impl = caf::error{};
  if (is_postgres_uri(location)) {
#ifdef BUS_HAS_POSTGRESQL
    impl = internal::open_postgres_snapshots(location);
#else
    return make_error(errc::storage_failed,
                      "snapshots: this build has no PostgreSQL support "
                      "(BUS_POSTGRESQL=OFF, or libpq not found): cannot open a "
                      "postgresql:// location");
#endif
  } else {
    impl = internal::open_sqlite_snapshots(location);
  }
  if (!impl)
    return std::move(impl.error());
  return std::unique_ptr<snapshot_store>{new snapshot_store(std::move(*impl))};
}

caf::expected<snapshot_claim> snapshot_store::claim(const std::string& model) {
  return backend_->claim(model);
}

caf::expected<std::optional<snapshot>> snapshot_store::load(const std::string& model) {
  return backend_->load(model);
}

caf::expected<save_outcome> snapshot_store::save(const std::string& model,
                                                 const snapshot& x,
                                                 std::uint64_t generation,
                                                 rows_write how) {
  return backend_->save(model, x, generation, how);
}

caf::expected<bool> snapshot_store::compaction_due(const std::string& model) {
  auto sizes = backend_->sizes_of(model);
  if (!sizes)
    return std::move(sizes.error());
  return sizes->delta_bytes
         >= std::max(min_deltas_to_compact, deltas_per_base * sizes->base_bytes);
}

caf::expected<std::uint64_t> snapshot_store::base_bytes(const std::string& model) {
  auto sizes = backend_->sizes_of(model);
  if (!sizes)
    return std::move(sizes.error());
  return sizes->base_bytes;
}

caf::expected<save_outcome>
snapshot_store::compact(const std::string& model, std::uint64_t generation,
                        const std::atomic<bool>* cancelled) {
  return backend_->compact(model, generation, cancelled);
}

} // namespace bus
