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

namespace {

using row_write = model_table::backend::row_write;

// The value end of a key the model no longer holds (model_table.hpp).
constexpr std::size_t absent = static_cast<std::size_t>(-1);

// The rows of `keys` as `model` answers them now: each value written
// straight into `values` (write_value, no JSON tree per row), the views
// taken once it no longer grows. Valid while `keys` and `values` are.
std::vector<row_write> write_rows(const read_model& model,
                                  const std::vector<std::string>& keys,
                                  std::string& values,
                                  std::vector<std::size_t>& value_ends) {
  values.clear();
  value_ends.clear();
  for (auto& key : keys)
    value_ends.push_back(model.write_value(key, values) ? values.size() : absent);
  std::vector<row_write> rows;
  rows.reserve(keys.size());
  std::size_t begin = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (auto end = value_ends[i]; end != absent) {
      rows.push_back({keys[i], std::string_view{values}.substr(begin, end - begin)});
      begin = end;
    } else {
      rows.push_back({keys[i], std::nullopt});
    }
  }
  return rows;
}

} // namespace

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
  return backend_->load(nullptr);
}

caf::expected<table_contents> model_table::load(const row_sink& sink) {
  return backend_->load(&sink);
}

caf::error model_table::commit(read_model& model, std::uint64_t checkpoint,
                               const std::vector<std::uint64_t>& above,
                               parking_lot* parked) {
  changed_.clear();
  model.take_changes(changed_);
  // A key changed several times in a batch is written once, as it ends.
  std::sort(changed_.begin(), changed_.end());
  changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
  auto rows = write_rows(model, changed_, values_, value_ends_);
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
  // Every key of the snapshot, written as commit() writes a changed one.
  changed_.clear();
  if (auto state = model.snapshot(); auto* all = state.if_object()) {
    changed_.reserve(all->size());
    for (auto& kv : *all)
      changed_.emplace_back(kv.key());
  }
  auto rows = write_rows(model, changed_, values_, value_ends_);
  // A key the snapshot holds but query() does not answer has no row.
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const backend::row_write& x) { return !x.value; }),
             rows.end());
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
