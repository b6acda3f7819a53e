#include "bus/restore_progress.hpp"

#include "bus/read_model.hpp"

namespace bus {

row_restorer::~row_restorer() {
  if (progress_ != nullptr)
    progress_->add_rows(uncounted_);
}

bool row_restorer::operator()(std::string_view key, const boost::json::value& value) {
  by_row_ = model_.restore_row(key, value);
  return counted();
}

bool row_restorer::record(std::string_view key, std::string_view value) {
  by_row_ = model_.restore_record(key, value);
  return counted();
}

bool row_restorer::counted() {
  if (progress_ != nullptr && ++uncounted_ == restore_progress::rows_per_update) {
    progress_->add_rows(uncounted_);
    uncounted_ = 0;
    if (progress_->stop.load(std::memory_order_relaxed)) {
      stopped_ = true;
      return false;
    }
  }
  return by_row_;
}

} // namespace bus
