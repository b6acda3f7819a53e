// The model table's front: picks the backend from the location and turns a
// batch (the keys a model changed, the entries a lot parked or removed)
// into the writes both backends store in one transaction.

#include "bus/model_table.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "bus/errc.hpp"
#include "bus/parking_lot.hpp"
#include "bus/store_location.hpp"
#include "internal/model_table_backend.hpp"

namespace bus {

model_table::model_table(std::unique_ptr<backend> impl) : backend_(std::move(impl)) {
  // nop
}

model_table::~model_table() = default;

caf::expected<std::unique_ptr<model_table>>
model_table::open(const std::string& location, const std::string& model,
                  const std::string& definition) {
  caf::expected<std::unique_ptr<backend>> impl = caf::error{};
  if (is_postgres_uri(location)) {
#ifdef BUS_HAS_POSTGRESQL
    impl = internal::open_postgres_model_table(location, model, definition);
#else
    return make_error(errc::storage_failed,
                      "models table of '" + model
                        + "': this build has no PostgreSQL support "
                          "(BUS_POSTGRESQL=OFF, or libpq not found): cannot open a "
                          "postgresql:// location");
#endif
  } else {
    impl = internal::open_sqlite_model_table(location, model, definition);
  }
  if (!impl)
    return std::move(impl.error());
  return std::unique_ptr<model_table>{new model_table(std::move(*impl))};
}

const std::string& model_table::table_name() const noexcept {
  return backend_->table_name();
}

caf::expected<table_contents> model_table::load() {
  return backend_->load();
}

caf::error model_table::commit(read_model& model, std::uint64_t checkpoint,
                               const std::vector<std::uint64_t>& above,
                               parking_lot* parked) {
  changed_.clear();
  model.take_changes(changed_);
  // A key changed several times in a batch is written once, as it ends.
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  std::vector<backend::row_write> rows;
  rows.reserve(changed_.size());
  for (auto& key : changed_) {
    auto value = model.query(key);
    rows.push_back({key, value
                           ? std::optional<std::string>{boost::json::serialize(*value)}
                           : std::nullopt});
  }
  std::vector<backend::parked_write> entries;
  if (parked != nullptr) {
    changed_parked_.clear();
    parked->take_changes(changed_parked_);
    // A seq parked and taken again in one batch is written once, as it ends.
    std::sort(changed_parked_.begin(), changed_parked_.end());
    changed_parked_.erase(std::unique(changed_parked_.begin(), changed_parked_.end()),
                          changed_parked_.end());
    entries.reserve(changed_parked_.size());
    for (auto seq : changed_parked_) {
      auto* x = parked->find(seq);
      entries.push_back(
        {seq, x ? std::optional<std::string>{boost::json::serialize(to_json(*x))}
                : std::nullopt});
    }
  }
  if (auto err = backend_->commit(rows, entries, checkpoint, above))
    return err;
  rows_written_ += rows.size();
  return caf::none;
}

caf::error model_table::clear() {
  return backend_->clear();
}

caf::error model_table::replace(read_model& model, std::uint64_t checkpoint,
                                const std::vector<std::uint64_t>& above,
                                parking_lot& parked) {
  changed_.clear();
  model.take_changes(changed_); // all of them are written below
  changed_parked_.clear();
  parked.take_changes(changed_parked_);
  std::vector<backend::row_write> rows;
  auto state = model.snapshot();
  if (auto* all = state.if_object()) {
    rows.reserve(all->size());
    for (auto& kv : *all) {
      // What a query answers, as commit() writes it.
      auto value = model.query(kv.key());
      if (value)
        rows.push_back({std::string{kv.key()}, boost::json::serialize(*value)});
    }
  }
  std::vector<backend::parked_write> entries;
  for (auto& x : parked.list())
    entries.push_back({x.event.seq, boost::json::serialize(to_json(x))});
  if (auto err = backend_->clear())
    return err;
  if (auto err = backend_->commit(rows, entries, checkpoint, above))
    return err;
  rows_written_ += rows.size();
  return caf::none;
}

} // namespace bus
