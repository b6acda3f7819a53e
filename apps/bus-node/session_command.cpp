// The session's `command` request (docs/commands.md): it waits for the
// publishes before it, like a control request, so that a command sees the
// events sent before it, and holds the requests after it until its events
// are appended and applied.

#include "session_parts.hpp"

#include <caf/all.hpp>

#include "bus/errc.hpp"
#include "bus/event_stream.hpp"

namespace bus::node {

namespace {

// The reply to a command that was taken.
void render_ok(std::string& out, const request& req, const actors::command_ack& ack) {
  begin_reply(out, req, "command_ok");
  out += ", \"stream\": ";
  render_string(out, ack.stream);
  out += ", \"version\": ";
  out += std::to_string(ack.version);
  out += ", \"events\": [";
  for (std::size_t i = 0; i < ack.events.size(); ++i) {
    auto& e = ack.events[i];
    auto pos = stream_of(e);
    out += i == 0 ? "{\"id\": " : ", {\"id\": ";
    render_string(out, e.id);
    out += ", \"seq\": ";
    out += std::to_string(e.seq);
    out += ", \"type\": ";
    render_string(out, e.type);
    out += ", \"stream_version\": ";
    out += std::to_string(pos ? pos->version : 0);
    out += ", \"payload\": ";
    render_json(out, e.payload.object());
    out += '}';
  }
  out += ']';
  end_reply(out);
}

// The error reply to a command that was not taken.
std::string render_failure(const request& req, const caf::error& err) {
  auto code = code_of(err) == errc::version_conflict   ? error_code::conflict
              : code_of(err) == errc::command_rejected ? error_code::precondition_failed
              : code_of(err) == errc::unknown_command  ? error_code::not_supported
              : code_of(err) == errc::storage_failed   ? error_code::abort
              : code_of(err) == errc::overloaded ? error_code::temporarily_unavailable
                                                 : error_code::crash;
  auto text = context_of(err).empty() ? caf::to_string(err) : context_of(err);
  std::string out;
  render_error(out, req, code, text);
  return out;
}

} // namespace

void send_command(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto done = [self, p](std::string text) {
    finish(self, p.slot, std::move(text));
    self->state.control_in_flight = false;
    dispatch(self);
    flush(self);
  };
  if (!st.options.commands) {
    std::string text;
    render_error(text, *p.req, error_code::not_supported,
                 "this node takes no commands: its configuration's \"commands\" "
                 "section names no aggregates (docs/commands.md)");
    // Answered at once, inside dispatch(): it goes on with the next request.
    finish(self, p.slot, std::move(text));
    st.control_in_flight = false;
    return;
  }
  self
    ->request(st.options.commands, caf::infinite, actors::command_atom::value,
              *p.req->cmd)
    .then(
      [p, done](actors::command_ack& ack) {
        std::string text;
        render_ok(text, *p.req, ack);
        done(std::move(text));
      },
      [p, done](caf::error& err) { done(render_failure(*p.req, err)); });
}

} // namespace bus::node
