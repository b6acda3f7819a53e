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

#include <caf/error.hpp>

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

/// The text of the exception `x` holds.
std::string what_of(const std::exception_ptr& x);

/// The last line of defence of an actor that calls model code (its CAF
/// exception handler, which only picks the exit reason): logs what escaped
/// under `source`, naming `who`, and returns the reason the actor then
/// quits with, an errc::apply_failed carrying the text. Nothing is printed
/// on stdout.
caf::error escaped_exception(const char* source, const std::string& who,
                             const std::exception_ptr& x);

} // namespace bus::internal
