#pragma once

// Competing consumers: projector nodes that serve the same partitioned
// model share its partitions, like a consumer group. The bus assigns each
// partition to one live member; when a member is lost its partitions move
// to the others, and when it returns they are rebalanced.
//
// The assignment is a function of the model, its partition count and the
// members' names alone, so that whoever computes it (the bus, a test) gets
// the same answer, and it moves few partitions when a member comes or
// goes: each partition ranks the members by a hash of (member, model,
// partition) (rendezvous hashing) and goes to the first one in its ranking
// that holds less than its share (count / members, and one more for the
// first count % members to get there); partitions are placed in order
// 0, 1, ... so the result is fixed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bus {

/// Returns the owner of each partition of `model` ([0, count)) among
/// `members` (names, in any order; duplicates count once). Empty when there
/// are no members. Every member owns count / members partitions, or one
/// more.
std::vector<std::string> assign_partitions(std::string_view model, std::uint32_t count,
                                           std::vector<std::string> members);

/// Returns the partitions of `model` that `member` owns, in increasing
/// order, under assign_partitions.
std::vector<std::uint32_t> partitions_of_member(std::string_view model,
                                                std::uint32_t count,
                                                const std::vector<std::string>& members,
                                                std::string_view member);

} // namespace bus
