#pragma once

// A blocking HTTP/1.1 client of one admin endpoint (Boost.Beast over Asio).
// Each request opens its own connection and is bounded by the client's
// timeout as a whole: resolve, connect, write and read.

#include <chrono>
#include <stdexcept>
#include <string>

#include "bus/endpoint.hpp"

namespace busctl {

/// What the endpoint answered.
struct http_reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

/// Thrown when no answer came: the endpoint cannot be reached, closed the
/// connection, answered something that is not HTTP, or took too long.
class unreachable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The admin endpoint at one address.
class admin_client {
public:
  admin_client(bus::endpoint at, std::chrono::milliseconds timeout);

  /// Sends `GET target`; throws `unreachable` when no answer came.
  http_reply get(const std::string& target) const;

  /// Sends `POST target` with an empty body; throws `unreachable`.
  http_reply post(const std::string& target) const;

  /// Returns "HOST:PORT", for messages.
  std::string address() const;

private:
  http_reply request(bool post, const std::string& target) const;

  bus::endpoint at_;
  std::chrono::milliseconds timeout_;
};

/// Returns `text` percent-encoded for one path segment or query value.
std::string url_encode(const std::string& text);

} // namespace busctl
