#pragma once

// A network address as the apps take it on their command lines: HOST:PORT.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace bus {

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses "HOST:PORT" (PORT 0 to 65535; the last ':' splits, so "[::1]" is
/// not needed for "::1:4100", but "[::1]:4100" is taken too, as in URLs);
/// errc::invalid_config naming the text if not.
caf::expected<endpoint> parse_endpoint(std::string_view text);

/// True for addresses that only this machine reaches: 127.0.0.0/8,
/// "localhost" and "::1".
bool is_loopback(std::string_view host);

} // namespace bus
