#pragma once

// Mutual TLS between nodes (bus-node --listen, bus-projector --connect)
// through CAF's OpenSSL module: the --tls-cert, --tls-key and --tls-ca
// options, their check before anything listens or dials, and the actor
// system settings that turn the module on. CAF reads the files again for
// every connection, and a file it cannot read then aborts the process: so
// check() must pass first, and enable_tls() hands CAF the files as they were
// at start (open descriptors), whatever happens to them later.
// Single-threaded, before the actor system starts.

#include <string>

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

namespace bus::app {

/// The files of a node's TLS identity and trust.
struct tls_files {
  /// This node's certificate (PEM; its chain may follow it).
  std::string certificate;
  /// Its private key (PEM, not encrypted: nothing could ask for a passphrase).
  std::string key;
  /// The CA certificates (PEM) that sign every node allowed to connect.
  std::string ca;

  /// True when any of the three was given.
  bool any() const noexcept {
    return !certificate.empty() || !key.empty() || !ca.empty();
  }
};

/// Adds --tls-cert, --tls-key and --tls-ca; `what` ends their help ("for
/// --listen").
void add_tls_options(CLI::App& app, tls_files& files, const std::string& what);

/// Checks that the three files are given together and readable, that the
/// certificate and key are PEM, the key unencrypted and the certificate's,
/// that the certificate is valid now (not expired, not before its start),
/// and that the CA file holds a certificate valid now. The error
/// (errc::invalid_config) names the option and the file. A certificate that
/// expires within expiry_warning_days, or a certificate of the CA file valid
/// now that does, passes with a warning on the log.
caf::error check(const tls_files& files);

/// check() warns of a certificate that expires within this many days.
constexpr int expiry_warning_days = 14;

/// Loads CAF's OpenSSL module with `files` as its credentials: every peer
/// must then present a certificate signed by the CA, and nothing is sent in
/// plaintext. Opens the files and keeps them open for the life of the
/// process, giving CAF their /proc/self/fd paths: removing or replacing a
/// file later changes nothing (rotating certificates takes a restart). Call
/// after bus::enable_network, with files that passed check(); fails
/// (errc::invalid_config) when a file cannot be opened any more.
caf::error enable_tls(caf::actor_system_config& cfg, const tls_files& files);

} // namespace bus::app
