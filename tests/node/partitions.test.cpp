// bus-node with a partitioned read model ("partitions": N): crashes and a
// change of the partition count on the same store, against folds of the
// log.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "node_protocol.hpp"
#include "user_stream.hpp"

using namespace bus::node::test;

namespace {

// The shipped models, user_listing as `partitions` shards kept as
// `storage`.
std::string config_text(int partitions, const std::string& storage) {
  return R"({"read_models": [
  {"name": "user_listing", "kind": "document", "key": "id", "storage": ")"
         + storage + R"(", "partitions": )" + std::to_string(partitions) + R"(,
   "merge_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]},
  {"name": "user_by_email", "kind": "index", "key": "email", "target": "id",
   "set_on": ["UserCreated", "UserUpdated"], "delete_on": ["UserDeleted"]}]})";
}

} // namespace

BOOST_AUTO_TEST_SUITE(partitions)

BOOST_AUTO_TEST_CASE(sigkill_mid_stream_leaves_every_partition_equal_to_the_fold) {
  scratch_dir dir;
  auto config = dir.write("node.json", config_text(3, "sqlite"));
  constexpr std::size_t users = 200;
  auto stream = make_stream(5000, users, 10);
  auto emails = some_emails(stream, 200);
  auto input = requests(stream, users) + email_queries(emails)
               + request(R"({"type": "status", "msg_id": 3000000})");
  std::vector<std::string> args{"--config", config, "--store", dir.store()};
  auto acknowledged = crash_repeatedly(args, input, stream, {600u, 3100u});
  BOOST_TEST(acknowledged.size() > 100u);
  auto final_run = replies_to(input, args);
  BOOST_REQUIRE_EQUAL(final_run.size(), stream.size() + users + emails.size() + 1);
  // An event a model applied names the model, never a partition.
  for (std::size_t i = 0; i < stream.size(); ++i)
    BOOST_TEST(final_run[i].line.find("user_listing#") == std::string::npos);
  auto status = final_run.back();
  final_run.pop_back();
  check_queries(final_run, stream.size(), stream, users, emails);
  // Queries answer under the model's name.
  BOOST_TEST(final_run[stream.size()].text("model") == "user_listing");
  // Status shows each partition, each caught up.
  auto& models = status.body.at("read_models").as_array();
  std::vector<std::string> names;
  for (auto& m : models) {
    names.emplace_back(m.at("model").as_string());
    BOOST_TEST(m.at("state") == "running", status.line);
  }
  BOOST_TEST(names
               == (std::vector<std::string>{"user_listing#0", "user_listing#1",
                                            "user_listing#2", "user_by_email"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_new_partition_count_rebuilds_from_the_log) {
  // Snapshots taken under 2 partitions hold the wrong keys for 3: the new
  // partitions must not restore them.
  scratch_dir dir;
  constexpr std::size_t users = 120;
  // Few events after the change: most users' documents must come from the
  // log, none of them may come from a partition that held other keys.
  auto stream = make_stream(2100, users, 0);
  std::vector<user_event> first_part(stream.begin(), stream.begin() + 2000);
  auto two = dir.write("two.json", config_text(2, "memory"));
  auto three = dir.write("three.json", config_text(3, "memory"));
  auto first = replies_to(requests(first_part, users),
                          {"--config", two, "--store", dir.store(), "--snapshot-every",
                           "100"});
  BOOST_REQUIRE_EQUAL(first.size(), 2000u + users);
  auto emails = some_emails(stream, 50);
  auto second = replies_to(requests(stream, users) + email_queries(emails),
                           {"--config", three, "--store", dir.store(),
                            "--snapshot-every", "100"});
  BOOST_REQUIRE_EQUAL(second.size(), stream.size() + users + emails.size());
  for (std::size_t i = 0; i < 2000; ++i)
    BOOST_TEST(second[i].text("type") == "event_skipped");
  check_queries(second, stream.size(), stream, users, emails);
}

BOOST_AUTO_TEST_CASE(await_models_waits_for_every_partition_of_a_model) {
  // --await-models names the model; status shows its partitions.
  scratch_dir dir;
  auto config = dir.write("node.json", config_text(2, "memory"));
  constexpr std::size_t users = 10;
  auto stream = make_stream(50, users, 0);
  auto result = run_process(BUS_NODE_PATH,
                            {"--config", config, "--await-models",
                             "user_listing,user_by_email", "--startup-timeout", "3"},
                            requests(stream, users), std::chrono::seconds{30});
  BOOST_TEST(result.exit_code == 0, result.err);
  BOOST_TEST(replies_of(result).size() == stream.size() + users);
}

BOOST_AUTO_TEST_CASE(an_index_model_with_partitions_is_a_config_error) {
  scratch_dir dir;
  auto config = dir.write("bad.json", R"({"read_models": [
    {"name": "by_email", "kind": "index", "key": "email", "target": "id",
     "set_on": ["UserCreated"], "partitions": 2}]})");
  auto result = run_process(BUS_NODE_PATH, {"--config", config}, "",
                            std::chrono::seconds{30});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("read_models[0].partitions: an index model cannot be "
                             "partitioned")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
