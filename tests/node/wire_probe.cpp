#include "wire_probe.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace bus::node::test {

namespace {

using clock = std::chrono::steady_clock;

struct socket_fd {
  int fd = -1;
  ~socket_fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

void connect_loopback(socket_fd& s, std::uint16_t port) {
  s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s.fd < 0 || ::connect(s.fd, reinterpret_cast<sockaddr*>(&at), sizeof(at)) != 0)
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0)
      return; // the server closed: what it sent is still read
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Waits up to 50 ms (within the deadline) for bytes and appends them to
// `raw`; false once the server has closed.
bool read_some(int fd, clock::time_point deadline, std::string& raw,
               std::string* also_to = nullptr) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline
                                                                    - clock::now());
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::clamp<long long>(left.count(), 0, 50))) <= 0)
    return true;
  char buf[4096];
  auto n = ::recv(fd, buf, sizeof(buf), 0);
  if (n <= 0)
    return false;
  raw.append(buf, static_cast<std::size_t>(n));
  if (also_to)
    also_to->append(buf, static_cast<std::size_t>(n));
  return true;
}

} // namespace

silent_connection::silent_connection(std::uint16_t port) {
  socket_fd s;
  connect_loopback(s, port);
  std::swap(fd_, s.fd);
}

silent_connection::~silent_connection() {
  ::close(fd_);
}

probe_result probe_raw(std::uint16_t port, std::string_view bytes,
                       std::string_view wanted, std::chrono::milliseconds limit) {
  probe_result result;
  socket_fd s;
  connect_loopback(s, port);
  send_all(s.fd, bytes);
  auto deadline = clock::now() + limit;
  while (clock::now() < deadline) {
    if (!wanted.empty() && result.raw.find(wanted) != std::string::npos) {
      result.end = probe_end::found;
      return result;
    }
    if (!read_some(s.fd, deadline, result.raw)) {
      result.end = probe_end::closed;
      return result;
    }
  }
  return result;
}

probe_result probe_tls(std::uint16_t port, const probe_identity& id,
                       std::string_view wanted, std::chrono::milliseconds limit) {
  probe_result result;
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx{SSL_CTX_new(TLS_client_method()),
                                                   &SSL_CTX_free};
  if (!id.certificate.empty()
      && (SSL_CTX_use_certificate_chain_file(ctx.get(), id.certificate.c_str()) != 1
          || SSL_CTX_use_PrivateKey_file(ctx.get(), id.key.c_str(), SSL_FILETYPE_PEM)
               != 1))
    throw std::runtime_error("the probe cannot load " + id.certificate);
  if (!id.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), id.ca.c_str(), nullptr) != 1)
      throw std::runtime_error("the probe cannot load " + id.ca);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  std::unique_ptr<SSL, void (*)(SSL*)> ssl{SSL_new(ctx.get()), &SSL_free};
  auto* in = BIO_new(BIO_s_mem());  // what the server sent, for OpenSSL
  auto* out = BIO_new(BIO_s_mem()); // what OpenSSL sends the server
  SSL_set_bio(ssl.get(), in, out);  // owned by ssl from here on
  SSL_set_connect_state(ssl.get());
  socket_fd s;
  connect_loopback(s, port);
  auto deadline = clock::now() + limit;
  auto finish = [&](probe_end end) {
    result.end = end;
    ERR_clear_error();
    return result;
  };
  while (clock::now() < deadline) {
    bool failed = false;
    if (!result.established) {
      auto rc = SSL_do_handshake(ssl.get());
      if (rc == 1) {
        result.established = true;
      } else {
        auto err = SSL_get_error(ssl.get(), rc);
        failed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      }
    }
    if (result.established) {
      char buf[4096];
      int n = 0;
      while ((n = SSL_read(ssl.get(), buf, sizeof(buf))) > 0)
        result.plaintext.append(buf, static_cast<std::size_t>(n));
      auto err = SSL_get_error(ssl.get(), n);
      failed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      if (!wanted.empty() && result.plaintext.find(wanted) != std::string::npos)
        return finish(probe_end::found);
    }
    // Whatever OpenSSL has to say goes out, also an alert before a failure.
    char pending[4096];
    int n = 0;
    while ((n = BIO_read(out, pending, sizeof(pending))) > 0)
      send_all(s.fd, std::string_view{pending, static_cast<std::size_t>(n)});
    if (failed)
      return finish(probe_end::closed);
    std::string fresh;
    if (!read_some(s.fd, deadline, result.raw, &fresh))
      return finish(probe_end::closed);
    if (!fresh.empty())
      BIO_write(in, fresh.data(), static_cast<int>(fresh.size()));
  }
  return finish(probe_end::timed_out);
}

} // namespace bus::node::test
