#pragma once

// Raw TCP clients of a node's --listen port, for the TLS tests: one that
// sends bytes and records what comes back, and one that speaks TLS through
// OpenSSL over memory buffers, so that the bytes on the wire stay visible
// beside what they carry. Each has a hard deadline; neither blocks past it.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bus::node::test {

/// How a probe's connection ended.
enum class probe_end {
  /// The text waited for arrived (in plaintext for probe_tls).
  found,
  /// The server closed the connection (or refused the TLS handshake).
  closed,
  /// Neither happened before the deadline.
  timed_out,
};

/// What a probe saw.
struct probe_result {
  probe_end end = probe_end::timed_out;
  /// Every byte the server sent, as it crossed the socket.
  std::string raw;
  /// What the server sent inside TLS (probe_tls, once established).
  std::string plaintext;
  /// True when the TLS handshake completed on the probe's side.
  bool established = false;
};

/// A TCP connection to 127.0.0.1:`port` that says nothing until it is
/// destroyed (a client that stalls before its handshake).
class silent_connection {
public:
  explicit silent_connection(std::uint16_t port);
  ~silent_connection();
  silent_connection(const silent_connection&) = delete;
  silent_connection& operator=(const silent_connection&) = delete;

private:
  int fd_ = -1;
};

/// Connects to 127.0.0.1:`port`, sends `bytes`, and reads until `wanted`
/// shows up in what the server sent, the server closes, or `limit` passes.
probe_result probe_raw(std::uint16_t port, std::string_view bytes,
                       std::string_view wanted, std::chrono::milliseconds limit);

/// The files of a probe's TLS identity; empty ones are not used (no
/// certificate: the probe presents none).
struct probe_identity {
  std::string certificate;
  std::string key;
  std::string ca;
};

/// Connects to 127.0.0.1:`port` as a TLS client with `id`, and reads until
/// `wanted` shows up in the plaintext, the server closes, or `limit`
/// passes.
probe_result probe_tls(std::uint16_t port, const probe_identity& id,
                       std::string_view wanted, std::chrono::milliseconds limit);

} // namespace bus::node::test
