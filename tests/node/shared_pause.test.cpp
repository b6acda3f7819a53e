// A pause of a model shared by projector nodes (competing consumers) moves
// with its partitions: a partition that moves to another node while the
// model is paused replays up to the point it froze at and holds there, and
// a node that comes back takes the pause (or the resume) the model has now,
// whatever it kept itself; a bus node restarted on its store keeps the
// pauses, and a pause its store cannot keep is not acknowledged. Real
// processes, driven through the bus node; every wait polls under a hard
// deadline.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "consumer_group_checks.hpp"
#include "support/sqlite_scratch.hpp"

using namespace bus::node::test;

namespace {

constexpr std::size_t pause_users = 150;

// Starts projector node `name` sharing `config`; with `stores`, on its own
// store there (the same one when it comes back).
void start_node(cluster& c, const std::string& name, const std::string& config,
                const scratch_dir* stores) {
  std::vector<std::string> extra;
  if (stores != nullptr)
    extra = {"--store", (stores->path / (name + ".db")).string()};
  c.start_projector(name, config, extra);
  c.projectors[name]->wait_for_err("attached to the bus");
}

void start_nodes(cluster& c, const std::string& config, const scratch_dir* stores) {
  c.start_bus();
  for (auto name : {"node-a", "node-b", "node-c"})
    start_node(c, name, config, stores);
  until_settled(c);
}

std::uint64_t head_of(cluster& c) {
  std::uint64_t head = 0;
  c.models(head);
  return head;
}

void pause_model(cluster& c) {
  auto r = c.call(R"("type": "pause", "model": "user_listing")");
  BOOST_REQUIRE_MESSAGE(r.text("type") == "paused", r.line);
}

void resume_model(cluster& c) {
  auto r = c.call(R"("type": "resume", "model": "user_listing")");
  BOOST_REQUIRE_MESSAGE(r.text("type") == "resumed", r.line);
}

std::vector<user_event> prefix(const std::vector<user_event>& stream, std::size_t n) {
  return {stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n)};
}

// Publishes the first 1000 events of `stream`, pauses the model once every
// partition applied them, then publishes the next 1000, which no partition
// may apply until resumed. Returns the head the partitions froze at.
std::uint64_t pause_between(cluster& c, const std::vector<user_event>& stream) {
  c.publish(stream, 0, 1000);
  until_settled(c);
  pause_model(c);
  auto frozen = head_of(c);
  until_paused_at(c, frozen);
  c.publish(stream, 1000, 2000);
  return frozen;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shared_pause_distributed)

BOOST_AUTO_TEST_CASE(moved_partitions_stay_paused_until_resumed) {
  auto stream = make_stream(3000, pause_users, 10);
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  cluster c;
  start_nodes(c, config, nullptr);
  auto frozen = pause_between(c, stream);
  // node-b is lost: its partitions move to node-a and node-c, which replay
  // them up to the point they froze at, and hold there.
  c.projectors["node-b"]->stop(SIGKILL);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(prefix(stream, 1000), pause_users);
  // It comes back (without a store: from seq 1) and takes some of them
  // back, paused at the same point.
  start_node(c, "node-b", config, nullptr);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(prefix(stream, 1000), pause_users);
  resume_model(c);
  until_settled(c);
  c.check_listing_equals_fold(prefix(stream, 2000), pause_users);
  applied_once_each(c);
  c.publish(stream, 2000, 3000);
  until_settled(c);
  c.check_listing_equals_fold(stream, pause_users);
  applied_once_each(c);
}

BOOST_AUTO_TEST_CASE(a_node_with_a_store_takes_the_pause_the_model_has_now) {
  auto stream = make_stream(3000, pause_users, 10);
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  cluster c;
  start_nodes(c, config, &dir);
  c.publish(stream, 0, 1000);
  until_settled(c);
  // Paused, then resumed while node-b is down: node-b's store still says
  // paused, but the model runs, and so do the partitions it gets back.
  pause_model(c);
  until_paused_at(c, head_of(c));
  c.projectors["node-b"]->stop(SIGKILL);
  resume_model(c);
  until_settled(c);
  c.publish(stream, 1000, 2000);
  until_settled(c);
  start_node(c, "node-b", config, &dir);
  until_settled(c);
  c.check_listing_equals_fold(prefix(stream, 2000), pause_users);
  // Paused while node-c is down: node-c's store says running, but the
  // partitions it gets back hold at the point they froze at.
  c.projectors["node-c"]->stop(SIGKILL);
  until_settled(c);
  pause_model(c);
  auto frozen = head_of(c);
  until_paused_at(c, frozen);
  c.publish(stream, 2000, 3000);
  start_node(c, "node-c", config, &dir);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(prefix(stream, 2000), pause_users);
  resume_model(c);
  until_settled(c);
  c.check_listing_equals_fold(stream, pause_users);
}

BOOST_AUTO_TEST_CASE(a_bus_restarted_on_its_store_keeps_the_pauses) {
  auto stream = make_stream(3000, pause_users, 10);
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  std::vector<std::string> bus_store{"--store", dir.store()};
  cluster c;
  c.start_bus(bus_store);
  for (auto name : {"node-a", "node-b", "node-c"})
    start_node(c, name, config, nullptr);
  until_settled(c);
  auto frozen = pause_between(c, stream);
  auto head = head_of(c);
  // node-b and the bus node are lost; the bus node comes back on its store
  // (same port) while node-b stays away: node-a and node-c reattach and
  // take node-b's partitions, which must hold at the point they froze at
  // (they replay from seq 1: the nodes have no store), as the bus node
  // kept their pauses.
  c.projectors["node-b"]->stop(SIGKILL);
  c.bus->stop(SIGKILL);
  c.start_bus(bus_store, c.port);
  // The restarted bus knows the model once a node attaches it again.
  for (auto name : {"node-a", "node-c"})
    c.projectors[name]->wait_for_err("attached to the bus (head seq "
                                     + std::to_string(head) + ")");
  check_frozen_or_unavailable(c, prefix(stream, 1000), pause_users);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(prefix(stream, 1000), pause_users);
  // node-b returns: the partitions it gets back hold there too.
  start_node(c, "node-b", config, nullptr);
  until_paused_at(c, frozen);
  c.check_listing_equals_fold(prefix(stream, 1000), pause_users);
  resume_model(c);
  until_settled(c);
  c.check_listing_equals_fold(prefix(stream, 2000), pause_users);
  applied_once_each(c);
}

// The bus node keeps the pauses of a shared model's partitions in its store
// (above) before the nodes answer: one its store cannot keep (a full disk;
// here a trigger refuses the writes as one would) holds on the nodes that
// run the partitions now, but a restarted bus node would not send it with
// their next assignment. The operator gets error 14, which says so, never
// `paused`; once the store writes again, the same pause is kept.
BOOST_AUTO_TEST_CASE(a_pause_the_bus_cannot_keep_is_error_14_not_an_acknowledgement) {
  scratch_dir dir;
  auto config = dir.write("shared.json", shared_listing);
  cluster c;
  c.start_bus({"--store", dir.store()}); // has made its tables once listening
  auto pauses = dir.store() + ".lifecycle";
  bus::test::exec_sql(pauses,
                      "CREATE TRIGGER full_disk BEFORE INSERT ON partition_intents "
                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  start_node(c, "node-a", config, nullptr);
  auto r = c.call(R"("type": "pause", "model": "user_listing")");
  BOOST_TEST(r.text("type") == "error", r.line);
  BOOST_TEST(r.json("code") == "14", r.line);
  BOOST_TEST(r.text("text").find("paused on its node but not kept by the bus")
               != std::string::npos,
             r.line);
  BOOST_TEST(r.text("text").find("database or disk is full") != std::string::npos,
             r.line);
  bus::test::exec_sql(pauses, "DROP TRIGGER full_disk");
  pause_model(c);
  resume_model(c);
}

BOOST_AUTO_TEST_SUITE_END()
