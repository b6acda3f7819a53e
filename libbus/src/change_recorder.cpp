#include "bus/change_recorder.hpp"

#include <algorithm>
#include <ostream>
#include <utility>

#include "bus/read_model.hpp"
#include "bus/snapshot_rows.hpp"

namespace bus {

const char* to_string(change_capture x) noexcept {
  switch (x) {
    case change_capture::rows:
      return "rows";
    case change_capture::keys:
      return "keys";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& out, change_capture x) {
  return out << to_string(x);
}

void change_recorder::record(const std::vector<std::string>& keys,
                             const read_model& model) {
  if (capture_ == change_capture::rows) {
    for (auto& key : keys) {
      append_row(rows_, key, model, form_);
      keys_seen_.add(key);
    }
    lines_ += keys.size();
    if (rows_.size() > rows_at_most_)
      capture_ = change_capture::keys;
    return;
  }
  for (auto& key : keys) {
    keys_seen_.add(key);
    if (model.holds(key)) {
      keys_.emplace(key);
    } else {
      // Only a row says a key is gone, and a short one: kept from now on.
      keys_.erase(key);
      append_row(rows_, key, nullptr);
      ++lines_;
    }
  }
}

std::string change_recorder::take(const read_model& model) {
  // After the rows recorded before: the last line of a key wins.
  for (auto& key : keys_)
    append_row(rows_, key, model, form_);
  keys_.clear();
  lines_ = 0;
  keys_seen_.clear();
  capture_ = change_capture::rows;
  return std::exchange(rows_, std::string{});
}

void change_recorder::reuse(std::string buffer, std::size_t expected) {
  if (!rows_.empty())
    return;
  if (buffer.capacity() > rows_.capacity()) {
    rows_ = std::move(buffer);
    rows_.clear();
  }
  // A buffer too small for as many rows grows now, not by doubling from
  // empty; never past the bound, where only keys are kept.
  expected = std::min(expected, rows_at_most_);
  if (rows_.capacity() < expected)
    rows_.reserve(expected + expected / 4);
}

void change_recorder::clear() noexcept {
  rows_.clear();
  keys_.clear();
  lines_ = 0;
  keys_seen_.clear();
  capture_ = change_capture::rows;
}

void change_recorder::release() noexcept {
  rows_ = std::string{};
  keys_ = decltype(keys_){};
  lines_ = 0;
  keys_seen_.clear();
  capture_ = change_capture::rows;
}

} // namespace bus
