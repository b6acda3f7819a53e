#pragma once

// Where a store lives, told from the text an operator gives (`--store`, a
// model's snapshot location): a PostgreSQL connection URI names a database
// server, anything else a SQLite file. One rule for every store, in builds
// with and without PostgreSQL, so that a build without it can say why it
// refuses a URI instead of creating a file named like one.

#include <string_view>

namespace bus {

/// Returns true when `location` is a PostgreSQL connection URI
/// ("postgresql://..." or "postgres://...").
bool is_postgres_uri(std::string_view location) noexcept;

} // namespace bus
