#pragma once

// Works around CAF 0.17.6's OpenSSL module leaving OpenSSL's per-thread
// error queue dirty (see openssl_error_queue.cpp): an app that uses TLS
// calls this once, which links the fix into it.

namespace bus::app {

/// Makes every SSL_read, SSL_write, SSL_accept and SSL_connect of CAF's
/// OpenSSL module start with an empty error queue.
void clear_openssl_errors_before_io();

} // namespace bus::app
