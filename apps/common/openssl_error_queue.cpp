// A fix, from outside, for a bug of CAF 0.17.6's OpenSSL module: its
// sessions call SSL_read, SSL_write, SSL_accept and SSL_connect without
// clearing the thread's OpenSSL error queue, and a failed session (a client
// without TLS, a certificate of another CA) leaves its errors there.
// SSL_get_error then reports every later "would block" on the same
// multiplexer thread as a fatal error, so one bad client dropped every good
// TLS connection of the node, at each of their next reads. OpenSSL requires
// an empty queue before each of these calls; these definitions, in the
// executable, take the place of libssl's for libcaf_openssl (ELF symbol
// interposition), clear the queue and call libssl's.

#include "openssl_error_queue.hpp"

#include <cstdlib>
#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class Fn>
Fn next_definition(const char* name) {
  auto* fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (!fn)
    std::abort(); // libssl is linked: it cannot be missing
  return fn;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto next = next_definition<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto next = next_definition<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto next = next_definition<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return next(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto next = next_definition<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return next(ssl);
}

} // extern "C"

namespace bus::app {

void clear_openssl_errors_before_io() {
  // nop: referencing this links the definitions above into the executable
}

} // namespace bus::app
