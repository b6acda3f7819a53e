#pragma once

// The models of users that the tests fold (their documents, and the index
// of their email addresses), and a model's answers as text.

#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "bus/document_model.hpp"
#include "bus/index_model.hpp"

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

/// Users by payload.email, mapped to payload.id: "UserCreated" and
/// "UserUpdated" set, "UserDeleted" deletes.
inline index_model_config by_email_config() {
  index_model_config cfg;
  cfg.name = "by_email";
  cfg.key = "email";
  cfg.target = "id";
  cfg.set_on = {"UserCreated", "UserUpdated"};
  cfg.delete_on = {"UserDeleted"};
  return cfg;
}

/// What a query of `key` answers, as JSON text, or "<none>".
inline std::string query_text(const read_model& m, std::string_view key) {
  auto v = m.query(key);
  return v ? boost::json::serialize(*v) : "<none>";
}

} // namespace bus::test
