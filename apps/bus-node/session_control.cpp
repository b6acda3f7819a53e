// The session's control requests: a query, status, the lifecycle of a model
// and its parked events. Each waits for the publishes before it and holds
// the requests after it until it is answered (see session.hpp).

#include "session_parts.hpp"

#include <caf/all.hpp>

#include "bus/admin/status_render.hpp"
#include "bus/errc.hpp"

namespace bus::node {

namespace {

// Ends a control request: its reply is `text`; later requests may go on.
void control_answered(self_ptr self, const session_state::pending& p,
                      std::string text) {
  finish(self, p.slot, std::move(text));
  self->state.control_in_flight = false;
  dispatch(self);
  flush(self);
}

// Renders the error reply of a failed control request.
std::string control_error(const session_state::pending& p, const caf::error& err) {
  auto code = code_of(err) == errc::no_such_key || code_of(err) == errc::no_such_model
                  || code_of(err) == errc::not_parked
                ? error_code::key_does_not_exist
              : code_of(err) == errc::precondition_failed
                ? error_code::precondition_failed
              : code_of(err) == errc::invalid_config ? error_code::malformed_request
              : code_of(err) == errc::query_failed // the model is up, its code threw
                ? error_code::crash
                // A write the store could not commit (a pause not kept): resend.
                : code_of(err) == errc::storage_failed
                    ? error_code::abort
                    : error_code::temporarily_unavailable; // also timed_out (await)
  auto text = context_of(err).empty() ? caf::to_string(err) : context_of(err);
  std::string line;
  render_error(line, *p.req, code, text);
  return line;
}

// Ends a control request with the reply `type` carrying `fields`.
void control_reply(self_ptr self, const session_state::pending& p,
                   std::string_view type, const std::string& fields) {
  std::string text;
  render_reply(text, *p.req, type, fields);
  control_answered(self, p, std::move(text));
}

// Ends a control request that failed with `err`.
void control_failed(self_ptr self, const session_state::pending& p,
                    const caf::error& err) {
  control_answered(self, p, control_error(p, err));
}

} // namespace

void send_query(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  self
    ->request(st.supervisor, caf::infinite, actors::query_atom::value, p.req->model,
              p.req->key)
    .then(
      [self, p](actors::query_result& r) {
        std::string fields;
        render_field(fields, "model", r.model);
        render_field(fields, "key", r.key);
        fields += ", ";
        render_key(fields, "value");
        render_json(fields, r.value);
        control_reply(self, p, "query_ok", fields);
      },
      [self, p](caf::error& err) { control_failed(self, p, err); });
}

void send_status(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  self->request(st.bus, caf::infinite, actors::status_atom::value)
    .then(
      [self, p](actors::bus_status& bus) {
        self->request(self->state.supervisor, caf::infinite, actors::status_atom::value)
          .then(
            [self, p, bus](std::vector<actors::projector_status>& models) {
              std::string fields;
              admin::render_status_fields(fields, bus, models);
              control_reply(self, p, "status_ok", fields);
            },
            [self, p](caf::error& err) { control_failed(self, p, err); });
      },
      [self, p](caf::error& err) { control_failed(self, p, err); });
}

void send_lifecycle(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto kind = p.req->kind;
  auto reply_type = kind == request_kind::pause      ? "paused"
                    : kind == request_kind::resume   ? "resumed"
                    : kind == request_kind::rollback ? "rolled_back"
                    : kind == request_kind::discard  ? "discarded"
                    : kind == request_kind::restart  ? "restart_ok"
                    : kind == request_kind::blue_green && p.req->await_switch
                      ? "switched"
                      : "rebuilding";
  auto on_status = [self, p, reply_type](actors::projector_status& s) {
    std::string fields;
    render_field(fields, "model", s.model);
    render_field(fields, "state", to_string(s.state));
    if (p.req->kind == request_kind::blue_green)
      render_field(fields, "mode", "blue_green");
    if (p.req->kind == request_kind::discard)
      render_field(fields, "discarded", to_string(s.role));
    control_reply(self, p, reply_type, fields);
  };
  auto on_error = [self, p](caf::error& err) { control_failed(self, p, err); };
  auto& model = p.req->model;
  switch (p.req->kind) {
    case request_kind::pause:
      self->request(st.supervisor, caf::infinite, actors::pause_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::resume:
      self->request(st.supervisor, caf::infinite, actors::resume_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::blue_green:
      self
        ->request(
          st.supervisor, caf::infinite, actors::shadow_atom::value, *p.req->definition,
          p.req->await_switch ? actors::shadow_wait::live : actors::shadow_wait::start)
        .then(on_status, on_error);
      break;
    case request_kind::rollback:
      self->request(st.supervisor, caf::infinite, actors::rollback_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::discard:
      self->request(st.supervisor, caf::infinite, actors::discard_atom::value, model)
        .then(on_status, on_error);
      break;
    case request_kind::restart:
      self->request(st.supervisor, caf::infinite, actors::restart_atom::value, model)
        .then(on_status, on_error);
      break;
    default:
      self->request(st.supervisor, caf::infinite, actors::rebuild_atom::value, model)
        .then(on_status, on_error);
  }
}

// Sends a request on a model's parked events; the reply lists what is
// parked afterwards.
void send_parked(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto kind = p.req->kind;
  auto reply_type = kind == request_kind::parked         ? "parked_ok"
                    : kind == request_kind::retry_parked ? "parked_retried"
                                                         : "parked_discarded";
  auto on_list = [self, p, reply_type](actors::parked_list& xs) {
    std::string fields;
    render_field(fields, "model", xs.model);
    if (p.req->kind != request_kind::parked)
      fields += ", \"done\": " + std::to_string(xs.done);
    fields += ", ";
    render_key(fields, "parked");
    render_json(fields, xs.entries);
    control_reply(self, p, reply_type, fields);
  };
  auto on_error = [self, p](caf::error& err) { control_failed(self, p, err); };
  auto& model = p.req->model;
  if (kind == request_kind::parked)
    self->request(st.supervisor, caf::infinite, actors::parked_atom::value, model)
      .then(on_list, on_error);
  else if (kind == request_kind::retry_parked)
    self
      ->request(st.supervisor, caf::infinite, actors::unpark_atom::value, model,
                p.req->seq)
      .then(on_list, on_error);
  else
    self
      ->request(st.supervisor, caf::infinite, actors::drop_parked_atom::value, model,
                p.req->seq)
      .then(on_list, on_error);
}

// Waits until the read models have applied up to the seq; the supervisor
// keeps the deadline and names the models still behind when it passes.
void send_await(self_ptr self, session_state::pending p) {
  auto& st = self->state;
  auto timeout = caf::timespan{std::chrono::milliseconds{p.req->timeout_ms}};
  self
    ->request(st.supervisor, caf::infinite, actors::await_atom::value, p.req->seq,
              p.req->model, timeout)
    .then(
      [self, p](std::vector<actors::model_checkpoint>& xs) {
        std::string fields = "\"seq\": " + std::to_string(p.req->seq);
        fields += ", \"checkpoints\": {";
        for (std::size_t i = 0; i < xs.size(); ++i) {
          if (i > 0)
            fields += ", ";
          render_key(fields, xs[i].model);
          fields += std::to_string(xs[i].checkpoint);
        }
        fields += '}';
        control_reply(self, p, "await_ok", fields);
      },
      [self, p](caf::error& err) { control_failed(self, p, err); });
}

} // namespace bus::node
