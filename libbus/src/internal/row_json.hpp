#pragma once

// Writing the JSON text of snapshot rows (snapshot_rows.hpp): a serializer
// per thread, for what row_json.cpp does not write itself. Plain
// functions: safe from any thread.

#include <string>
#include <string_view>

#include <boost/json/serializer.hpp>

namespace bus::internal {

/// Serializes what `sr` was reset to onto the end of `out`: no string per
/// row.
void drain(boost::json::serializer& sr, std::string& out);

/// This thread's serializer: a projector appends a row or two per event,
/// and making one each time would cost more than the row.
boost::json::serializer& serializer();

/// Appends the JSON text of the checked encoded object `bytes` (a record's
/// object, event_record.hpp, no top-level key twice: a document's), byte
/// for byte what append_json writes for its decoded object.
void append_object_json(std::string& out, std::string_view bytes);

} // namespace bus::internal
