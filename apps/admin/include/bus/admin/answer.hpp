#pragma once

// What the admin endpoint answers: a status code, a content type and a
// body, and the JSON error bodies of docs/admin-api.md, built without any
// network so that tests can check them.

#include <string>
#include <string_view>

#include <caf/error.hpp>

namespace bus::admin {

/// The error codes of the API, each with its HTTP status.
enum class error_code {
  /// 400: a malformed parameter, query string or request.
  bad_request,
  /// 404: no such path.
  not_found,
  /// 404: the model is not served here.
  no_such_model,
  /// 404: the seq is not parked.
  not_parked,
  /// 405: the path takes another method (Allow says which).
  method_not_allowed,
  /// 409: the request does not fit the model's state.
  conflict,
  /// 413: a body over its bound.
  payload_too_large,
  /// 431: a header over its bound.
  header_too_large,
  /// 503: the node could not answer (timeout, node lost, too busy).
  unavailable,
};

/// The code's name in error bodies ("no_such_model").
const char* to_string(error_code x) noexcept;

/// The HTTP status of the code.
unsigned http_status(error_code x) noexcept;

struct answer {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// With 405: the methods the path takes.
  std::string allow;
};

/// A JSON body with status 200 (or `status`).
answer json_answer(std::string body, unsigned status = 200);

/// `{"error": {"code": ..., "message": ...}}` with the code's status.
answer error_answer(error_code code, std::string_view message, std::string allow = {});

/// The answer to a request the node refused or could not serve: the
/// framework's error codes mapped to the API's (no_such_model, not_parked,
/// conflict, unavailable, ...), with the error's text.
answer error_answer(const caf::error& err);

} // namespace bus::admin
