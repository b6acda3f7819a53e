#include "network_exposure.hpp"

#include "bus/errc.hpp"

namespace bus::app {

std::optional<int> check_exposure(const command_line& cli, const tls_files& tls,
                                  const network_exposure& what) {
  if (tls.any()) {
    if (!what.listen && !what.connect)
      return cli.usage_error("--tls-cert, --tls-key and --tls-ca secure --listen; "
                             "pass --listen too");
    if (auto err = check(tls))
      return cli.usage_error(context_of(err));
  }
  if (what.listen && !is_loopback(what.listen->host)) {
    auto& host = what.listen->host;
    if (!what.allow_remote)
      return cli.usage_error("--listen " + host
                             + " is not a loopback address; pass --allow-remote "
                               "to listen there (with --tls-cert, --tls-key and "
                               "--tls-ca, or --insecure)");
    if (!tls.any() && !what.insecure)
      return cli.usage_error("--listen " + host
                             + " is not a loopback address and the bus protocol "
                               "has no authentication or encryption without "
                               "TLS: pass --tls-cert, --tls-key and --tls-ca "
                               "(or --insecure to listen in plaintext)");
  }
  if (what.connect && !is_loopback(what.connect->host) && !tls.any() && !what.insecure)
    return cli.usage_error("--connect " + what.connect->host
                           + " is not a loopback address and the bus protocol "
                             "has no encryption without TLS: pass --tls-cert, "
                             "--tls-key and --tls-ca (or --insecure to connect "
                             "in plaintext)");
  if (what.admin && !is_loopback(what.admin->host) && what.allow_remote
      && !what.insecure)
    return cli.usage_error("--admin " + what.admin->host
                           + " is not a loopback address and the admin "
                             "endpoint speaks plain HTTP without "
                             "authentication: pass --insecure too to serve there");
  return std::nullopt;
}

} // namespace bus::app
