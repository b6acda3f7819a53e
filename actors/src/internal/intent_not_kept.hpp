#pragma once

// The error a pause or resume gets when a store could not keep it: the
// supervisor's store of pauses (restarts.cpp) and the bus's directory
// (directory_pauses.cpp) word it alike, so that an operator reads one
// kind of answer whichever refused.

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

/// `what` ("... paused on this node but not kept") and why, from the
/// store's error `err`. Fenced (another bus node leads, `leader` no longer
/// does): model_unavailable, sent to the leader. Otherwise storage_failed:
/// `after_restart` says who would undo it ("a restart of the node would"),
/// and the request is to be sent again.
inline caf::error intent_not_kept(const std::string& what, const caf::error& err,
                                  bool fenced, bool paused, std::string_view leader,
                                  std::string_view after_restart) {
  if (fenced)
    return make_error(errc::model_unavailable,
                      what + ", as " + std::string{leader} + " no longer leads: "
                        + context_of(err) + "; send it to the bus node that leads");
  return make_error(errc::storage_failed,
                    what + ": " + context_of(err) + " (" + std::string{after_restart}
                      + " " + (paused ? "run it" : "pause it again") + "); send the "
                      + (paused ? "pause" : "resume")
                      + " again once the store can write");
}

} // namespace bus::internal
