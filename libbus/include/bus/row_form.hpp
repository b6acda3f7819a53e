#pragma once

// The two forms of a snapshot row (snapshot_rows.hpp), apart so that
// read_model.hpp can name them.

#include <cstdint>

namespace bus {

/// How a model's snapshot rows are written.
enum class row_form : std::uint8_t {
  /// A line of JSON text (read_model::write_value, restore_row).
  json,
  /// A record row (read_model::write_record, restore_record).
  record,
};

/// Returns "json" or "record".
const char* to_string(row_form x) noexcept;

} // namespace bus
