#pragma once

// Partitioned read models: a model too slow for one core runs as N
// partitions, key-hash shards of its events' keys (read_model::key_of).
// Each partition is a projector of its own, named "<model>#<i>", with its
// own checkpoint, processed ids, snapshots and table; it is fed every event
// of the model's types, applies those of its keys and passes the others
// (its checkpoint moves past them). Queries route by the hash of the key.
//
// This holds only for a key-local model: query(k) answers from the events
// whose key_of is k, and nothing else. An event with no key goes to
// partition 0. The hash is FNV-1a (64 bits), fixed for ever: partitions
// stored on disk, and nodes that share a model, must agree on it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/read_model.hpp"

namespace bus {

/// The most partitions a model may have.
inline constexpr std::uint32_t max_partitions = 1024;

/// Returns the partition, in [0, count), that holds `key`.
std::uint32_t partition_of(std::string_view key, std::uint32_t count) noexcept;

/// Returns "<model>#<index>".
std::string partition_name(std::string_view model, std::uint32_t index);

/// A projector's name split into its model and partition.
struct partition_ref {
  std::string_view model;
  std::uint32_t index = 0;
};

/// Splits "<model>#<index>" (index in decimal, no leading zero); nothing
/// for any other name.
std::optional<partition_ref> split_partition_name(std::string_view name) noexcept;

/// Returns the model a projector's name belongs to: `name` without its
/// "#<index>" suffix, if it has one.
std::string_view model_of(std::string_view name) noexcept;

/// Wraps `inner` as partition `index` of `count`: it takes the name
/// "<model>#<index>", applies only the events of its keys, and adds the
/// partitioning to its definition, so that a snapshot or table written
/// under another partition count is not restored.
read_model_ptr make_partition(read_model_ptr inner, std::uint32_t index,
                              std::uint32_t count);

/// Returns the specs of `spec`'s partitions (`spec` itself, when it has one
/// partition).
std::vector<model_spec> partition_specs(const model_spec& spec);

} // namespace bus
