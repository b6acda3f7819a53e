#include "bus/config.hpp"

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

using namespace bus;
using namespace std::literals;

namespace {

caf::expected<bus_config> parse(std::string_view text) {
  return parse_config(text);
}

event user_created(std::string_view payload_text) {
  event e;
  e.id = "evt-123";
  e.type = "UserCreated";
  e.payload = boost::json::parse(payload_text).as_object();
  return e;
}

/// Checks that `text` is rejected as invalid_config with a context that
/// starts with `where` (the path of the offending field) and a colon.
void check_rejected(std::string_view text, const std::string& where) {
  BOOST_TEST_CONTEXT("config " << text) {
    auto result = parse(text);
    BOOST_REQUIRE(!result);
    BOOST_TEST(code_of(result.error()) == errc::invalid_config);
    auto context = context_of(result.error());
    BOOST_TEST_INFO("context: " << context);
    BOOST_TEST(context.compare(0, where.size() + 1, where + ":") == 0);
  }
}

// A valid model entry, to build bad documents around.
constexpr auto listing_model = R"({"name": "listing", "kind": "document",
                             "key": "id", "merge_on": ["A"]})";

template <class T>
std::string why(const caf::expected<T>& x) {
  return x ? std::string{} : context_of(x.error());
}

std::string with_models(std::string_view models, std::string_view rest = "") {
  std::string text = R"({"read_models": [)";
  text += models;
  text += "]";
  if (!rest.empty()) {
    text += ", ";
    text += rest;
  }
  text += "}";
  return text;
}

/// A file that is removed when the test ends.
struct temp_file {
  std::string path;

  explicit temp_file(std::string_view contents) {
    std::string name = "bus-config-test-";
    name += std::to_string(::getpid());
    name += ".json";
    path = (std::filesystem::temp_directory_path() / name).string();
    std::ofstream out{path};
    out << contents;
  }

  ~temp_file() { std::remove(path.c_str()); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(default_config_yields_the_two_user_models_in_order) {
  auto cfg = parse(default_config_text());
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_REQUIRE(cfg->read_models.size() == 2u);
  BOOST_TEST(cfg->read_models[0].name == "user_listing");
  BOOST_TEST(cfg->read_models[1].name == "user_by_email");
  auto listing = cfg->read_models[0].make();
  auto by_email = cfg->read_models[1].make();
  BOOST_REQUIRE(listing != nullptr);
  BOOST_REQUIRE(by_email != nullptr);
  BOOST_TEST(listing->name() == "user_listing");
  BOOST_TEST(by_email->name() == "user_by_email");
  BOOST_TEST(dynamic_cast<bus::document_model*>(listing.get()) != nullptr);
  BOOST_TEST(dynamic_cast<bus::index_model*>(by_email.get()) != nullptr);
  const std::vector<std::string> user_types{"UserCreated", "UserUpdated",
                                            "UserDeleted"};
  BOOST_TEST(listing->event_types() == user_types);
  BOOST_TEST(by_email->event_types() == user_types);
}

BOOST_AUTO_TEST_CASE(default_config_has_the_documented_limits) {
  auto cfg = parse(default_config_text());
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->supervision.initial_backoff.count() == 100);
  BOOST_TEST(cfg->supervision.max_backoff.count() == 5000);
  BOOST_TEST(cfg->supervision.max_restarts == 5u);
  BOOST_TEST(cfg->supervision.restart_window.count() == 60000);
  BOOST_TEST(cfg->supervision.cooldown.count() == 60000);
  BOOST_TEST(cfg->supervision.max_cooldown.count() == 3600000);
  BOOST_TEST(cfg->supervision.status_timeout.count() == 1000);
  BOOST_TEST(cfg->supervision.stall_after.count() == 30000);
  BOOST_TEST(cfg->node.max_line_bytes == 1048576u);
  BOOST_TEST(cfg->node.batch_size == 1024u);
}

BOOST_AUTO_TEST_CASE(seed_user_created_is_applied_by_both_default_models) {
  auto cfg = parse(default_config_text());
  BOOST_REQUIRE(cfg);
  BOOST_REQUIRE(cfg->read_models.size() == 2u);
  auto listing = cfg->read_models[0].make();
  auto by_email = cfg->read_models[1].make();
  auto seed = user_created(R"({"id": "user-123", "name": "John"})");
  BOOST_TEST(listing->apply(seed));
  BOOST_TEST(by_email->apply(seed));
  auto doc = listing->query("user-123");
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(*doc == boost::json::parse(R"({"id": "user-123", "name": "John"})"));
  // No email in the seed, so nothing to index yet.
  BOOST_TEST(by_email->snapshot() == boost::json::parse("{}"));
}

BOOST_AUTO_TEST_CASE(default_user_by_email_indexes_email_to_id) {
  auto cfg = parse(default_config_text());
  BOOST_REQUIRE(cfg);
  auto by_email = cfg->read_models.at(1).make();
  BOOST_TEST(by_email->apply(user_created(R"({"id": "user-1", "email": "a@x.org"})")));
  BOOST_TEST(by_email->snapshot() == boost::json::parse(R"({"a@x.org": "user-1"})"));
}

BOOST_AUTO_TEST_CASE(factory_makes_a_fresh_model_every_time) {
  auto cfg = parse(default_config_text());
  BOOST_REQUIRE(cfg);
  auto& spec = cfg->read_models.at(0);
  auto first = spec.make();
  first->apply(user_created(R"({"id": "user-1"})"));
  auto second = spec.make();
  BOOST_TEST(second->snapshot() == boost::json::parse("{}"));
  BOOST_TEST(first->snapshot() != second->snapshot());
}

BOOST_AUTO_TEST_CASE(parse_of_a_json_value_matches_parse_of_text) {
  auto doc = boost::json::parse(default_config_text());
  auto cfg = parse_config(doc);
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->read_models.size() == 2u);
}

BOOST_AUTO_TEST_CASE(omitted_sections_keep_their_defaults) {
  auto cfg = parse(with_models(listing_model, R"("supervision": {"max_restarts": 9})"));
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_TEST(cfg->supervision.max_restarts == 9u);
  BOOST_TEST(cfg->supervision.initial_backoff.count() == 100);
  BOOST_TEST(cfg->supervision.max_backoff.count() == 5000);
  BOOST_TEST(cfg->supervision.restart_window.count() == 60000);
  BOOST_TEST(cfg->node.max_line_bytes == std::size_t{1} << 20);
  BOOST_TEST(cfg->node.batch_size == 1024u);
}

BOOST_AUTO_TEST_CASE(all_settings_are_read) {
  auto cfg = parse(with_models(
    R"({"name": "byname", "kind": "index", "key": "user.name",
        "target": "user.id", "set_on": ["A"], "delete_on": ["B"]})",
    R"("supervision": {"initial_backoff_ms": 1, "max_backoff_ms": 2,
                       "max_restarts": 0, "restart_window_ms": 3,
                       "cooldown_ms": 0, "max_cooldown_ms": 4,
                       "status_timeout_ms": 5, "stall_after_ms": 6},
       "node": {"max_line_bytes": 64, "batch_size": 1})"));
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_TEST(cfg->supervision.initial_backoff.count() == 1);
  BOOST_TEST(cfg->supervision.max_backoff.count() == 2);
  BOOST_TEST(cfg->supervision.max_restarts == 0u);
  BOOST_TEST(cfg->supervision.restart_window.count() == 3);
  BOOST_TEST(cfg->supervision.cooldown.count() == 0);
  BOOST_TEST(cfg->supervision.max_cooldown.count() == 4);
  BOOST_TEST(cfg->supervision.status_timeout.count() == 5);
  BOOST_TEST(cfg->supervision.stall_after.count() == 6);
  BOOST_TEST(cfg->node.max_line_bytes == 64u);
  BOOST_TEST(cfg->node.batch_size == 1u);
  auto m = cfg->read_models.at(0).make();
  BOOST_TEST((m->event_types() == std::vector<std::string>{"A", "B"}));
  event e;
  e.type = "A";
  e.payload
    = boost::json::parse(R"({"user": {"id": "u1", "name": "ann"}})").as_object();
  BOOST_TEST(m->apply(e));
  BOOST_TEST(m->snapshot() == boost::json::parse(R"({"ann": "u1"})"));
}

BOOST_AUTO_TEST_CASE(empty_model_list_is_valid) {
  auto cfg = parse(R"({"read_models": []})");
  BOOST_REQUIRE(cfg);
  BOOST_TEST(cfg->read_models.empty());
}

BOOST_AUTO_TEST_CASE(text_that_is_not_json_is_rejected) {
  check_rejected(R"({"read_models": [)", "not JSON");
  check_rejected("", "not JSON");
  check_rejected("read_models", "not JSON");
}

BOOST_AUTO_TEST_CASE(json_syntax_error_names_its_line_and_column) {
  // The second comma of "2,,3" on line 3 is the error.
  check_rejected("{\n  \"read_models\": [1,\n  2,,3]}", "not JSON: line 3, column 5");
  check_rejected("{\"read_models\": []} x", "not JSON: line 1, column 21");
  // Text that stops early: the position is its end.
  check_rejected("{\n\"read_models\": [", "not JSON: line 2, column 17");
}

BOOST_AUTO_TEST_CASE(load_config_reports_a_syntax_error_with_file_line_and_column) {
  auto path = std::filesystem::temp_directory_path()
              / ("bus-config-syntax-" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out{path};
    out
      << "{\n  \"read_models\": [\n    {\"name\": \"m\" \"kind\": \"document\"}\n  ]\n}\n";
  }
  auto result = bus::load_config(path.string());
  std::filesystem::remove(path);
  BOOST_REQUIRE(!result);
  auto text = context_of(result.error());
  BOOST_TEST(text.find(path.string() + ": not JSON") != std::string::npos, text);
  BOOST_TEST(text.find("line 3, column 18") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(document_that_is_not_an_object_is_rejected) {
  for (auto text : {"[]"sv, "42"sv, "null"sv, R"("read_models")"sv}) {
    auto result = parse(text);
    BOOST_REQUIRE(!result);
    BOOST_TEST(code_of(result.error()) == errc::invalid_config);
    BOOST_TEST(context_of(result.error()).find("expected an object")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key_is_rejected) {
  check_rejected(with_models(listing_model, R"("read_model": [])"), "read_model");
  check_rejected(with_models(listing_model, R"("supervison": {})"), "supervison");
}

BOOST_AUTO_TEST_CASE(missing_read_models_is_rejected) {
  check_rejected("{}", "read_models");
  check_rejected(R"({"supervision": {}})", "read_models");
}

BOOST_AUTO_TEST_CASE(unknown_model_key_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "merge": ["B"]})"),
                 "read_models[0].merge");
  // A key of the other kind is unknown too.
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "target": "id"})"),
                 "read_models[0].target");
}

BOOST_AUTO_TEST_CASE(unknown_key_in_a_later_model_names_its_index) {
  std::string models = listing_model;
  models += R"(, {"name": "idx", "kind": "index", "key": "email",
                  "target": "id", "set_on": ["A"], "merge_on": ["A"]})";
  check_rejected(with_models(models), "read_models[1].merge_on");
}

BOOST_AUTO_TEST_CASE(unknown_supervision_or_node_key_is_rejected) {
  check_rejected(with_models(listing_model, R"("supervision": {"max_restart": 1})"),
                 "supervision.max_restart");
  check_rejected(with_models(listing_model, R"("node": {"batch": 1})"), "node.batch");
}

BOOST_AUTO_TEST_CASE(missing_or_empty_name_is_rejected) {
  check_rejected(with_models(R"({"kind": "document", "key": "id",
                                 "merge_on": ["A"]})"),
                 "read_models[0].name");
  check_rejected(with_models(R"({"name": "", "kind": "document", "key": "id",
                                 "merge_on": ["A"]})"),
                 "read_models[0].name");
}

BOOST_AUTO_TEST_CASE(missing_or_bad_kind_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "key": "id", "merge_on": ["A"]})"),
                 "read_models[0].kind");
  check_rejected(with_models(R"({"name": "m", "kind": "table", "key": "id",
                                 "merge_on": ["A"]})"),
                 "read_models[0].kind");
  check_rejected(with_models(R"({"name": "m", "kind": 1, "key": "id",
                                 "merge_on": ["A"]})"),
                 "read_models[0].kind");
}

BOOST_AUTO_TEST_CASE(duplicate_model_name_is_rejected) {
  std::string models = listing_model;
  models += ", ";
  models += R"({"name": "listing", "kind": "index", "key": "email",
                "target": "id", "set_on": ["A"]})";
  check_rejected(with_models(models), "read_models[1].name");
}

BOOST_AUTO_TEST_CASE(negative_numbers_are_rejected) {
  check_rejected(with_models(listing_model, R"("supervision": {"max_restarts": -1})"),
                 "supervision.max_restarts");
  check_rejected(with_models(listing_model,
                             R"("supervision": {"initial_backoff_ms": -5})"),
                 "supervision.initial_backoff_ms");
  check_rejected(with_models(listing_model,
                             R"("supervision": {"restart_window_ms": -1})"),
                 "supervision.restart_window_ms");
}

BOOST_AUTO_TEST_CASE(numbers_below_their_minimum_are_rejected) {
  // Status must not wait forever for a stuck model.
  check_rejected(with_models(listing_model,
                             R"("supervision": {"status_timeout_ms": 0})"),
                 "supervision.status_timeout_ms");
  check_rejected(with_models(listing_model, R"("supervision": {"cooldown_ms": -1})"),
                 "supervision.cooldown_ms");
  check_rejected(with_models(listing_model, R"("node": {"batch_size": 0})"),
                 "node.batch_size");
  check_rejected(with_models(listing_model, R"("node": {"max_line_bytes": 63})"),
                 "node.max_line_bytes");
}

// The node's limits take the ranges of bus-node's flags: --max-line-bytes
// 64 bytes to 1 GiB, --batch-size 1 to 1048576 events (a larger batch
// holds more of the input before any of it is published).
BOOST_AUTO_TEST_CASE(node_limits_take_what_the_flags_take) {
  struct limit {
    std::string key;
    std::size_t min;
    std::size_t max;
    std::size_t node_limits::*field;
  };
  for (auto& x :
       {limit{"max_line_bytes", 64, std::size_t{1} << 30, &node_limits::max_line_bytes},
        limit{"batch_size", 1, std::size_t{1} << 20, &node_limits::batch_size}}) {
    auto with = [&](std::size_t n) {
      return parse_config(with_models(listing_model, R"("node": {")" + x.key + "\": "
                                                       + std::to_string(n) + "}"));
    };
    auto over = with(x.max + 1);
    BOOST_REQUIRE(!over);
    BOOST_TEST(context_of(over.error())
               == "node." + x.key + ": expected an integer from "
                    + std::to_string(x.min) + " to " + std::to_string(x.max));
    auto cfg = with(x.max);
    BOOST_REQUIRE(cfg);
    auto taken = cfg->node.*(x.field);
    BOOST_TEST(taken == x.max, x.key);
  }
}

BOOST_AUTO_TEST_CASE(numbers_of_the_wrong_type_are_rejected) {
  check_rejected(with_models(listing_model, R"("supervision": {"max_restarts": 2.5})"),
                 "supervision.max_restarts");
  check_rejected(with_models(listing_model, R"("supervision": {"max_restarts": 5.0})"),
                 "supervision.max_restarts");
  check_rejected(with_models(listing_model, R"("supervision": {"max_restarts": "5"})"),
                 "supervision.max_restarts");
  check_rejected(with_models(listing_model,
                             R"("supervision": {"max_backoff_ms": true})"),
                 "supervision.max_backoff_ms");
  check_rejected(with_models(listing_model,
                             R"("supervision": {"max_backoff_ms": 1e300})"),
                 "supervision.max_backoff_ms");
  check_rejected(
    with_models(listing_model,
                R"("supervision": {"initial_backoff_ms": 18446744073709551615})"),
    "supervision.initial_backoff_ms");
  check_rejected(with_models(listing_model, R"("node": {"batch_size": null})"),
                 "node.batch_size");
}

BOOST_AUTO_TEST_CASE(sections_of_the_wrong_type_are_rejected) {
  check_rejected(R"({"read_models": {}})", "read_models");
  check_rejected(R"({"read_models": "user_listing"})", "read_models");
  check_rejected(with_models(listing_model, R"("supervision": [])"), "supervision");
  check_rejected(with_models(listing_model, R"("node": 1)"), "node");
  check_rejected(with_models(R"("user_listing")"), "read_models[0]");
}

BOOST_AUTO_TEST_CASE(model_fields_of_the_wrong_type_are_rejected) {
  check_rejected(with_models(R"({"name": 1, "kind": "document", "key": "id",
                                 "merge_on": ["A"]})"),
                 "read_models[0].name");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": 1,
                                 "merge_on": ["A"]})"),
                 "read_models[0].key");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": "A"})"),
                 "read_models[0].merge_on");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A", 1]})"),
                 "read_models[0].merge_on");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "delete_on": [""]})"),
                 "read_models[0].delete_on");
  check_rejected(with_models(R"({"name": "m", "kind": "index", "key": "email",
                                 "target": ["id"], "set_on": ["A"]})"),
                 "read_models[0].target");
}

BOOST_AUTO_TEST_CASE(document_required_fields_are_read_and_checked) {
  auto cfg = parse(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                   "merge_on": ["A"], "require": ["email"]})"));
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  auto m = cfg->read_models.at(0).make();
  event e;
  e.type = "A";
  e.payload = boost::json::parse(R"({"id": "u1"})").as_object();
  BOOST_CHECK_THROW(m->apply(e), std::runtime_error);
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "require": "email"})"),
                 "read_models[0].require");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "require": ["a..b"]})"),
                 "read_models[0].require");
}

BOOST_AUTO_TEST_CASE(model_without_key_or_target_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "kind": "document",
                                 "merge_on": ["A"]})"),
                 "read_models[0].key");
  check_rejected(with_models(R"({"name": "m", "kind": "index", "key": "email",
                                 "set_on": ["A"]})"),
                 "read_models[0].target");
}

BOOST_AUTO_TEST_CASE(malformed_field_path_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "kind": "document",
                                 "key": "user..id", "merge_on": ["A"]})"),
                 "read_models[0].key");
  check_rejected(with_models(R"({"name": "m", "kind": "index", "key": "email",
                                 "target": "id.", "set_on": ["A"]})"),
                 "read_models[0].target");
}

BOOST_AUTO_TEST_CASE(model_that_handles_no_event_type_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id"})"),
                 "read_models[0]");
  check_rejected(with_models(R"({"name": "m", "kind": "index", "key": "email",
                                 "target": "id", "set_on": []})"),
                 "read_models[0]");
}

BOOST_AUTO_TEST_CASE(load_config_of_a_missing_file_names_the_path) {
  const std::string path = "/nonexistent-bus-dir/node.json";
  auto result = load_config(path);
  BOOST_REQUIRE(!result);
  BOOST_TEST(code_of(result.error()) == errc::invalid_config);
  BOOST_TEST(context_of(result.error())
             == path + ": cannot open (No such file or directory)");
}

BOOST_AUTO_TEST_CASE(load_config_of_a_directory_says_so) {
  auto result = load_config("/tmp");
  BOOST_REQUIRE(!result);
  BOOST_TEST(context_of(result.error())
             == "/tmp: is a directory, not a configuration file");
}

BOOST_AUTO_TEST_CASE(load_config_reads_a_file) {
  temp_file file{default_config_text()};
  auto result = load_config(file.path);
  BOOST_REQUIRE_MESSAGE(result, why(result));
  BOOST_TEST(result->read_models.size() == 2u);
}

BOOST_AUTO_TEST_CASE(load_config_error_names_the_file_and_the_field) {
  temp_file file{with_models(R"({"kind": "document", "key": "id",
                                 "merge_on": ["A"]})")};
  auto result = load_config(file.path);
  BOOST_REQUIRE(!result);
  BOOST_TEST(code_of(result.error()) == errc::invalid_config);
  BOOST_TEST(context_of(result.error())
             == file.path + ": read_models[0].name: missing");
}

BOOST_AUTO_TEST_CASE(one_model_definition_parses_alone_and_names_its_path) {
  auto good = parse_model_definition(boost::json::parse(listing_model), "definition");
  BOOST_REQUIRE_MESSAGE(good, why(good));
  BOOST_TEST(good->name == "listing");
  BOOST_TEST(good->make()->handles("A"));
  auto bad = parse_model_definition(
    boost::json::parse(R"({"name": "x", "kind": "index", "key": "email"})"),
    "definition");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(code_of(bad.error()) == errc::invalid_config);
  BOOST_TEST(context_of(bad.error()) == "definition.target: missing");
}

BOOST_AUTO_TEST_CASE(storage_defaults_to_memory_and_sqlite_is_read) {
  std::string models = listing_model;
  models += R"(, {"name": "docs", "kind": "document", "key": "id",
                  "merge_on": ["A"], "storage": "sqlite"},
                {"name": "idx", "kind": "index", "key": "email", "target": "id",
                  "set_on": ["A"], "storage": "memory"},
                {"name": "idx2", "kind": "index", "key": "email", "target": "id",
                  "set_on": ["A"], "storage": "sqlite"})";
  auto cfg = parse(with_models(models));
  BOOST_REQUIRE_MESSAGE(cfg, why(cfg));
  BOOST_REQUIRE_EQUAL(cfg->read_models.size(), 4u);
  BOOST_TEST(to_string(cfg->read_models[0].storage) == "memory"s);
  BOOST_TEST(to_string(cfg->read_models[1].storage) == "sqlite"s);
  BOOST_TEST(to_string(cfg->read_models[2].storage) == "memory"s);
  BOOST_TEST(to_string(cfg->read_models[3].storage) == "sqlite"s);
  // The shipped default keeps its models in memory.
  auto shipped = parse(default_config_text());
  BOOST_REQUIRE(shipped);
  for (auto& spec : shipped->read_models)
    BOOST_TEST(to_string(spec.storage) == "memory"s);
}

BOOST_AUTO_TEST_CASE(unknown_or_malformed_storage_is_rejected) {
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "storage": "postgres"})"),
                 "read_models[0].storage");
  check_rejected(with_models(R"({"name": "m", "kind": "index", "key": "e",
                                 "target": "id", "set_on": ["A"], "storage": 1})"),
                 "read_models[0].storage");
  check_rejected(with_models(R"({"name": "m", "kind": "document", "key": "id",
                                 "merge_on": ["A"], "storage": ""})"),
                 "read_models[0].storage");
  auto result = parse(with_models(R"({"name": "m", "kind": "document",
    "key": "id", "merge_on": ["A"], "storage": "postgres"})"));
  BOOST_REQUIRE(!result);
  BOOST_TEST(context_of(result.error())
             == R"(read_models[0].storage: expected "memory" or "sqlite")");
}

BOOST_AUTO_TEST_CASE(commands_section_names_aggregates_and_a_snapshot_interval) {
  auto none = parse(with_models(listing_model));
  BOOST_REQUIRE(none);
  BOOST_TEST(none->commands.aggregates.empty());
  BOOST_TEST(none->commands.snapshot_every == 100u);
  auto some = parse(with_models(
    listing_model, R"("commands": {"aggregates": ["order"], "snapshot_every": 7})"));
  BOOST_REQUIRE_MESSAGE(some, why(some));
  BOOST_TEST(some->commands.aggregates == std::vector<std::string>{"order"});
  BOOST_TEST(some->commands.snapshot_every == 7u);
  check_rejected(with_models(listing_model, R"("commands": {"aggregates": "order"})"),
                 "commands.aggregates");
  check_rejected(with_models(listing_model, R"("commands": {"snapshot_every": -1})"),
                 "commands.snapshot_every");
  check_rejected(with_models(listing_model, R"("commands": {"aggregate": ["order"]})"),
                 "commands.aggregate");
}

BOOST_AUTO_TEST_SUITE_END()
