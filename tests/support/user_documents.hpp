#pragma once

// The document model of users that the document_model tests fold, and its
// answers as text.

#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"

namespace bus::test {

/// Users by payload.id: "UserReplaced" upserts, "UserCreated" and
/// "UserUpdated" merge, "UserDeleted" deletes.
inline document_model_config users_config() {
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.upsert_on = {"UserReplaced"};
  cfg.merge_on = {"UserCreated", "UserUpdated"};
  cfg.delete_on = {"UserDeleted"};
  return cfg;
}

/// What a query of `key` answers, as JSON text, or "<none>".
inline std::string query_text(const read_model& m, std::string_view key) {
  auto v = m.query(key);
  return v ? boost::json::serialize(*v) : "<none>";
}

} // namespace bus::test
