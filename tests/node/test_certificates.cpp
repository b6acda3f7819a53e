#include "test_certificates.hpp"

#include <cstdlib>
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
      "-nodes -days 2 -subj '/CN="
      + name + " test CA' -keyout " + name + ".ca.key -out " + name + ".ca.pem");
}

void test_certificates::make_node(const std::string& node, const std::string& ca) {
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj '/CN="
      + node + "' -keyout " + node + ".key -out " + node + ".csr");
  run("openssl x509 -req -days 2 -in " + node + ".csr -CA " + ca + ".ca.pem -CAkey "
      + ca + ".ca.key -CAcreateserial -out " + node + ".pem");
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
