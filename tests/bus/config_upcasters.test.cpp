// The configuration's declarative upcasters ("upcasters"): each operation,
// and each bad shape rejected with the path of the offending field.

#include "bus/config.hpp"

#include "bus/errc.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace bus;

namespace {

std::string with_upcasters(std::string_view upcasters) {
  return R"({"read_models": [], "upcasters": )" + std::string{upcasters} + "}";
}

upcaster_registry_ptr registry_of(std::string_view upcasters) {
  auto config = parse_config(with_upcasters(upcasters));
  if (!config)
    BOOST_FAIL(context_of(config.error()));
  auto registry = upcaster_registry::make(config->upcasters);
  if (!registry)
    BOOST_FAIL(context_of(registry.error()));
  return *registry;
}

// The event `payload` of `type` at version 1 as the upcasters leave it.
event upcast_v1(std::string_view upcasters, std::string type,
                std::string_view payload) {
  auto registry = registry_of(upcasters);
  event e;
  e.id = "e-1";
  e.type = std::move(type);
  e.payload = boost::json::parse(payload).as_object();
  std::optional<event> scratch;
  return registry->upcast(e, scratch);
}

bool same_json(const boost::json::object& x, std::string_view expected) {
  return boost::json::value(x) == boost::json::parse(expected);
}

void check_rejected(std::string_view upcasters, const std::string& where) {
  BOOST_TEST_CONTEXT("upcasters " << upcasters) {
    auto result = parse_config(with_upcasters(upcasters));
    BOOST_REQUIRE(!result);
    BOOST_TEST(code_of(result.error()) == errc::invalid_config);
    auto context = context_of(result.error());
    BOOST_TEST_INFO("context: " << context);
    BOOST_TEST(context.compare(0, where.size() + 1, where + ":") == 0);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_upcasters)

BOOST_AUTO_TEST_CASE(the_default_config_has_none) {
  auto config = parse_config(default_config_text());
  BOOST_REQUIRE(config);
  BOOST_TEST(config->upcasters.empty());
}

BOOST_AUTO_TEST_CASE(rename_renames_a_payload_field) {
  auto e = upcast_v1(
    R"([{"type": "UserCreated", "from": 1, "rename": {"mail": "email"}}])",
    "UserCreated", R"({"id": "u-1", "mail": "a@x"})");
  BOOST_TEST(e.schema_version == 2u);
  BOOST_TEST(e.type == "UserCreated");
  BOOST_TEST(same_json(e.payload, R"({"id": "u-1", "email": "a@x"})"));
  // A field that is not there is left alone.
  e = upcast_v1(R"([{"type": "UserCreated", "from": 1, "rename": {"mail": "email"}}])",
                "UserCreated", R"({"id": "u-1"})");
  BOOST_TEST(same_json(e.payload, R"({"id": "u-1"})"));
}

BOOST_AUTO_TEST_CASE(defaults_set_missing_fields_only) {
  auto ups = R"([{"type": "UserCreated", "from": 1,
                  "defaults": {"country": "unknown", "prefs.lang": "en"}}])";
  auto e = upcast_v1(ups, "UserCreated", R"({"id": "u-1"})");
  BOOST_TEST(same_json(
    e.payload, R"({"id": "u-1", "country": "unknown", "prefs": {"lang": "en"}})"));
  e = upcast_v1(ups, "UserCreated",
                R"({"id": "u-1", "country": "NZ", "prefs": {"lang": "mi"}})");
  BOOST_TEST(
    same_json(e.payload, R"({"id": "u-1", "country": "NZ", "prefs": {"lang": "mi"}})"));
}

BOOST_AUTO_TEST_CASE(move_moves_a_field_between_dotted_paths) {
  auto ups = R"([{"type": "UserCreated", "from": 1,
                  "move": {"address.city": "city", "zip": "address.postcode"}}])";
  auto e = upcast_v1(ups, "UserCreated",
                     R"({"address": {"city": "Oslo", "street": "x"}, "zip": "0150"})");
  BOOST_TEST(same_json(
    e.payload, R"({"address": {"street": "x", "postcode": "0150"}, "city": "Oslo"})"));
}

BOOST_AUTO_TEST_CASE(a_move_to_a_place_it_cannot_reach_leaves_the_field) {
  // "contact" is a string: the move once dropped "mail" on the way.
  auto ups
    = R"([{"type": "UserCreated", "from": 1, "move": {"mail": "contact.email"}}])";
  auto e = upcast_v1(ups, "UserCreated",
                     R"({"id": "u1", "mail": "a@x.org", "contact": "phone"})");
  BOOST_TEST(
    same_json(e.payload, R"({"id": "u1", "mail": "a@x.org", "contact": "phone"})"));
  // A field may still move under its own name.
  e = upcast_v1(
    R"([{"type": "UserCreated", "from": 1, "move": {"mail": "mail.home"}}])",
    "UserCreated", R"({"id": "u1", "mail": "a@x.org"})");
  BOOST_TEST(same_json(e.payload, R"({"id": "u1", "mail": {"home": "a@x.org"}})"));
}

BOOST_AUTO_TEST_CASE(renames_apply_at_once_so_two_fields_can_swap) {
  // Applied one after the other, the swap lost "Lee".
  auto e = upcast_v1(
    R"([{"type": "UserCreated", "from": 1, "rename": {"first": "last", "last": "first"}}])",
    "UserCreated", R"({"first": "Ann", "last": "Lee"})");
  BOOST_TEST(same_json(e.payload, R"({"last": "Ann", "first": "Lee"})"));
}

BOOST_AUTO_TEST_CASE(two_fields_to_one_place_are_rejected) {
  check_rejected(
    R"([{"type": "A", "from": 1, "rename": {"mail": "email", "e_mail": "email"}}])",
    "upcasters[0].rename.e_mail");
  check_rejected(R"([{"type": "A", "from": 1, "move": {"a": "x.y", "b": "x.y"}}])",
                 "upcasters[0].move.b");
  check_rejected(R"([{"type": "A", "from": 1, "move": {"a": "x", "b": "x.y"}}])",
                 "upcasters[0].move.b");
}

BOOST_AUTO_TEST_CASE(rename_type_changes_the_type_name) {
  auto e = upcast_v1(
    R"([{"type": "UserCreated", "from": 1, "rename_type": "UserRegistered"}])",
    "UserCreated", R"({"id": "u-1"})");
  BOOST_TEST(e.type == "UserRegistered");
  BOOST_TEST(e.schema_version == 2u);
  BOOST_TEST(same_json(e.payload, R"({"id": "u-1"})"));
}

BOOST_AUTO_TEST_CASE(operations_apply_as_rename_move_defaults_then_type) {
  auto e = upcast_v1(R"([{"type": "UserCreated", "from": 1, "rename": {"mail": "email"},
                          "defaults": {"country": "unknown", "email": "none"},
                          "move": {"address.city": "city"},
                          "rename_type": "UserRegistered"}])",
                     "UserCreated", R"({"mail": "a@x", "address": {"city": "Oslo"}})");
  BOOST_TEST(e.type == "UserRegistered");
  BOOST_TEST(same_json(e.payload, R"({"email": "a@x", "address": {}, "city": "Oslo",
                                      "country": "unknown"})"));
}

BOOST_AUTO_TEST_CASE(entries_chain_across_versions_and_type_names) {
  auto ups = R"([{"type": "UserCreated", "from": 1, "rename": {"mail": "email"}},
                 {"type": "UserCreated", "from": 2, "rename_type": "UserRegistered"},
                 {"type": "UserRegistered", "from": 3, "defaults": {"country": "unknown"}}])";
  auto e = upcast_v1(ups, "UserCreated", R"({"mail": "a@x"})");
  BOOST_TEST(e.type == "UserRegistered");
  BOOST_TEST(e.schema_version == 4u);
  BOOST_TEST(same_json(e.payload, R"({"email": "a@x", "country": "unknown"})"));
}

BOOST_AUTO_TEST_CASE(bad_shapes_are_rejected_with_their_path) {
  check_rejected(R"({"type": "A"})", "upcasters");
  check_rejected(R"([5])", "upcasters[0]");
  check_rejected(R"([{"from": 1}])", "upcasters[0].type");
  check_rejected(R"([{"type": "", "from": 1}])", "upcasters[0].type");
  check_rejected(R"([{"type": 3, "from": 1}])", "upcasters[0].type");
  check_rejected(R"([{"type": "A"}])", "upcasters[0].from");
  check_rejected(R"([{"type": "A", "from": 0}])", "upcasters[0].from");
  check_rejected(R"([{"type": "A", "from": "1"}])", "upcasters[0].from");
  check_rejected(R"([{"type": "A", "from": 1.5}])", "upcasters[0].from");
  check_rejected(R"([{"type": "A", "from": 4294967295}])", "upcasters[0].from");
  check_rejected(R"([{"type": "A", "from": 1, "rename": ["a", "b"]}])",
                 "upcasters[0].rename");
  check_rejected(R"([{"type": "A", "from": 1, "rename": {"a.b": "c"}}])",
                 "upcasters[0].rename.a.b");
  check_rejected(R"([{"type": "A", "from": 1, "rename": {"a": 5}}])",
                 "upcasters[0].rename.a");
  check_rejected(R"([{"type": "A", "from": 1, "rename": {"a": ""}}])",
                 "upcasters[0].rename.a");
  check_rejected(R"([{"type": "A", "from": 1, "move": "a"}])", "upcasters[0].move");
  check_rejected(R"([{"type": "A", "from": 1, "move": {"a..b": "c"}}])",
                 "upcasters[0].move.a..b");
  check_rejected(R"([{"type": "A", "from": 1, "move": {"a": "b."}}])",
                 "upcasters[0].move.a");
  check_rejected(R"([{"type": "A", "from": 1, "defaults": 1}])",
                 "upcasters[0].defaults");
  check_rejected(R"([{"type": "A", "from": 1, "defaults": {".a": 1}}])",
                 "upcasters[0].defaults..a");
  check_rejected(R"([{"type": "A", "from": 1, "defaults": {"a": 1e999}}])",
                 "upcasters[0].defaults.a");
  check_rejected(R"([{"type": "A", "from": 1, "rename_type": ""}])",
                 "upcasters[0].rename_type");
  check_rejected(R"([{"type": "A", "from": 1, "rename_type": ["B"]}])",
                 "upcasters[0].rename_type");
  check_rejected(R"([{"type": "A", "from": 1, "renames": {}}])",
                 "upcasters[0].renames");
  check_rejected(R"([{"type": "A", "from": 1}, {"type": "B", "from": 1, "colour": 1}])",
                 "upcasters[1].colour");
}

BOOST_AUTO_TEST_CASE(duplicates_and_gaps_are_rejected) {
  check_rejected(R"([{"type": "A", "from": 1}, {"type": "A", "from": 1}])",
                 "upcasters[1]");
  auto result = parse_config(with_upcasters(R"([{"type": "A", "from": 1},
                                                {"type": "A", "from": 3}])"));
  BOOST_REQUIRE(!result);
  auto why = context_of(result.error());
  BOOST_TEST(why.find("upcasters: ") == 0u, why);
  BOOST_TEST(why.find("missing A v2 -> v3") != std::string::npos, why);
}

// A model stores its state under its definition plus definition_of: a change
// there rebuilds it on restart, so it must follow exactly the steps that can
// reach the model's events.
BOOST_AUTO_TEST_CASE(definition_of_changes_with_the_steps_a_model_receives) {
  std::vector<std::string> users{"UserCreated"};
  auto mail = registry_of(R"([{"type": "UserCreated", "from": 1,
                               "rename": {"mail": "email"}}])");
  auto contact = registry_of(R"([{"type": "UserCreated", "from": 1,
                                  "rename": {"mail": "contact"}}])");
  auto defaulted = registry_of(R"([{"type": "UserCreated", "from": 1,
                                    "rename": {"mail": "email"},
                                    "defaults": {"tier": "gold"}}])");
  BOOST_TEST(!mail->definition_of(users).empty());
  BOOST_TEST(mail->definition_of(users)
             == registry_of(R"([{"type": "UserCreated", "from": 1,
                                 "rename": {"mail": "email"}}])")
                  ->definition_of(users));
  BOOST_TEST(mail->definition_of(users) != contact->definition_of(users));
  BOOST_TEST(mail->definition_of(users) != defaulted->definition_of(users));
  // A model of other types is not touched by them; "*" takes everything.
  BOOST_TEST(mail->definition_of({"OrderPlaced"}) == "");
  BOOST_TEST(mail->definition_of({"*"}) != contact->definition_of({"*"}));
}

BOOST_AUTO_TEST_CASE(definition_of_follows_renamed_types_both_ways) {
  auto v1 = registry_of(R"([{"type": "UserCreated", "from": 1,
                             "rename_type": "UserRegistered"},
                            {"type": "UserRegistered", "from": 2,
                             "rename": {"mail": "email"}}])");
  auto v2 = registry_of(R"([{"type": "UserCreated", "from": 1,
                             "rename_type": "UserRegistered"},
                            {"type": "UserRegistered", "from": 2,
                             "rename": {"mail": "contact"}}])");
  // A model of the new name receives the old one: both steps count.
  BOOST_TEST(v1->definition_of({"UserRegistered"})
             != v2->definition_of({"UserRegistered"}));
  // A model of the old name loses its v1 events to the rename: it counts.
  BOOST_TEST(v1->definition_of({"UserCreated"}).find("UserRegistered")
             != std::string::npos);
  BOOST_TEST(v1->definition_of({"Unrelated"}) == "");
}

BOOST_AUTO_TEST_SUITE_END()
