#pragma once

// The session's parts (session.hpp), in the session's actor: the publish
// path and the request order live in session.cpp, the control requests
// (query, status, lifecycle, parked events) in session_control.cpp.

#include <cstddef>
#include <memory>
#include <string>

#include "session.hpp"

namespace bus::node {

using self_ptr = session_actor::stateful_pointer<session_state>;

/// Sets the reply of slot `index`.
void finish(self_ptr self, std::size_t index, std::string text);

/// Sets the reply of slot `index` to `text[offset, offset + size)`.
void finish(self_ptr self, std::size_t index,
            const std::shared_ptr<const std::string>& text, std::size_t offset,
            std::size_t size);

/// Writes the ready prefix of the replies in one go.
void flush(self_ptr self);

/// Serves queued requests in order as far as ordering allows.
void dispatch(self_ptr self);

/// The control requests: each answers its slot and lets later requests go.
void send_query(self_ptr self, session_state::pending p);
void send_status(self_ptr self, session_state::pending p);
void send_lifecycle(self_ptr self, session_state::pending p);
void send_parked(self_ptr self, session_state::pending p);
void send_await(self_ptr self, session_state::pending p);
/// A command (session_command.cpp).
void send_command(self_ptr self, session_state::pending p);

} // namespace bus::node
