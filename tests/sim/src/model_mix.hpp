#pragma once

// The models one seed runs (fault::model_counts): a draw of 1-8 models
// from those given, where a model drawn again runs as one more instance
// under another name (`order_totals_2`). Every check is per model name, so
// two instances of one definition are two independent models to it.

#include <map>
#include <random>
#include <string>
#include <vector>

#include "bus/read_model.hpp"

namespace bus::sim {

struct model_mix {
  std::vector<model_spec> specs;
  /// The name of the model given that each one is an instance of.
  std::map<std::string, std::string> base;
};

/// Draws the mix from `rng`; the first model drawn is never remote.
model_mix choose_models(std::mt19937_64& rng, const std::vector<model_spec>& given);

/// Every model given, once each.
model_mix all_models(const std::vector<model_spec>& given);

/// True when `spec` makes a key-local model (read_model::key_local): one
/// that can run as partitions.
bool is_key_local(const model_spec& spec);

} // namespace bus::sim
