#pragma once

// Writing the JSON text of snapshot rows (snapshot_rows.hpp): a serializer
// per thread, for what row_json.cpp does not write itself. Plain
// functions: safe from any thread.

#include <string>
#include <string_view>

#include <boost/json/serializer.hpp>

#include "text_buffer.hpp"

namespace bus::internal {

/// Serializes what `sr` was reset to onto the end of `out`: no string per
/// row.
void drain(boost::json::serializer& sr, std::string& out);

/// This thread's serializer: a projector appends a row or two per event,
/// and making one each time would cost more than the row.
boost::json::serializer& serializer();

/// Puts the JSON text of the string `x`, as append_json writes it.
void append_string_json(text_buffer& out, std::string_view x);

/// Appends the JSON text of the checked encoded object `bytes` (a record's
/// object, event_record.hpp, no top-level key twice: a document's), byte
/// for byte what append_json writes for its decoded object.
void append_object_json(std::string& out, std::string_view bytes);

/// True if `x` holds a NaN. No row of ours does (the node refuses numbers
/// out of range at its input), but Boost.JSON 1.81 reads some text as one
/// (-0e9991), and a NaN equals nothing, not even itself after a save: a
/// restore refuses it. An infinity (1e999) is written and read back alike.
bool holds_nan(const boost::json::value& x) noexcept;

} // namespace bus::internal
