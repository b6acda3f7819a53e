#pragma once

// Upcasters: steps that turn an event of an old schema version into the
// next, so that a read model only ever sees the current form of an event.
// The log keeps what was published; a projector upcasts a copy of each
// event as it hands it to its model (live, replayed, rebuilt alike).
//
// A step is keyed by (type, from version) and yields version from + 1,
// optionally under a new type name. The registry applies steps until none
// matches. It is built once, validated as a whole (upcaster_registry::make),
// then immutable: one registry is shared, read-only, by every projector of
// a process, from any thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "bus/event.hpp"

namespace bus {

/// Changes an event's payload (or metadata) in place from one version to
/// the next. The registry sets the version and type afterwards. May throw:
/// the projector then treats it as a failure of the model's apply.
using upcast_function = std::function<void(event&)>;

/// One step: events of `type` at version `from` become version `from + 1`,
/// named `to_type` (or still `type` when `to_type` is empty).
struct upcaster {
  std::string type;
  std::uint32_t from = 1;
  std::string to_type;
  upcast_function change;
  /// What `change` does, in any stable text. It is part of the definition of
  /// every model the step feeds (definition_of), so that a model stored under
  /// other steps is rebuilt from the log. Configuration steps hold their JSON;
  /// a C++ step whose function changes should change this too.
  std::string description = {};
};

/// A validated, immutable set of upcasters.
class upcaster_registry {
public:
  /// Builds a registry of `steps`. Fails with errc::invalid_config, naming
  /// the step, when a step has no type or no function, starts at version 0
  /// or at the largest version, repeats a (type, from) pair, or when a chain
  /// stops short of a later step of its type (a missing step in the middle,
  /// such as 1->2 and 3->4 without 2->3). Loops cannot be built: every step
  /// raises the version.
  static caf::expected<std::shared_ptr<const upcaster_registry>>
  make(std::vector<upcaster> steps);

  /// Returns true when the registry holds no step.
  bool empty() const noexcept { return steps_.empty(); }

  /// Returns `e` itself when no step takes it (nothing is copied);
  /// otherwise upcasts a copy of `e` into `scratch` through the whole chain
  /// and returns it.
  const event& upcast(const event& e, std::optional<event>& scratch) const;

  /// Returns the (type, version) an event of `type` at `version` ends as.
  std::pair<std::string, std::uint32_t> target_of(std::string_view type,
                                                  std::uint32_t version) const;

  /// Returns `types` plus every type whose events some chain turns into
  /// one of `types`: what a model that handles `types` subscribes to. "*"
  /// stays "*".
  std::vector<std::string> sources_of(const std::vector<std::string>& types) const;

  /// Returns the steps that can touch an event a model of `types` receives
  /// (those of sources_of(types) and the chains they start), one line each,
  /// in a fixed order; "" when none can. A model's stored definition
  /// appends it, so that changed upcasters rebuild the models they feed and
  /// only those.
  std::string definition_of(const std::vector<std::string>& types) const;

private:
  upcaster_registry() = default;

  const upcaster* find(std::string_view type, std::uint32_t version) const;

  /// type -> from -> step.
  std::map<std::string, std::map<std::uint32_t, upcaster>, std::less<>> steps_;
};

using upcaster_registry_ptr = std::shared_ptr<const upcaster_registry>;

/// Returns `e` upcast through `registry` (as upcaster_registry::upcast), or
/// `e` itself when there is no registry.
inline const event& upcast(const upcaster_registry* registry, const event& e,
                           std::optional<event>& scratch) {
  return registry == nullptr ? e : registry->upcast(e, scratch);
}

} // namespace bus
