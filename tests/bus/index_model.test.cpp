#include "bus/index_model.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include "support/json_events.hpp"
#include "support/user_documents.hpp"

#include <string>
#include <vector>

using namespace bus;
using bus::test::by_email_config;
using bus::test::json;
using bus::test::make_event;

namespace {

/// Returns the primary key `value` maps to, or "<none>".
std::string owner(const read_model& m, std::string_view value) {
  auto v = m.query(value);
  if (!v)
    return "<none>";
  if (auto* s = v->if_string())
    return std::string{s->data(), s->size()};
  std::string text = "<not a string: ";
  text += boost::json::serialize(*v);
  text += ">";
  return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(index_model)

BOOST_AUTO_TEST_CASE(set_maps_the_value_to_the_primary_key) {
  bus::index_model m{by_email_config()};
  BOOST_TEST(m.apply(
    make_event("UserCreated", R"({"id": "u1", "email": "j@x.org", "name": "John"})")));
  BOOST_TEST(owner(m, "j@x.org") == "u1");
  BOOST_TEST(owner(m, "u1") == "<none>");
  BOOST_TEST(m.snapshot() == json(R"({"j@x.org": "u1"})"));
}

BOOST_AUTO_TEST_CASE(email_change_moves_the_mapping) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  BOOST_TEST(m.apply(make_event("UserUpdated", R"({"id": "u1", "email": "k@x.org"})")));
  BOOST_TEST(owner(m, "j@x.org") == "<none>");
  BOOST_TEST(owner(m, "k@x.org") == "u1");
  BOOST_TEST(m.snapshot() == json(R"({"k@x.org": "u1"})"));
}

BOOST_AUTO_TEST_CASE(setting_the_same_value_again_changes_nothing) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  BOOST_TEST(m.apply(make_event("UserUpdated", R"({"id": "u1", "email": "j@x.org"})")));
  BOOST_TEST(m.snapshot() == json(R"({"j@x.org": "u1"})"));
}

BOOST_AUTO_TEST_CASE(delete_drops_the_mapping) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  m.apply(make_event("UserCreated", R"({"id": "u2", "email": "m@x.org"})"));
  BOOST_TEST(m.apply(make_event("UserDeleted", R"({"id": "u1"})")));
  BOOST_TEST(owner(m, "j@x.org") == "<none>");
  BOOST_TEST(owner(m, "m@x.org") == "u2");
  BOOST_TEST(m.snapshot() == json(R"({"m@x.org": "u2"})"));
  // A later set of the freed value works as for a new one.
  m.apply(make_event("UserCreated", R"({"id": "u3", "email": "j@x.org"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u3");
}

BOOST_AUTO_TEST_CASE(update_without_the_email_keeps_the_mapping) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  BOOST_TEST(m.apply(make_event("UserUpdated", R"({"id": "u1", "name": "Jo"})")));
  BOOST_TEST(owner(m, "j@x.org") == "u1");
  BOOST_TEST(m.snapshot() == json(R"({"j@x.org": "u1"})"));
}

BOOST_AUTO_TEST_CASE(email_taken_over_by_another_user_moves_to_that_user) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  m.apply(make_event("UserCreated", R"({"id": "u2", "email": "j@x.org"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u2");
  BOOST_TEST(m.snapshot() == json(R"({"j@x.org": "u2"})"));
  // u1 no longer owns the value: its change or delete must not touch u2's.
  m.apply(make_event("UserUpdated", R"({"id": "u1", "email": "a@x.org"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u2");
  BOOST_TEST(owner(m, "a@x.org") == "u1");
  m.apply(make_event("UserDeleted", R"({"id": "u1"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u2");
  BOOST_TEST(owner(m, "a@x.org") == "<none>");
  m.apply(make_event("UserDeleted", R"({"id": "u2"})"));
  BOOST_TEST(m.snapshot() == json("{}"));
}

BOOST_AUTO_TEST_CASE(email_taken_back_moves_back) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  m.apply(make_event("UserCreated", R"({"id": "u2", "email": "j@x.org"})"));
  m.apply(make_event("UserUpdated", R"({"id": "u1", "email": "j@x.org"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u1");
  // u2 lost the value; deleting u2 leaves u1's mapping alone.
  m.apply(make_event("UserDeleted", R"({"id": "u2"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u1");
}

BOOST_AUTO_TEST_CASE(payload_without_the_target_is_ignored) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  auto before = m.snapshot();
  BOOST_TEST(!m.apply(make_event("UserCreated", R"({"email": "z@x.org"})")));
  BOOST_TEST(!m.apply(make_event("UserDeleted", R"({"email": "j@x.org"})")));
  BOOST_TEST(
    !m.apply(make_event("UserUpdated", R"({"id": null, "email": "j@x.org"})")));
  BOOST_TEST(m.snapshot() == before);
}

BOOST_AUTO_TEST_CASE(event_of_an_unhandled_type_is_ignored) {
  bus::index_model m{by_email_config()};
  BOOST_TEST(
    !m.apply(make_event("OrderPlaced", R"({"id": "u1", "email": "j@x.org"})")));
  BOOST_TEST(m.snapshot() == json("{}"));
}

BOOST_AUTO_TEST_CASE(fields_are_read_from_dotted_paths) {
  auto cfg = by_email_config();
  cfg.key = "contact.email";
  cfg.target = "user.id";
  bus::index_model m{cfg};
  BOOST_TEST(m.apply(make_event(
    "UserCreated", R"({"user": {"id": 7}, "contact": {"email": "s@x.org"}})")));
  BOOST_TEST(owner(m, "s@x.org") == "7");
  BOOST_TEST(
    !m.apply(make_event("UserCreated", R"({"id": "u1", "email": "top@x.org"})")));
  BOOST_TEST(owner(m, "top@x.org") == "<none>");
}

BOOST_AUTO_TEST_CASE(reset_drops_all_state) {
  bus::index_model m{by_email_config()};
  m.apply(make_event("UserCreated", R"({"id": "u1", "email": "j@x.org"})"));
  m.reset();
  BOOST_TEST(m.snapshot() == json("{}"));
  BOOST_TEST(owner(m, "j@x.org") == "<none>");
  // Nothing of the old owner survives: a new owner takes the value cleanly.
  m.apply(make_event("UserCreated", R"({"id": "u2", "email": "j@x.org"})"));
  m.apply(make_event("UserDeleted", R"({"id": "u1"})"));
  BOOST_TEST(owner(m, "j@x.org") == "u2");
}

BOOST_AUTO_TEST_CASE(name_and_event_types_come_from_the_config) {
  bus::index_model m{by_email_config()};
  BOOST_TEST(m.name() == "by_email");
  BOOST_TEST(
    (m.event_types()
     == std::vector<std::string>{"UserCreated", "UserUpdated", "UserDeleted"}));
  BOOST_TEST(m.handles("UserDeleted"));
  BOOST_TEST(!m.handles("UserReplaced"));
}

BOOST_AUTO_TEST_CASE(star_model_handles_and_applies_every_type) {
  auto cfg = by_email_config();
  cfg.set_on = {"*"};
  cfg.delete_on = {};
  bus::index_model m{cfg};
  BOOST_TEST(m.handles("AccountOpened"));
  // The projector applies whatever handles() accepts; the model must take it.
  BOOST_TEST(
    m.apply(make_event("AccountOpened", R"({"id": "a1", "email": "a@x.org"})")));
  BOOST_TEST(owner(m, "a@x.org") == "a1");
}

BOOST_AUTO_TEST_CASE(key_of_an_event_is_its_primary_key_not_the_indexed_value) {
  bus::index_model m{by_email_config()};
  // The entity whose value the event sets: its events keep their order.
  BOOST_TEST(*m.key_of(make_event("UserUpdated", R"({"id": "u1", "email": "a@x"})"))
             == "u1");
  // An update without the indexed field still belongs to its entity.
  BOOST_TEST(*m.key_of(make_event("UserUpdated", R"({"id": "u1", "name": "A"})"))
             == "u1");
  BOOST_TEST(*m.key_of(make_event("UserDeleted", R"({"id": 7})")) == "7");
  BOOST_TEST(!m.key_of(make_event("UserCreated", R"({"email": "a@x"})")));
}

BOOST_AUTO_TEST_SUITE_END()
