#include "bus/document_model.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include "bus/event_wire.hpp"
#include "support/json_events.hpp"
#include "support/user_documents.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using namespace bus;
using bus::test::json;
using bus::test::make_event;
using bus::test::query_text;
using bus::test::users_config;

BOOST_AUTO_TEST_SUITE(document_model)

BOOST_AUTO_TEST_CASE(merge_creates_the_document_and_adds_fields) {
  bus::document_model m{users_config()};
  BOOST_TEST(m.apply(
    make_event("UserCreated", R"({"id": "u1", "name": "John", "email": "j@x.org"})")));
  BOOST_TEST(m.apply(
    make_event("UserUpdated", R"({"id": "u1", "email": "k@x.org", "age": 30})")));
  auto doc = m.query("u1");
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(*doc == json(R"({"id": "u1", "name": "John", "email": "k@x.org",
                         "age": 30})"));
}

BOOST_AUTO_TEST_CASE(merge_keeps_the_documents_field_order) {
  // Queries render the document in its own order: a merge updates fields
  // where they are and appends new ones, whatever the payload's order.
  bus::document_model m{users_config()};
  m.apply(
    make_event("UserCreated", R"({"id": "u1", "name": "John", "email": "j@x.org"})"));
  m.apply(make_event("UserUpdated",
                     R"({"email": "k@x.org", "id": "u1", "name": 7, "age": 30})"));
  m.apply(make_event("UserUpdated", R"({"id": "u1", "name": "Jo",
                                       "email": "a-much-longer-address@example.org"})"));
  BOOST_TEST(
    query_text(m, "u1")
    == R"({"id":"u1","name":"Jo","email":"a-much-longer-address@example.org","age":30})");
}

BOOST_AUTO_TEST_CASE(upsert_replaces_the_whole_document) {
  bus::document_model m{users_config()};
  m.apply(
    make_event("UserCreated", R"({"id": "u1", "name": "John", "email": "j@x.org"})"));
  BOOST_TEST(m.apply(make_event("UserReplaced", R"({"id": "u1", "age": 3})")));
  auto doc = m.query("u1");
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(*doc == json(R"({"id": "u1", "age": 3})"));
}

BOOST_AUTO_TEST_CASE(upsert_of_a_new_key_creates_the_document) {
  bus::document_model m{users_config()};
  BOOST_TEST(m.apply(make_event("UserReplaced", R"({"id": "u9", "a": 1})")));
  BOOST_TEST(query_text(m, "u9") == R"({"id":"u9","a":1})");
}

BOOST_AUTO_TEST_CASE(delete_removes_only_that_document) {
  bus::document_model m{users_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "name": "John"})"));
  m.apply(make_event("UserCreated", R"({"id": "u2", "name": "Jane"})"));
  BOOST_TEST(m.apply(make_event("UserDeleted", R"({"id": "u1"})")));
  BOOST_TEST(!m.query("u1").has_value());
  BOOST_TEST(m.snapshot() == json(R"({"u2": {"id": "u2", "name": "Jane"}})"));
  // A merge after the delete starts from an empty document.
  m.apply(make_event("UserUpdated", R"({"id": "u1", "age": 4})"));
  BOOST_TEST(query_text(m, "u1") == R"({"id":"u1","age":4})");
}

BOOST_AUTO_TEST_CASE(key_is_read_from_a_dotted_path) {
  auto cfg = users_config();
  cfg.key = "user.id";
  bus::document_model m{cfg};
  BOOST_TEST(
    m.apply(make_event("UserCreated", R"({"user": {"id": "u7"}, "plan": "pro"})")));
  BOOST_TEST(query_text(m, "u7") == R"({"user":{"id":"u7"},"plan":"pro"})");
  // A top-level "id" is not the configured key.
  BOOST_TEST(!m.apply(make_event("UserCreated", R"({"id": "u8"})")));
  BOOST_TEST(!m.query("u8").has_value());
}

BOOST_AUTO_TEST_CASE(integer_key_is_queried_in_decimal) {
  bus::document_model m{users_config()};
  BOOST_TEST(m.apply(make_event("UserCreated", R"({"id": 42, "name": "N"})")));
  BOOST_TEST(query_text(m, "42") == R"({"id":42,"name":"N"})");
}

BOOST_AUTO_TEST_CASE(payload_without_the_key_is_ignored) {
  bus::document_model m{users_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "name": "John"})"));
  auto before = m.snapshot();
  BOOST_TEST(!m.apply(make_event("UserCreated", R"({"name": "NoId"})")));
  BOOST_TEST(!m.apply(make_event("UserReplaced", R"({"name": "NoId"})")));
  BOOST_TEST(!m.apply(make_event("UserDeleted", R"({"name": "John"})")));
  // A key of a kind that is no key (bool, object, double) counts as missing.
  BOOST_TEST(!m.apply(make_event("UserUpdated", R"({"id": true})")));
  BOOST_TEST(!m.apply(make_event("UserUpdated", R"({"id": {"v": "u1"}})")));
  BOOST_TEST(!m.apply(make_event("UserUpdated", R"({"id": 1.5})")));
  BOOST_TEST(m.snapshot() == before);
}

BOOST_AUTO_TEST_CASE(event_of_an_unhandled_type_is_ignored) {
  bus::document_model m{users_config()};
  BOOST_TEST(!m.apply(make_event("OrderPlaced", R"({"id": "o1"})")));
  BOOST_TEST(m.snapshot() == json("{}"));
}

BOOST_AUTO_TEST_CASE(snapshot_maps_each_key_to_its_document) {
  bus::document_model m{users_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "name": "John"})"));
  m.apply(make_event("UserCreated", R"({"id": "u2", "name": "Jane"})"));
  m.apply(make_event("UserUpdated", R"({"id": "u2", "name": "Janet"})"));
  BOOST_TEST(m.snapshot() == json(R"({"u1": {"id": "u1", "name": "John"},
                         "u2": {"id": "u2", "name": "Janet"}})"));
}

BOOST_AUTO_TEST_CASE(reset_drops_all_state) {
  bus::document_model m{users_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "name": "John"})"));
  m.reset();
  BOOST_TEST(m.snapshot() == json("{}"));
  BOOST_TEST(!m.query("u1").has_value());
  // The model works as new afterwards.
  BOOST_TEST(m.apply(make_event("UserUpdated", R"({"id": "u1", "age": 1})")));
  BOOST_TEST(query_text(m, "u1") == R"({"id":"u1","age":1})");
}

BOOST_AUTO_TEST_CASE(name_and_event_types_come_from_the_config) {
  bus::document_model m{users_config()};
  BOOST_TEST(m.name() == "users");
  BOOST_TEST((m.event_types()
              == std::vector<std::string>{"UserReplaced", "UserCreated", "UserUpdated",
                                          "UserDeleted"}));
}

BOOST_AUTO_TEST_CASE(type_listed_twice_is_one_event_type) {
  auto cfg = users_config();
  cfg.upsert_on = {"A"};
  cfg.merge_on = {"A", "B"};
  cfg.delete_on = {"B"};
  bus::document_model m{cfg};
  BOOST_TEST((m.event_types() == std::vector<std::string>{"A", "B"}));
}

BOOST_AUTO_TEST_CASE(handles_exactly_the_configured_types) {
  bus::document_model m{users_config()};
  BOOST_TEST(m.handles("UserCreated"));
  BOOST_TEST(m.handles("UserReplaced"));
  BOOST_TEST(m.handles("UserDeleted"));
  BOOST_TEST(!m.handles("OrderPlaced"));
  BOOST_TEST(!m.handles("*"));
}

BOOST_AUTO_TEST_CASE(star_model_handles_and_applies_every_type) {
  auto cfg = users_config();
  cfg.upsert_on = {"*"};
  cfg.merge_on = {};
  cfg.delete_on = {};
  bus::document_model m{cfg};
  BOOST_TEST(m.handles("UserCreated"));
  BOOST_TEST(m.handles("AnythingElse"));
  // The projector applies whatever handles() accepts; the model must take it.
  BOOST_TEST(m.apply(make_event("AnythingElse", R"({"id": "a1", "v": 1})")));
  BOOST_TEST(query_text(m, "a1") == R"({"id":"a1","v":1})");
}

BOOST_AUTO_TEST_CASE(key_of_an_event_is_its_document_key) {
  bus::document_model m{users_config()};
  BOOST_TEST(*m.key_of(make_event("UserCreated", R"({"id": "u1", "n": 1})")) == "u1");
  // Integer keys read as the query key they fold into.
  BOOST_TEST(*m.key_of(make_event("UserDeleted", R"({"id": 42})")) == "42");
  // No key: apply() ignores the event, so nothing waits for it.
  BOOST_TEST(!m.key_of(make_event("UserCreated", R"({"name": "x"})")));
  auto cfg = users_config();
  cfg.key = "user.id";
  bus::document_model nested{cfg};
  BOOST_TEST(*nested.key_of(make_event("UserCreated", R"({"user": {"id": "u7"}})"))
             == "u7");
}

BOOST_AUTO_TEST_CASE(event_lacking_a_required_field_throws_and_changes_nothing) {
  auto cfg = users_config();
  cfg.require = {"email", "profile.name"};
  bus::document_model m{cfg};
  BOOST_TEST(m.apply(make_event(
    "UserCreated", R"({"id": "u1", "email": "a@x", "profile": {"name": "A"}})")));
  auto before = m.snapshot();
  auto names_field = [](const std::runtime_error& ex) {
    return std::string{ex.what()}.find("'profile.name'") != std::string::npos;
  };
  BOOST_CHECK_EXCEPTION(
    m.apply(make_event("UserUpdated", R"({"id": "u1", "email": "b@x"})")),
    std::runtime_error, names_field);
  BOOST_CHECK_EXCEPTION(
    m.apply(make_event("UserReplaced", R"({"id": "u1", "email": "b@x"})")),
    std::runtime_error, names_field);
  BOOST_TEST(m.snapshot() == before);
  // A delete carries only the key.
  BOOST_TEST(m.apply(make_event("UserDeleted", R"({"id": "u1"})")));
  BOOST_TEST(query_text(m, "u1") == "<none>");
}

BOOST_AUTO_TEST_CASE(required_fields_are_part_of_the_definition) {
  auto cfg = users_config();
  auto plain = bus::document_model{cfg}.definition();
  cfg.require = {"email"};
  BOOST_TEST(bus::document_model{cfg}.definition() != plain);
}

namespace {

// Applies `e` to `m` as it comes (an object payload) or, with `as_record`,
// as a catch-up or bus-node hands it over: the payload still in its record.
void apply_as(bus::document_model& m, event e, bool as_record) {
  if (!as_record) {
    m.apply(e);
    return;
  }
  e.seq = 1;
  auto batch = bus::decode_batch(bus::encode_events(&e, &e + 1));
  BOOST_REQUIRE(static_cast<bool>(batch));
  BOOST_REQUIRE(!(*batch)[0].payload.encoded_bytes().empty());
  m.apply((*batch)[0]);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_document_made_after_deletes_is_exactly_its_payload) {
  // Deleted documents are refilled for new keys: none may keep a field,
  // an order or a kind of the document it was.
  for (bool as_record : {false, true}) {
    BOOST_TEST_CONTEXT("payload as a record: " << as_record) {
      bus::document_model m{users_config()};
      auto step = [&](std::string type, std::string_view payload) {
        apply_as(m, make_event(std::move(type), payload), as_record);
      };
      step("UserCreated", R"({"id": "u1", "name": "Ann", "email": "ann@example.org",
                             "tags": [1, 2]})");
      step("UserDeleted", R"({"id": "u1"})");
      step("UserCreated", R"({"id": "u2", "name": "Bo", "email": "bo@x.org"})");
      BOOST_TEST(query_text(m, "u2")
                 == R"({"id":"u2","name":"Bo","email":"bo@x.org"})");
      step("UserDeleted", R"({"id": "u2"})");
      step("UserCreated", R"({"email": "cy@x.org", "id": "u3", "name": "Cy"})");
      BOOST_TEST(query_text(m, "u3")
                 == R"({"email":"cy@x.org","id":"u3","name":"Cy"})");
      step("UserDeleted", R"({"id": "u3"})");
      step("UserCreated", R"({"email": null, "id": "u4", "name": 7})");
      BOOST_TEST(query_text(m, "u4") == R"({"email":null,"id":"u4","name":7})");
      step("UserDeleted", R"({"id": "u4"})");
      step("UserCreated", R"({"email": "dee-has-a-long-address@example.org",
                             "id": "u5", "name": {"first": "Dee"}})");
      BOOST_TEST(query_text(m, "u5")
                 == R"({"email":"dee-has-a-long-address@example.org","id":"u5",)"
                    R"("name":{"first":"Dee"}})");
      step("UserDeleted", R"({"id": "u5"})");
      step("UserCreated", R"({"id": "u6"})");
      BOOST_TEST(query_text(m, "u6") == R"({"id":"u6"})");
      BOOST_TEST(query_text(m, "u1") == "<none>");
    }
  }
}

BOOST_AUTO_TEST_CASE(an_upsert_leaves_exactly_its_payload) {
  for (bool as_record : {false, true}) {
    BOOST_TEST_CONTEXT("payload as a record: " << as_record) {
      bus::document_model m{users_config()};
      auto upsert = [&](std::string_view payload) {
        apply_as(m, make_event("UserReplaced", payload), as_record);
        return query_text(m, "u1");
      };
      upsert(R"({"id": "u1", "name": "Ann", "age": 30})");
      BOOST_TEST(upsert(R"({"id": "u1", "name": "Anna", "age": 31})")
                 == R"({"id":"u1","name":"Anna","age":31})");
      BOOST_TEST(upsert(R"({"id": "u1", "name": "Anna"})")
                 == R"({"id":"u1","name":"Anna"})");
      BOOST_TEST(upsert(R"({"name": "Al", "id": "u1"})")
                 == R"({"name":"Al","id":"u1"})");
      BOOST_TEST(upsert(R"({"name": "Al", "id": "u1", "x": true})")
                 == R"({"name":"Al","id":"u1","x":true})");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
