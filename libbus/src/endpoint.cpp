#include "bus/endpoint.hpp"

#include "bus/errc.hpp"

namespace bus {

caf::expected<endpoint> parse_endpoint(std::string_view text) {
  auto bad = [&] {
    return make_error(errc::invalid_config,
                      "'" + std::string{text} + "' is not HOST:PORT (PORT 0 to 65535)");
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return bad();
  auto digits = text.substr(colon + 1);
  if (digits.size() > 5
      || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return bad();
  auto port = std::stoul(std::string{digits});
  if (port > 65535)
    return bad();
  auto host = text.substr(0, colon);
  // "[::1]:4100", as in URLs: the brackets are not part of the host.
  auto opens = host.front() == '[';
  auto closes = host.back() == ']';
  if (opens != closes || (opens && host.size() < 3))
    return bad();
  if (opens)
    host = host.substr(1, host.size() - 2);
  return endpoint{std::string{host}, static_cast<std::uint16_t>(port)};
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

} // namespace bus
