#include "tls_files.hpp"

#include <cerrno>
#include <fcntl.h>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bus/errc.hpp"
#include "bus/log.hpp"
#include "openssl_error_queue.hpp"

namespace bus::app {

namespace {

// The reason OpenSSL gave for the last failure (and clears its queue).
std::string openssl_reason() {
  std::string reason;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    reason = text; // the last one is the most specific
  }
  return reason.empty() ? "no reason given" : reason;
}

caf::error bad(const std::string& option, const std::string& file,
               const std::string& why) {
  return make_error(errc::invalid_config, option + " " + file + ": " + why);
}

// Never prompts for a passphrase (CAF's default would read the terminal).
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// A certificate's time as "2026-12-06 09:20:03 UTC".
std::string utc(const ASN1_TIME* t) {
  std::tm parts{};
  char text[32] = "an unreadable time";
  if (ASN1_TIME_to_tm(t, &parts) == 1)
    std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

// Why `cert` is not valid now ("" when it is): peers refuse such a
// certificate in the handshake, with errors that do not say why.
std::string not_valid_now(const X509* cert) {
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
    return "is not valid before " + utc(X509_get0_notBefore(cert));
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
    return "expired on " + utc(X509_get0_notAfter(cert));
  return {};
}

// A certificate's common name ("" when it has none).
std::string common_name(const X509* cert) {
  char name[256] = "";
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name,
                                sizeof(name))
      < 0)
    return {};
  return name;
}

// Warns when `cert` (`what`: "the certificate"), valid now, expires within
// expiry_warning_days: the node starts, but `after` happens from then on.
void warn_if_expiring(const char* option, const std::string& file, const X509* cert,
                      const std::string& what, const char* after) {
  int days = 0;
  int seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1
      || days >= expiry_warning_days)
    return;
  BUS_LOG(log_level::warning, "tls",
          option << " " << file << ": " << what << " expires on "
                 << utc(X509_get0_notAfter(cert)) << " (in " << days
                 << (days == 1 ? " day" : " days") << "): renew it before then, "
                 << after);
}

// Why no certificate of the CA file is valid now ("" when one is): a peer's
// certificate could not be verified against it. Warns of each one valid now
// that expires soon: the cluster stops as surely then.
std::string no_valid_ca(const std::string& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(file.c_str(), "rb"),
                                                    &std::fclose};
  std::string why;
  bool valid = false;
  while (f) {
    std::unique_ptr<X509, void (*)(X509*)> cert{
      PEM_read_X509(f.get(), nullptr, no_passphrase, nullptr), &X509_free};
    if (!cert)
      break;
    auto invalid = not_valid_now(cert.get());
    if (!invalid.empty()) {
      why = std::move(invalid);
      continue;
    }
    valid = true;
    warn_if_expiring("--tls-ca", file, cert.get(),
                     "the CA certificate '" + common_name(cert.get()) + "'",
                     "no peer's certificate it signed verifies from then on");
  }
  ERR_clear_error(); // the end of the file reads as an error
  return valid ? std::string{} : why;
}

caf::error readable(const std::string& option, const std::string& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{std::fopen(file.c_str(), "rb"),
                                                    &std::fclose};
  if (!f)
    return bad(option, file,
               std::string{"cannot read it ("} + std::strerror(errno) + ")");
  return {};
}

} // namespace

void add_tls_options(CLI::App& app, tls_files& files, const std::string& what) {
  app
    .add_option("--tls-cert", files.certificate,
                "This node's TLS certificate (PEM) " + what)
    ->type_name("FILE");
  app
    .add_option("--tls-key", files.key,
                "The private key of --tls-cert (PEM, unencrypted)")
    ->type_name("FILE");
  app
    .add_option("--tls-ca", files.ca,
                "The CA that signs the certificates of every node allowed "
                "to connect (PEM)")
    ->type_name("FILE");
}

caf::error check(const tls_files& files) {
  std::string missing;
  for (auto [option, file] :
       {std::pair{"--tls-cert", &files.certificate}, std::pair{"--tls-key", &files.key},
        std::pair{"--tls-ca", &files.ca}})
    if (file->empty())
      missing += (missing.empty() ? "" : " and ") + std::string{option};
  if (!missing.empty())
    return make_error(errc::invalid_config,
                      "TLS needs --tls-cert, --tls-key and --tls-ca together; "
                      "missing "
                        + missing);
  for (auto [option, file] :
       {std::pair{"--tls-cert", &files.certificate}, std::pair{"--tls-key", &files.key},
        std::pair{"--tls-ca", &files.ca}})
    if (auto err = readable(option, *file))
      return err;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx{SSL_CTX_new(TLS_method()),
                                                   &SSL_CTX_free};
  if (!ctx)
    return make_error(errc::invalid_config,
                      "cannot start OpenSSL: " + openssl_reason());
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.certificate.c_str()) != 1)
    return bad("--tls-cert", files.certificate,
               "holds no PEM certificate (" + openssl_reason() + ")");
  if (auto why = not_valid_now(SSL_CTX_get0_certificate(ctx.get())); !why.empty())
    return bad("--tls-cert", files.certificate,
               "the certificate " + why
                 + ": peers would refuse it; give one valid now");
  warn_if_expiring("--tls-cert", files.certificate, SSL_CTX_get0_certificate(ctx.get()),
                   "the certificate", "peers refuse it from then on");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> key_file{
    std::fopen(files.key.c_str(), "rb"), &std::fclose};
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key{
    key_file ? PEM_read_PrivateKey(key_file.get(), nullptr, no_passphrase, nullptr)
             : nullptr,
    &EVP_PKEY_free};
  if (!key)
    return bad("--tls-key", files.key,
               "holds no unencrypted PEM private key (" + openssl_reason() + ")");
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1) {
    openssl_reason(); // clears the queue
    return bad("--tls-key", files.key,
               "is not the key of the certificate in " + files.certificate);
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return bad("--tls-ca", files.ca,
               "holds no PEM certificate (" + openssl_reason() + ")");
  if (auto why = no_valid_ca(files.ca); !why.empty())
    return bad("--tls-ca", files.ca,
               "holds no certificate valid now (its last one " + why
                 + "): no peer's certificate could be verified against it");
  return {};
}

caf::error enable_tls(caf::actor_system_config& cfg, const tls_files& files) {
  clear_openssl_errors_before_io();
  // Opening /proc/self/fd/N opens the file N refers to afresh (from its
  // start), also once its name is gone.
  std::string pinned[3];
  const std::pair<const char*, const std::string*> all[] = {{"--tls-cert",
                                                             &files.certificate},
                                                            {"--tls-key", &files.key},
                                                            {"--tls-ca", &files.ca}};
  for (int i = 0; i < 3; ++i) {
    auto fd = ::open(all[i].second->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return bad(all[i].first, *all[i].second,
                 std::string{"cannot read it ("} + std::strerror(errno) + ")");
    pinned[i] = "/proc/self/fd/" + std::to_string(fd); // open until exit
  }
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = pinned[0];
  cfg.openssl_key = pinned[1];
  cfg.openssl_cafile = pinned[2];
  return {};
}

} // namespace bus::app
