#include "bus/admin/answer.hpp"

#include <caf/sec.hpp>

#include "bus/admin/json_style.hpp"
#include "bus/errc.hpp"

namespace bus::admin {

const char* to_string(error_code x) noexcept {
  switch (x) {
    case error_code::bad_request:
      return "bad_request";
    case error_code::not_found:
      return "not_found";
    case error_code::no_such_model:
      return "no_such_model";
    case error_code::not_parked:
      return "not_parked";
    case error_code::method_not_allowed:
      return "method_not_allowed";
    case error_code::conflict:
      return "conflict";
    case error_code::payload_too_large:
      return "payload_too_large";
    case error_code::header_too_large:
      return "header_too_large";
    case error_code::unavailable:
      return "unavailable";
  }
  return "unavailable";
}

unsigned http_status(error_code x) noexcept {
  switch (x) {
    case error_code::bad_request:
      return 400;
    case error_code::not_found:
    case error_code::no_such_model:
    case error_code::not_parked:
      return 404;
    case error_code::method_not_allowed:
      return 405;
    case error_code::conflict:
      return 409;
    case error_code::payload_too_large:
      return 413;
    case error_code::header_too_large:
      return 431;
    case error_code::unavailable:
      return 503;
  }
  return 503;
}

answer json_answer(std::string body, unsigned status) {
  answer result;
  result.status = status;
  result.body = std::move(body);
  return result;
}

answer error_answer(error_code code, std::string_view message, std::string allow) {
  std::string body = "{\"error\": {\"code\": ";
  render_string(body, to_string(code));
  body += ", \"message\": ";
  render_string(body, message);
  body += "}}";
  auto result = json_answer(std::move(body), http_status(code));
  result.allow = std::move(allow);
  return result;
}

answer error_answer(const caf::error& err) {
  auto text = context_of(err);
  switch (code_of(err)) {
    case errc::no_such_model:
      return error_answer(error_code::no_such_model, text);
    case errc::not_parked:
      return error_answer(error_code::not_parked, text);
    case errc::precondition_failed:
      return error_answer(error_code::conflict, text);
    case errc::invalid_config:
    case errc::invalid_event:
    case errc::out_of_range:
      return error_answer(error_code::bad_request, text);
    default:
      break;
  }
  if (err == caf::sec::request_timeout)
    return error_answer(error_code::unavailable,
                        "the node did not answer in time; the request may "
                        "still take effect");
  if (text.empty())
    text = caf::to_string(err);
  return error_answer(error_code::unavailable, text);
}

} // namespace bus::admin
