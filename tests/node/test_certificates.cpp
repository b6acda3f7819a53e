#include "test_certificates.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace bus::node::test {

test_certificates::test_certificates(std::filesystem::path dir) : dir_(std::move(dir)) {
  // nop
}

void test_certificates::run(const std::string& command) const {
  auto line = "cd '" + dir_.string() + "' && " + command + " 2>>openssl.log";
  if (std::system(line.c_str()) != 0)
    throw std::runtime_error("openssl failed: " + command + " (see "
                             + path("openssl.log") + ")");
}

void test_certificates::make_ca(const std::string& name) {
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 365 -subj '/CN="
      + name + " test CA' -keyout " + name + ".ca.key -out " + name + ".ca.pem");
}

void test_certificates::make_node(const std::string& node, const std::string& ca) {
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN="
      + node + "' -keyout " + node + ".key -out " + node + ".csr");
  run("openssl x509 -req -days 365 -in " + node + ".csr -CA " + ca + ".ca.pem -CAkey "
      + ca + ".ca.key -CAcreateserial -out " + node + ".pem");
}

void test_certificates::sign_dated(const std::string& name, const std::string& out,
                                   const std::string& signer,
                                   const std::string& not_before,
                                   const std::string& not_after) {
  // The least `openssl ca` takes: its database of what it signed, a serial.
  if (!std::filesystem::exists(dir_ / "dated.cnf")) {
    std::filesystem::create_directories(dir_ / "dated");
    std::ofstream{dir_ / "dated" / "index.txt"};
    std::ofstream{dir_ / "dated" / "serial"} << "01\n";
    std::ofstream{dir_ / "dated.cnf"}
      << "[ca]\ndefault_ca = dated\n[dated]\ndatabase = dated/index.txt\n"
         "new_certs_dir = dated\nserial = dated/serial\ndefault_md = sha256\n"
         "unique_subject = no\npolicy = any\n[any]\ncommonName = supplied\n";
  }
  run("openssl ca -batch -config dated.cnf " + signer + " -startdate " + not_before
      + " -enddate " + not_after + " -in " + name + ".csr -out " + out);
}

void test_certificates::make_ca_valid(const std::string& name,
                                      const std::string& not_before,
                                      const std::string& not_after) {
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN="
      + name + " test CA' -keyout " + name + ".ca.key -out " + name + ".csr");
  sign_dated(name, name + ".ca.pem", "-selfsign -keyfile " + name + ".ca.key",
             not_before, not_after);
}

void test_certificates::make_node_valid(const std::string& node, const std::string& ca,
                                        const std::string& not_before,
                                        const std::string& not_after) {
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN="
      + node + "' -keyout " + node + ".key -out " + node + ".csr");
  sign_dated(node, node + ".pem", "-cert " + ca + ".ca.pem -keyfile " + ca + ".ca.key",
             not_before, not_after);
}

void test_certificates::encrypt_key(const std::string& node) {
  run("openssl pkey -in " + node + ".key -aes256 -passout pass:secret -out " + node
      + ".enc.key");
}

std::string test_certificates::path(const std::string& file) const {
  return (dir_ / file).string();
}

std::vector<std::string> test_certificates::args(const std::string& node,
                                                 const std::string& trusted) const {
  return {"--tls-cert",        path(node + ".pem"), "--tls-key",
          path(node + ".key"), "--tls-ca",          path(trusted + ".ca.pem")};
}

} // namespace bus::node::test
