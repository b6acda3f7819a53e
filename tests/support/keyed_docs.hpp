#pragma once

// A document model many actor tests share: documents keyed by payload.k,
// which "A" merges and "B" deletes.

#include <memory>

#include "bus/document_model.hpp"
#include "bus/read_model.hpp"

namespace bus::test {

inline document_model_config keyed_docs_config() {
  document_model_config cfg;
  cfg.name = "docs";
  cfg.key = "k";
  cfg.merge_on = {"A"};
  cfg.delete_on = {"B"};
  return cfg;
}

/// The model "docs", in memory or in a table.
inline model_spec keyed_docs(model_storage storage = model_storage::memory) {
  return model_spec{
    "docs", [] { return std::make_unique<document_model>(keyed_docs_config()); },
    storage};
}

} // namespace bus::test
