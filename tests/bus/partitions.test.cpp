#include "bus/partitions.hpp"

#include "bus/config.hpp"
#include "bus/document_model.hpp"
#include "bus/errc.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace bus;

namespace {

event keyed(std::string id, std::string key) {
  event e;
  e.id = std::move(id);
  e.type = "UserCreated";
  e.payload = {{"id", key}, {"name", "n-" + key}};
  return e;
}

read_model_ptr users() {
  document_model_config cfg;
  cfg.name = "users";
  cfg.key = "id";
  cfg.upsert_on = {"UserCreated"};
  return std::make_unique<document_model>(cfg);
}

} // namespace

BOOST_AUTO_TEST_SUITE(partitions)

BOOST_AUTO_TEST_CASE(the_hash_is_fnv1a_and_fixed) {
  // Partitions on disk and nodes that share a model depend on these values
  // for ever: FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c, of "foobar"
  // 0x85944171f73967e8, of "" its offset basis 0xcbf29ce484222325.
  BOOST_TEST(partition_of("a", 1000) == 996u);
  BOOST_TEST(partition_of("foobar", 7) == 6u);
  BOOST_TEST(partition_of("", 10) == 7u);
  BOOST_TEST(partition_of("anything", 1) == 0u);
  BOOST_TEST(partition_of("anything", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(keys_spread_over_every_partition) {
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 1000; ++i)
    ++counts[partition_of("user-" + std::to_string(i), 4)];
  for (auto n : counts)
    BOOST_TEST((n > 200 && n < 300));
}

BOOST_AUTO_TEST_CASE(names_split_only_at_a_decimal_suffix) {
  BOOST_TEST(partition_name("orders", 3) == "orders#3");
  auto ref = split_partition_name("orders#12");
  BOOST_REQUIRE(ref);
  BOOST_TEST(ref->model == "orders");
  BOOST_TEST(ref->index == 12u);
  for (auto name : {"orders", "orders#", "#3", "orders#03", "orders#x", "orders#3x",
                    "orders#-1", "orders#99999999999"})
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(!split_partition_name(name));
    }
  BOOST_TEST(model_of("orders#2") == "orders");
  BOOST_TEST(model_of("orders~shadow") == "orders~shadow");
}

BOOST_AUTO_TEST_CASE(a_partition_applies_only_the_events_of_its_keys) {
  std::vector<read_model_ptr> parts;
  for (std::uint32_t i = 0; i < 3; ++i)
    parts.push_back(make_partition(users(), i, 3));
  auto whole = users();
  for (int i = 0; i < 60; ++i) {
    auto e = keyed("e" + std::to_string(i), "u" + std::to_string(i % 20));
    whole->apply(e);
    int took = 0;
    for (auto& p : parts)
      took += p->apply(e) ? 1 : 0;
    BOOST_TEST(took == 1);
  }
  for (int k = 0; k < 20; ++k) {
    auto key = "u" + std::to_string(k);
    auto home = partition_of(key, 3);
    for (std::uint32_t i = 0; i < 3; ++i)
      BOOST_TEST(parts[i]->query(key).has_value() == (i == home));
    BOOST_TEST(*parts[home]->query(key) == *whole->query(key));
  }
  BOOST_TEST(parts[1]->name() == "users#1");
  BOOST_TEST(parts[1]->event_types() == whole->event_types());
}

BOOST_AUTO_TEST_CASE(an_event_without_a_key_goes_to_partition_zero) {
  // A document model ignores it anyway; partition 0 is where the
  // partitioned model decides so, as the whole model would.
  auto e = keyed("e1", "x");
  e.payload.erase("id");
  auto home = partition_of("", 2);
  auto p = make_partition(users(), home, 2);
  auto other = make_partition(users(), 1 - home, 2);
  BOOST_TEST(!other->apply(e)); // not its event
  BOOST_TEST(!p->apply(e));     // its own, and the model ignores it
}

BOOST_AUTO_TEST_CASE(the_definition_names_the_partitioning) {
  // A snapshot or table written under 2 partitions must not be restored
  // under 4: the keys would sit in the wrong partitions.
  auto a = make_partition(users(), 1, 2)->definition();
  auto b = make_partition(users(), 1, 4)->definition();
  auto c = make_partition(users(), 0, 2)->definition();
  BOOST_TEST(a != b);
  BOOST_TEST(a != c);
  BOOST_TEST(a.find(users()->definition()) == 0u);
}

BOOST_AUTO_TEST_CASE(specs_expand_to_one_per_partition) {
  model_spec spec{"users", users};
  spec.partitions = 3;
  auto parts = partition_specs(spec);
  BOOST_REQUIRE(parts.size() == 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    BOOST_TEST(parts[i].name == partition_name("users", i));
    BOOST_TEST(parts[i].partitions == 1u);
    BOOST_TEST(parts[i].make()->name() == parts[i].name);
  }
  spec.partitions = 1;
  BOOST_TEST(partition_specs(spec).size() == 1u);
  BOOST_TEST(partition_specs(spec)[0].name == "users");
}

BOOST_AUTO_TEST_CASE(the_config_takes_partitions_for_document_models) {
  auto cfg = parse_config(std::string_view{R"({"read_models": [
    {"name": "users", "kind": "document", "key": "id", "upsert_on": ["A"],
     "partitions": 4}]})"});
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->read_models.at(0).partitions == 4u);
}

BOOST_AUTO_TEST_CASE(the_config_rejects_bad_partitionings_with_their_path) {
  auto rejected = [](std::string_view text, const std::string& where) {
    auto cfg = parse_config(text);
    BOOST_TEST_CONTEXT(text) {
      BOOST_REQUIRE(!cfg);
      BOOST_TEST(code_of(cfg.error()) == errc::invalid_config);
      BOOST_TEST(context_of(cfg.error()).find(where) == 0u);
    }
  };
  rejected(R"({"read_models": [{"name": "u", "kind": "document", "key": "id",
              "upsert_on": ["A"], "partitions": 0}]})",
           "read_models[0].partitions: expected an integer >= 1");
  rejected(R"({"read_models": [{"name": "u", "kind": "document", "key": "id",
              "upsert_on": ["A"], "partitions": 1025}]})",
           "read_models[0].partitions: expected at most 1024");
  rejected(R"({"read_models": [{"name": "u", "kind": "document", "key": "id",
              "upsert_on": ["A"], "partitions": "2"}]})",
           "read_models[0].partitions");
  rejected(R"({"read_models": [{"name": "by_email", "kind": "index", "key": "email",
              "target": "id", "set_on": ["A"], "partitions": 2}]})",
           "read_models[0].partitions: an index model cannot be partitioned");
  rejected(R"({"read_models": [{"name": "u#1", "kind": "document", "key": "id",
              "upsert_on": ["A"]}]})",
           "read_models[0].name: expected a name without '#'");
}

BOOST_AUTO_TEST_SUITE_END()
