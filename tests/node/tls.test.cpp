// Mutual TLS between a bus node and projector nodes, as real processes on
// loopback with certificates made at test time: who gets in, who does not,
// what crosses the wire, and that node loss and reconnection still work.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "tls_fixture.hpp"
#include "wire_probe.hpp"

using namespace bus::node::test;
using namespace std::chrono_literals;

namespace {

// Every TLS-speaking client of a CAF node gets this in the node's first
// message, its handshake (in plaintext without TLS).
constexpr std::string_view caf_handshake_marker = "generic-caf-app";

// The UTC time `offset` from now as openssl's dates take it
// ("20261207120000Z").
std::string utc_from_now(std::chrono::hours offset) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()
                                                + offset);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%d%H%M%SZ", &parts);
  return text;
}

bool is_tls_record(const std::string& raw, char content_type) {
  return raw.size() >= 5 && raw[0] == content_type && raw[1] == '\x03';
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls_distributed)

BOOST_FIXTURE_TEST_CASE(projector_nodes_with_certificates_of_the_ca_project_end_to_end,
                        tls_fixture) {
  constexpr std::size_t users = 100;
  auto stream = make_stream(1500, users, 10);
  c.start_bus(certs.args("bus", "main"));
  BOOST_TEST(c.bus->err().find("runs over mutual TLS") != std::string::npos,
             c.bus->err());
  c.start_projector("node-a", "projector-listing.json", certs.args("node-a", "main"));
  c.start_projector("node-b", "projector-email.json", certs.args("node-b", "main"));
  c.until_caught_up(c.both);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, stream.size()), seen, c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
  c.check_applied_once(stream);
}

BOOST_FIXTURE_TEST_CASE(a_projector_node_with_a_certificate_of_another_ca_is_refused,
                        tls_fixture) {
  start_bus_and_node_a();
  // It trusts the bus's CA, but the bus does not trust its own.
  c.start_projector("rogue", "projector-email.json", certs.args("rogue", "main"));
  auto err = c.projectors["rogue"]->wait_for_err("cannot reach the bus");
  BOOST_TEST(err.find("disconnect_during_handshake") != std::string::npos, err);
  check_only_node_a_serves(make_stream(500, 50, 10), 50);
  BOOST_TEST(c.projectors["rogue"]->err().find("attached") == std::string::npos);
  BOOST_TEST(c.projectors["node-a"]->running());
}

BOOST_FIXTURE_TEST_CASE(
  a_bus_with_a_certificate_of_another_ca_is_refused_by_projector_nodes, tls_fixture) {
  // The bus trusts node-a's CA, but node-a does not trust the bus's.
  c.start_bus(certs.args("rogue", "main"));
  c.start_projector("node-a", "projector-listing.json", certs.args("node-a", "main"));
  auto err = c.projectors["node-a"]->wait_for_err("cannot reach the bus");
  BOOST_TEST(err.find("attached") == std::string::npos, err);
  std::uint64_t head = 0;
  BOOST_TEST(c.models(head).empty(), c.last_status);
}

BOOST_FIXTURE_TEST_CASE(the_bus_node_keeps_its_credentials_when_their_files_go,
                        tls_fixture) {
  // CAF reads the files for every connection; one it cannot read then used
  // to abort the node.
  auto moving = dir.path / "moving";
  std::filesystem::create_directories(moving);
  std::vector<std::string> args;
  for (auto [option, file] :
       {std::pair{"--tls-cert", "bus.pem"}, std::pair{"--tls-key", "bus.key"},
        std::pair{"--tls-ca", "main.ca.pem"}}) {
    std::filesystem::copy_file(certs.path(file), moving / file);
    args.insert(args.end(), {option, (moving / file).string()});
  }
  c.start_bus(args);
  std::filesystem::remove_all(moving);
  c.start_projector("node-a", "projector-listing.json", certs.args("node-a", "main"));
  c.until_caught_up({"user_listing"});
  check_only_node_a_serves(make_stream(200, 20, 10), 20);
  BOOST_TEST(c.bus->running());
}

BOOST_FIXTURE_TEST_CASE(a_projector_node_without_tls_is_refused, tls_fixture) {
  start_bus_and_node_a();
  c.start_projector("plain", "projector-email.json");
  auto err = c.projectors["plain"]->wait_for_err("cannot reach the bus");
  BOOST_TEST(err.find("(no TLS)") != std::string::npos, err);
  check_only_node_a_serves(make_stream(500, 50, 10), 50);
  BOOST_TEST(c.projectors["plain"]->err().find("attached") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(
  a_plain_tcp_client_gets_nothing_of_the_bus_and_does_not_disturb_it, tls_fixture) {
  start_bus_and_node_a();
  // Bytes that are not TLS: the bus closes the connection, having sent at
  // most a TLS alert, never its handshake.
  std::string junk = "GET / HTTP/1.0\r\n\r\n{\"type\": \"status\"}\n"
                     + std::string(64, '\0');
  for (int i = 0; i < 3; ++i) {
    auto answer = probe_raw(port(), junk, caf_handshake_marker, 20s);
    BOOST_TEST((answer.end == probe_end::closed));
    BOOST_TEST((answer.raw.empty() || is_tls_record(answer.raw, '\x15')),
               answer.raw.size());
  }
  // A client that connects and says nothing holds no one up: node-b
  // attaches meanwhile.
  silent_connection stalled{port()};
  c.start_projector("node-b", "projector-email.json", certs.args("node-b", "main"));
  c.until_caught_up(c.both);
  constexpr std::size_t users = 50;
  auto stream = make_stream(500, users, 10);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, stream.size()), seen, c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
  auto a_err = c.projectors["node-a"]->err();
  BOOST_TEST(a_err.find("lost the bus") == std::string::npos, a_err);
}

BOOST_FIXTURE_TEST_CASE(the_bus_protocol_on_the_wire_is_tls, tls_fixture) {
  // Control: a bus without TLS sends its handshake in plaintext at once.
  cluster plain;
  plain.start_bus();
  auto clear = probe_raw(static_cast<std::uint16_t>(std::stoi(plain.port)), "",
                         caf_handshake_marker, 20s);
  BOOST_TEST((clear.end == probe_end::found));
  c.start_bus(certs.args("bus", "main"));
  // A client of the CA gets the same handshake, inside TLS records only.
  auto good = probe_tls(port(), identity("node-a"), caf_handshake_marker, 20s);
  BOOST_TEST((good.end == probe_end::found));
  BOOST_TEST(good.established);
  BOOST_TEST(is_tls_record(good.raw, '\x16'),
             "the server's first bytes are no TLS handshake record");
  BOOST_TEST(good.raw.find(caf_handshake_marker) == std::string::npos);
  // A TLS client without a certificate gets nothing of it.
  auto anonymous = probe_tls(port(), {"", "", certs.path("main.ca.pem")},
                             caf_handshake_marker, 20s);
  BOOST_TEST((anonymous.end == probe_end::closed));
  BOOST_TEST(anonymous.plaintext.find(caf_handshake_marker) == std::string::npos);
  BOOST_TEST(anonymous.raw.find(caf_handshake_marker) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(heartbeats_and_reconnection_work_over_tls, tls_fixture) {
  constexpr std::size_t users = 80;
  auto stream = make_stream(900, users, 10);
  auto bus_args = certs.args("bus", "main");
  bus_args.insert(bus_args.end(), {"--store", dir.store()});
  c.start_bus(bus_args);
  c.start_projector("node-a", "projector-listing.json", certs.args("node-a", "main"));
  c.start_projector("node-b", "projector-email.json", certs.args("node-b", "main"));
  c.until_caught_up(c.both);
  std::set<std::string> seen;
  check_replies(stream, 0, c.publish(stream, 0, 300), seen, c.both);
  // Node B hangs with its connection open: only missing heartbeats tell.
  ::kill(c.projectors["node-b"]->pid(), SIGSTOP);
  c.until_state("user_by_email", "away", {"running", "unreachable"}, 20s);
  check_replies(stream, 300, c.publish(stream, 300, 400), seen, {"user_listing"});
  ::kill(c.projectors["node-b"]->pid(), SIGCONT);
  c.until_caught_up(c.both);
  // The bus node dies and comes back on its store, at the same port: both
  // projector nodes dial again over TLS and pull what they missed.
  auto old_port = c.port;
  c.bus->stop(SIGKILL);
  c.start_bus(bus_args, old_port);
  c.until_caught_up(c.both);
  check_replies(stream, 400, c.publish(stream, 400, stream.size()), seen, c.both);
  c.until_caught_up(c.both);
  c.check_models_equal_folds(stream, users);
  for (auto node : {"node-a", "node-b"})
    BOOST_TEST(c.projectors[node]->err().find("lost the bus") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(bad_tls_options_exit_2_before_anything_listens, tls_fixture) {
  certs.encrypt_key("node-a");
  auto listen = [](std::vector<std::string> tls) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0"};
    args.insert(args.end(), tls.begin(), tls.end());
    return args;
  };
  auto cert = certs.path("bus.pem"), key = certs.path("bus.key"),
       ca = certs.path("main.ca.pem");
  struct refusal {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<refusal> refusals{
    {listen({"--tls-cert", cert}), "missing --tls-key and --tls-ca"},
    {listen({"--tls-cert", cert, "--tls-key", key}), "missing --tls-ca"},
    {listen({"--tls-cert", certs.path("absent.pem"), "--tls-key", key, "--tls-ca", ca}),
     "cannot read it"},
    {listen({"--tls-cert", key, "--tls-key", key, "--tls-ca", ca}),
     "holds no PEM certificate"},
    {listen({"--tls-cert", cert, "--tls-key", cert, "--tls-ca", ca}),
     "holds no unencrypted PEM private key"},
    {listen(
       {"--tls-cert", cert, "--tls-key", certs.path("node-a.enc.key"), "--tls-ca", ca}),
     "holds no unencrypted PEM private key"},
    {listen(
       {"--tls-cert", cert, "--tls-key", certs.path("node-a.key"), "--tls-ca", ca}),
     "is not the key of the certificate"},
    {listen({"--tls-cert", cert, "--tls-key", key, "--tls-ca", key}),
     "--tls-ca " + key + ": holds no PEM certificate"},
    {certs.args("bus", "main"), "pass --listen too"},
    {{"--listen", "0.0.0.0:0", "--allow-remote"}, "--insecure"},
    {{"--listen", "127.0.0.1:0", "--peer-role", "admin"},
     "takes projector, publisher or unrestricted, not 'admin'"},
  };
  for (auto& r : refusals) {
    auto run = run_process(BUS_NODE_PATH, r.args, "", 10s);
    BOOST_TEST(run.exit_code == 2, run.err);
    BOOST_TEST(run.err.find(r.says) != std::string::npos, run.err);
    BOOST_TEST(run.err.find("listening") == std::string::npos, run.err);
  }
  auto projector = run_process(BUS_PROJECTOR_PATH,
                               {"--connect", "127.0.0.1:9", "--tls-key", key}, "", 10s);
  BOOST_TEST(projector.exit_code == 2, projector.err);
  BOOST_TEST(projector.err.find("missing --tls-cert and --tls-ca") != std::string::npos,
             projector.err);
  auto remote = run_process(BUS_PROJECTOR_PATH, {"--connect", "192.0.2.1:9"}, "", 10s);
  BOOST_TEST(remote.exit_code == 2, remote.err);
  BOOST_TEST(remote.err.find("--insecure") != std::string::npos, remote.err);
  // With TLS, an address beyond loopback is fine.
  auto args = certs.args("bus", "main");
  args.insert(args.end(), {"--listen", "0.0.0.0:0", "--allow-remote"});
  auto remote_tls = run_process(BUS_NODE_PATH, args, "", 10s);
  BOOST_TEST(remote_tls.exit_code == 0, remote_tls.err);
  BOOST_TEST(remote_tls.err.find("listening on 0.0.0.0:") != std::string::npos,
             remote_tls.err);
}

// A certificate out of its dates is refused at start, named: otherwise
// peers fail its handshakes with errors that do not say why.
BOOST_FIXTURE_TEST_CASE(certificates_out_of_their_dates_exit_2_naming_them,
                        tls_fixture) {
  certs.make_node_valid("expired", "main", "20200101000000Z", "20200102000000Z");
  certs.make_node_valid("early", "main", "20990101000000Z", "20991231000000Z");
  certs.make_ca_valid("old", "20200101000000Z", "20200102000000Z");
  auto listen = [](std::vector<std::string> tls) {
    tls.insert(tls.end(), {"--listen", "127.0.0.1:0"});
    return tls;
  };
  struct refusal {
    std::string program;
    std::vector<std::string> args;
    std::string says;
  };
  auto expired = "--tls-cert " + certs.path("expired.pem")
                 + ": the certificate expired on 2020-01-02 00:00:00 UTC";
  std::vector<refusal> refusals{
    {BUS_NODE_PATH, listen(certs.args("expired", "main")), expired},
    {BUS_NODE_PATH, listen(certs.args("early", "main")),
     "--tls-cert " + certs.path("early.pem")
       + ": the certificate is not valid before 2099-01-01 00:00:00 UTC"},
    {BUS_NODE_PATH, listen(certs.args("bus", "old")),
     "--tls-ca " + certs.path("old.ca.pem")
       + ": holds no certificate valid now (its last one expired on 2020-01-02 "
         "00:00:00 UTC)"},
    {BUS_PROJECTOR_PATH,
     [&] {
       auto args = certs.args("expired", "main");
       args.insert(args.end(), {"--connect", "127.0.0.1:9"});
       return args;
     }(),
     expired},
  };
  for (auto& r : refusals) {
    auto run = run_process(r.program, r.args, "", 10s);
    BOOST_TEST(run.exit_code == 2, run.err);
    BOOST_TEST(run.err.find(r.says) != std::string::npos, run.err);
    BOOST_TEST(run.err.find("listening") == std::string::npos, run.err);
    BOOST_TEST(run.err.find("connecting") == std::string::npos, run.err);
  }
}

// A certificate about to expire still starts the node, with a warning that
// names it and says when: renewing it then is routine, not an outage.
BOOST_FIXTURE_TEST_CASE(a_certificate_expiring_within_14_days_is_warned_about,
                        tls_fixture) {
  certs.make_node_valid("short", "main", utc_from_now(std::chrono::hours{-24}),
                        utc_from_now(std::chrono::hours{24 * 5}));
  auto with_listen = [](std::vector<std::string> tls) {
    tls.insert(tls.end(), {"--listen", "127.0.0.1:0"});
    return tls;
  };
  auto run = run_process(BUS_NODE_PATH, with_listen(certs.args("short", "main")), "",
                         20s);
  BOOST_TEST(run.exit_code == 0, run.err);
  auto says = "--tls-cert " + certs.path("short.pem") + ": the certificate expires on ";
  BOOST_TEST(run.err.find(says) != std::string::npos, run.err);
  // Five days from now, less the seconds the test took.
  BOOST_TEST((run.err.find("(in 4 days") != std::string::npos
              || run.err.find("(in 5 days") != std::string::npos),
             run.err);
  BOOST_TEST(run.err.find("WARN ") != std::string::npos, run.err);
  // One valid for long starts without it.
  auto quiet = run_process(BUS_NODE_PATH, with_listen(certs.args("bus", "main")), "",
                           20s);
  BOOST_TEST(quiet.exit_code == 0, quiet.err);
  BOOST_TEST(quiet.err.find("expires on") == std::string::npos, quiet.err);
}

// The CA expiring stops the cluster as surely as the node's own certificate:
// from then on no peer's certificate verifies against it. Warned of alike.
BOOST_FIXTURE_TEST_CASE(a_ca_expiring_within_14_days_is_warned_about, tls_fixture) {
  certs.make_ca_valid("short", utc_from_now(std::chrono::hours{-24}),
                      utc_from_now(std::chrono::hours{24 * 5}));
  certs.make_node("signed-short", "short");
  auto args = certs.args("signed-short", "short");
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  auto run = run_process(BUS_NODE_PATH, args, "", 20s);
  BOOST_TEST(run.exit_code == 0, run.err);
  auto says = "--tls-ca " + certs.path("short.ca.pem") + ": the CA certificate '";
  BOOST_TEST(run.err.find(says) != std::string::npos, run.err);
  BOOST_TEST(run.err.find("expires on ") != std::string::npos, run.err);
  // Five days from now, less the seconds the test took.
  BOOST_TEST((run.err.find("(in 4 days") != std::string::npos
              || run.err.find("(in 5 days") != std::string::npos),
             run.err);
  BOOST_TEST(run.err.find("WARN ") != std::string::npos, run.err);
  // The fixture's CA, valid for long, starts without it (the other case
  // checks the same of a node's certificate).
  auto quiet_args = certs.args("bus", "main");
  quiet_args.insert(quiet_args.end(), {"--listen", "127.0.0.1:0"});
  auto quiet = run_process(BUS_NODE_PATH, quiet_args, "", 20s);
  BOOST_TEST(quiet.exit_code == 0, quiet.err);
  BOOST_TEST(quiet.err.find("expires on") == std::string::npos, quiet.err);
}

BOOST_AUTO_TEST_SUITE_END()
