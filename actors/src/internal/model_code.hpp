#pragma once

// Calling user read-model code (and hooks, upcasters) from an actor: what
// it throws is caught where it is called and turned into an error the
// caller or the supervisor sees (projector.hpp). An exception that escaped
// would make CAF print it on stdout, where a node speaks its protocol, and
// kill the actor with system_error(runtime_error), its text lost.

#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace bus::internal {

/// Runs `f`; returns the text of the exception it threw, or nothing.
template <class F>
std::optional<std::string> model_threw(F&& f) {
  try {
    std::forward<F>(f)();
    return std::nullopt;
  } catch (const std::exception& ex) {
    return std::string{ex.what()};
  } catch (...) {
    return std::string{"unknown exception"};
  }
}

} // namespace bus::internal
