#include "bus/upcasters.hpp"

#include "bus/errc.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>
#include <vector>

using namespace bus;

namespace {

event make_event(std::string type, std::uint32_t version, std::string_view payload) {
  event e;
  e.id = "e-1";
  e.seq = 7;
  e.type = std::move(type);
  e.schema_version = version;
  e.payload = boost::json::parse(payload).as_object();
  e.metadata = boost::json::object{{"trace", "t-1"}};
  return e;
}

// A step that renames payload field `from` to `to`.
upcaster rename_field(std::string type, std::uint32_t version, std::string from,
                      std::string to, std::string to_type = {}) {
  return upcaster{std::move(type), version, std::move(to_type), [from, to](event& e) {
                    if (auto* v = e.payload.if_contains(from)) {
                      // Copy first: inserting may move the value it reads.
                      boost::json::value moved = *v;
                      e.payload.erase(from);
                      e.payload[to] = std::move(moved);
                    }
                  }};
}

upcaster_registry_ptr make(std::vector<upcaster> steps) {
  auto registry = upcaster_registry::make(std::move(steps));
  if (!registry)
    BOOST_FAIL(context_of(registry.error()));
  return *registry;
}

std::string rejection(std::vector<upcaster> steps) {
  auto registry = upcaster_registry::make(std::move(steps));
  if (registry)
    return "<accepted>";
  BOOST_TEST(code_of(registry.error()) == errc::invalid_config);
  return context_of(registry.error());
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(upcasters)

BOOST_AUTO_TEST_CASE(one_step_raises_the_version_and_changes_a_copy) {
  auto registry = make({rename_field("UserCreated", 1, "mail", "email")});
  auto original = make_event("UserCreated", 1, R"({"id": "u-1", "mail": "a@x"})");
  std::optional<event> scratch;
  auto& seen = registry->upcast(original, scratch);
  BOOST_TEST(&seen != &original);
  BOOST_TEST(seen.schema_version == 2u);
  BOOST_TEST(seen.type == "UserCreated");
  BOOST_TEST((seen.payload == boost::json::parse(R"({"id": "u-1", "email": "a@x"})")));
  // What identifies the event is kept; the original is untouched.
  BOOST_TEST(seen.id == "e-1");
  BOOST_TEST(seen.seq == 7u);
  BOOST_TEST((seen.metadata == original.metadata));
  BOOST_TEST(original.schema_version == 1u);
  BOOST_TEST(original.payload.contains("mail"));
}

BOOST_AUTO_TEST_CASE(chain_one_two_three_applies_every_step_in_order) {
  auto registry = make({
    // Registered out of order: the chain is found by version.
    rename_field("UserCreated", 2, "email", "contact"),
    rename_field("UserCreated", 1, "mail", "email"),
  });
  auto v1 = make_event("UserCreated", 1, R"({"mail": "a@x"})");
  std::optional<event> scratch;
  auto& seen = registry->upcast(v1, scratch);
  BOOST_TEST(seen.schema_version == 3u);
  BOOST_TEST((seen.payload == boost::json::parse(R"({"contact": "a@x"})")));
  // A version-2 event takes only the last step.
  auto v2 = make_event("UserCreated", 2, R"({"email": "b@x"})");
  std::optional<event> scratch2;
  auto& seen2 = registry->upcast(v2, scratch2);
  BOOST_TEST(seen2.schema_version == 3u);
  BOOST_TEST((seen2.payload == boost::json::parse(R"({"contact": "b@x"})")));
  BOOST_TEST((registry->target_of("UserCreated", 1)
              == std::pair<std::string, std::uint32_t>{"UserCreated", 3}));
}

BOOST_AUTO_TEST_CASE(a_step_may_rename_the_type_and_the_chain_follows_the_new_name) {
  auto registry = make({
    rename_field("UserCreated", 1, "mail", "email", "UserRegistered"),
    rename_field("UserRegistered", 2, "email", "contact"),
  });
  auto old = make_event("UserCreated", 1, R"({"mail": "a@x"})");
  std::optional<event> scratch;
  auto& seen = registry->upcast(old, scratch);
  BOOST_TEST(seen.type == "UserRegistered");
  BOOST_TEST(seen.schema_version == 3u);
  BOOST_TEST((seen.payload == boost::json::parse(R"({"contact": "a@x"})")));
  // A model of UserRegistered must also be sent UserCreated events.
  auto sources = registry->sources_of({"UserRegistered"});
  BOOST_TEST((sources == std::vector<std::string>{"UserRegistered", "UserCreated"}));
  BOOST_TEST(
    (registry->sources_of({"OrderPlaced"}) == std::vector<std::string>{"OrderPlaced"}));
  BOOST_TEST((registry->sources_of({"*"}) == std::vector<std::string>{"*"}));
}

BOOST_AUTO_TEST_CASE(nothing_is_copied_when_no_step_matches) {
  auto registry = make({rename_field("UserCreated", 1, "mail", "email")});
  std::optional<event> scratch;
  auto current = make_event("UserCreated", 2, R"({"email": "a@x"})");
  BOOST_TEST(&registry->upcast(current, scratch) == &current);
  auto other = make_event("OrderPlaced", 1, R"({"total": 5})");
  BOOST_TEST(&registry->upcast(other, scratch) == &other);
  BOOST_TEST(!scratch.has_value());
  BOOST_TEST(&upcast(nullptr, other, scratch) == &other);
}

BOOST_AUTO_TEST_CASE(a_missing_step_in_the_middle_of_a_chain_is_rejected) {
  auto why = rejection({rename_field("UserCreated", 1, "a", "b"),
                        rename_field("UserCreated", 3, "b", "c")});
  BOOST_TEST(mentions(why, "missing UserCreated v2 -> v3"), why);
  // Also across a type rename: OldName v1 -> NewName v2, NewName v3 -> v4.
  why = rejection({rename_field("OldName", 1, "a", "b", "NewName"),
                   rename_field("NewName", 3, "b", "c")});
  BOOST_TEST(mentions(why, "missing NewName v2 -> v3"), why);
}

BOOST_AUTO_TEST_CASE(duplicates_and_steps_that_cannot_raise_the_version_are_rejected) {
  auto why = rejection({rename_field("UserCreated", 1, "a", "b"),
                        rename_field("UserCreated", 1, "b", "c")});
  BOOST_TEST(mentions(why, "two upcasters of UserCreated v1"), why);
  // Every step raises the version: a loop back to an older one cannot be
  // expressed, and the last version has none after it.
  why = rejection(
    {rename_field("UserCreated", std::numeric_limits<std::uint32_t>::max(), "a", "b")});
  BOOST_TEST(mentions(why, "no version follows it"), why);
  why = rejection({rename_field("UserCreated", 0, "a", "b")});
  BOOST_TEST(mentions(why, "versions start at 1"), why);
  why = rejection({rename_field("", 1, "a", "b")});
  BOOST_TEST(mentions(why, "needs an event type"), why);
  why = rejection({upcaster{"UserCreated", 1, {}, {}}});
  BOOST_TEST(mentions(why, "has no function"), why);
}

BOOST_AUTO_TEST_CASE(renaming_back_and_forth_ends_because_versions_rise) {
  // A -> B at v1, B -> A at v2: not a loop, A v3 in the end.
  auto registry = make(
    {rename_field("A", 1, "x", "y", "B"), rename_field("B", 2, "y", "z", "A")});
  auto e = make_event("A", 1, R"({"x": 1})");
  std::optional<event> scratch;
  auto& seen = registry->upcast(e, scratch);
  BOOST_TEST(seen.type == "A");
  BOOST_TEST(seen.schema_version == 3u);
  BOOST_TEST((seen.payload == boost::json::parse(R"({"z": 1})")));
}

BOOST_AUTO_TEST_SUITE_END()
