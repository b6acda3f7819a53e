#include "bus/restore_progress.hpp"

#include "bus/read_model.hpp"

namespace bus {

row_restorer::~row_restorer() {
  if (progress_ != nullptr)
    progress_->rows.fetch_add(uncounted_, std::memory_order_relaxed);
}

bool row_restorer::operator()(std::string_view key, const boost::json::value& value) {
  by_row_ = model_.restore_row(key, value);
  if (progress_ != nullptr && ++uncounted_ == restore_progress::rows_per_update) {
    progress_->rows.fetch_add(uncounted_, std::memory_order_relaxed);
    uncounted_ = 0;
  }
  return by_row_;
}

} // namespace bus
