#pragma once

// Certificate authorities and node certificates for the TLS tests, made at
// test time with the openssl command line (EC P-256 keys: fast to make) in
// a scratch directory. Throws std::runtime_error when openssl fails.

#include <filesystem>
#include <string>
#include <vector>

namespace bus::node::test {

class test_certificates {
public:
  explicit test_certificates(std::filesystem::path dir);

  /// Makes a self-signed CA: NAME.ca.pem and NAME.ca.key.
  void make_ca(const std::string& name);

  /// Makes NODE.pem and NODE.key, a certificate with the common name NODE
  /// signed by CA `ca`.
  void make_node(const std::string& node, const std::string& ca);

  /// Makes NAME.ca.pem and NAME.ca.key as make_ca does, valid from
  /// `not_before` to `not_after` only (UTC, "20200101000000Z").
  void make_ca_valid(const std::string& name, const std::string& not_before,
                     const std::string& not_after);

  /// Makes NODE.pem and NODE.key as make_node does, valid from `not_before`
  /// to `not_after` only: an expired certificate, or one not valid yet.
  void make_node_valid(const std::string& node, const std::string& ca,
                       const std::string& not_before, const std::string& not_after);

  /// Makes NODE.enc.key, NODE.key encrypted with a passphrase.
  void encrypt_key(const std::string& node);

  /// The paths of a file made here ("bus.pem", "main.ca.pem").
  std::string path(const std::string& file) const;

  /// --tls-cert, --tls-key and --tls-ca for NODE trusting CA `trusted`.
  std::vector<std::string> args(const std::string& node,
                                const std::string& trusted) const;

private:
  void run(const std::string& command) const;

  // Signs NAME.csr into OUT with `openssl ca`, which takes any dates;
  // `signer` is its -cert and -keyfile, or -selfsign and -keyfile.
  void sign_dated(const std::string& name, const std::string& out,
                  const std::string& signer, const std::string& not_before,
                  const std::string& not_after);

  std::filesystem::path dir_;
};

} // namespace bus::node::test
