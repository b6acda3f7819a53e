#include "bus/event_log.hpp"

#include "support/json_events.hpp"

#include "bus/event_id.hpp"
#include "bus/memory_log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <string>
#include <vector>

using namespace bus;
using bus::test::json_object;

namespace {

/// An event without a given id, as a protocol client sends it: the id is
/// derived from the payload and marked as such.
event derived(std::string type, std::string_view payload_text) {
  event e;
  e.type = std::move(type);
  e.payload = json_object(payload_text);
  auto id = derive_event_id(e.payload);
  BOOST_REQUIRE(id.has_value());
  e.id = *id;
  e.id_derived = true;
  return e;
}

event given(std::string id, std::string type, std::string_view payload_text) {
  event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.payload = json_object(payload_text);
  return e;
}

bool is_lower_hex(const std::string& s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f'))
      return false;
  return true;
}

// Seed 000: a user is created without an event id.
constexpr auto created_text = R"({"id": "user-123", "name": "John"})";
// The same content with the keys in another order, as a resend may carry it.
constexpr auto created_reordered_text = R"({"name": "John", "id": "user-123"})";
// A different event that derives the same base id "evt-123".
constexpr auto order_text = R"({"id": "order-123", "total": 5})";
constexpr auto order_reordered_text = R"({"total": 5, "id": "order-123"})";

std::string order_id() {
  return alternate_event_id(
    "evt-123", content_fingerprint("OrderPlaced", json_object(order_text)), 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_log)

BOOST_AUTO_TEST_CASE(first_event_keeps_its_derived_id) {
  bus::memory_log log;
  auto result = log.append({derived("UserCreated", created_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(result.outcomes[0].id == "evt-123");
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_REQUIRE(result.appended.size() == 1u);
  BOOST_TEST(result.appended.front().id == "evt-123");
  BOOST_TEST(log.find("evt-123").value_or(0) == 1u);
}

BOOST_AUTO_TEST_CASE(redelivery_with_reordered_keys_is_a_duplicate) {
  bus::memory_log log;
  log.append({derived("UserCreated", created_text)});
  auto result = log.append({derived("UserCreated", created_reordered_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(result.outcomes[0].id == "evt-123");
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.appended.empty());
  BOOST_TEST(log.head() == 1u);
}

BOOST_AUTO_TEST_CASE(different_event_with_the_same_base_gets_a_fingerprint_suffix) {
  bus::memory_log log;
  log.append({derived("UserCreated", created_text)});
  auto result = log.append({derived("OrderPlaced", order_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  auto& id = result.outcomes[0].id;
  BOOST_TEST(id == order_id());
  BOOST_REQUIRE(id.size() == std::string{"evt-123-"}.size() + 16);
  BOOST_TEST(id.compare(0, 8, "evt-123-") == 0);
  BOOST_TEST(is_lower_hex(id.substr(8)));
  BOOST_TEST(result.outcomes[0].seq == 2u);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_REQUIRE(result.appended.size() == 1u);
  BOOST_TEST(result.appended.front().id == id);
  BOOST_TEST(log.find(id).value_or(0) == 2u);
  // The first claimant still holds the base id.
  BOOST_TEST(log.read(1, 1).front().type == "UserCreated");
}

BOOST_AUTO_TEST_CASE(same_type_with_a_different_payload_is_a_different_event) {
  bus::memory_log log;
  log.append({derived("UserCreated", created_text)});
  auto result = log.append(
    {derived("UserCreated", R"({"id": "user-123", "name": "Jane"})")});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(result.outcomes[0].id != "evt-123");
  BOOST_TEST(result.outcomes[0].id.compare(0, 8, "evt-123-") == 0);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(log.head() == 2u);
}

BOOST_AUTO_TEST_CASE(redelivery_of_the_suffixed_event_maps_to_the_suffixed_id) {
  bus::memory_log log;
  log.append({derived("UserCreated", created_text)});
  log.append({derived("OrderPlaced", order_text)});
  auto result = log.append({derived("OrderPlaced", order_reordered_text),
                            derived("UserCreated", created_reordered_text)});
  BOOST_REQUIRE(result.outcomes.size() == 2u);
  BOOST_TEST(result.outcomes[0].id == order_id());
  BOOST_TEST(result.outcomes[0].seq == 2u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[1].id == "evt-123");
  BOOST_TEST(result.outcomes[1].seq == 1u);
  BOOST_TEST(result.outcomes[1].duplicate);
  BOOST_TEST(result.appended.empty());
  BOOST_TEST(log.head() == 2u);
}

BOOST_AUTO_TEST_CASE(same_rules_hold_within_one_batch) {
  bus::memory_log log;
  auto result = log.append({derived("UserCreated", created_text),
                            derived("OrderPlaced", order_text),
                            derived("UserCreated", created_reordered_text),
                            derived("OrderPlaced", order_reordered_text)});
  BOOST_REQUIRE(result.outcomes.size() == 4u);
  BOOST_TEST(result.outcomes[0].id == "evt-123");
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[1].id == order_id());
  BOOST_TEST(result.outcomes[1].seq == 2u);
  BOOST_TEST(!result.outcomes[1].duplicate);
  BOOST_TEST(result.outcomes[2].id == "evt-123");
  BOOST_TEST(result.outcomes[2].seq == 1u);
  BOOST_TEST(result.outcomes[2].duplicate);
  BOOST_TEST(result.outcomes[3].id == order_id());
  BOOST_TEST(result.outcomes[3].seq == 2u);
  BOOST_TEST(result.outcomes[3].duplicate);
  BOOST_TEST(log.head() == 2u);
  BOOST_TEST(result.appended.size() == 2u);
}

BOOST_AUTO_TEST_CASE(batch_settled_ids_match_the_ids_of_separate_appends) {
  // Whether two colliding events arrive together or apart, each gets the
  // same id, so a later redelivery dedups either way.
  bus::memory_log together;
  auto one = together.append(
    {derived("UserCreated", created_text), derived("OrderPlaced", order_text)});
  bus::memory_log apart;
  auto first = apart.append({derived("UserCreated", created_text)});
  auto second = apart.append({derived("OrderPlaced", order_text)});
  BOOST_REQUIRE(one.outcomes.size() == 2u);
  BOOST_TEST(one.outcomes[0].id == first.outcomes.at(0).id);
  BOOST_TEST(one.outcomes[1].id == second.outcomes.at(0).id);
}

BOOST_AUTO_TEST_CASE(derived_id_held_by_a_given_id_with_other_content_is_suffixed) {
  bus::memory_log log;
  log.append({given("evt-123", "Other", R"({"x": 1})")});
  auto result = log.append({derived("UserCreated", created_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(
    result.outcomes[0].id
    == alternate_event_id(
      "evt-123", content_fingerprint("UserCreated", json_object(created_text)), 1));
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 2u);
}

BOOST_AUTO_TEST_CASE(
  derived_event_is_not_taken_for_a_batch_duplicate_of_other_content) {
  // The log holds "evt-123" with other content. A batch first redelivers
  // that id (a duplicate by id, so not appended) with the seed's content,
  // then carries the seed with a derived id. The seed is not what the log
  // holds under "evt-123", so it must get its own id and be appended.
  bus::memory_log log;
  log.append({given("evt-123", "Other", R"({"x": 1})")});
  auto result = log.append({given("evt-123", "UserCreated", created_text),
                            derived("UserCreated", created_text)});
  BOOST_REQUIRE(result.outcomes.size() == 2u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(
    result.outcomes[1].id
    == alternate_event_id(
      "evt-123", content_fingerprint("UserCreated", json_object(created_text)), 1));
  BOOST_TEST(!result.outcomes[1].duplicate);
  BOOST_TEST(result.outcomes[1].seq == 2u);
  BOOST_TEST(log.head() == 2u);
}

BOOST_AUTO_TEST_CASE(taken_suffixed_id_leads_to_a_numbered_one) {
  // Given ids occupy both the base and the suffixed id with other content,
  // as a fingerprint collision would; the event then gets "-2", and its
  // redelivery finds that id again.
  bus::memory_log log;
  auto suffixed = order_id();
  log.append({given("evt-123", "Other", R"({"x": 1})"),
              given(suffixed, "Other", R"({"x": 2})")});
  auto result = log.append({derived("OrderPlaced", order_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(result.outcomes[0].id == suffixed + "-2");
  BOOST_TEST(!result.outcomes[0].duplicate);
  BOOST_TEST(result.outcomes[0].seq == 3u);
  auto again = log.append({derived("OrderPlaced", order_reordered_text)});
  BOOST_TEST(again.outcomes.at(0).id == suffixed + "-2");
  BOOST_TEST(again.outcomes.at(0).duplicate);
  BOOST_TEST(again.outcomes.at(0).seq == 3u);
}

BOOST_AUTO_TEST_CASE(given_id_is_never_suffixed) {
  // Only derived ids are settled by content; a given id is a plain duplicate.
  bus::memory_log log;
  log.append({given("evt-123", "UserCreated", created_text)});
  auto result = log.append({given("evt-123", "OrderPlaced", order_text)});
  BOOST_REQUIRE(result.outcomes.size() == 1u);
  BOOST_TEST(result.outcomes[0].id == "evt-123");
  BOOST_TEST(result.outcomes[0].seq == 1u);
  BOOST_TEST(result.outcomes[0].duplicate);
  BOOST_TEST(log.head() == 1u);
}

BOOST_AUTO_TEST_CASE(derived_and_given_events_interleave_in_one_batch) {
  bus::memory_log log;
  auto result = log.append(
    {given("g1", "A", R"({"id": "a-1"})"), derived("UserCreated", created_text),
     given("g2", "A", R"({"id": "a-2"})"), derived("OrderPlaced", order_text),
     given("g1", "A", R"({"id": "a-1"})")});
  BOOST_REQUIRE(result.outcomes.size() == 5u);
  std::vector<std::uint64_t> seqs;
  for (auto& o : result.outcomes)
    seqs.push_back(o.seq);
  BOOST_TEST((seqs == std::vector<std::uint64_t>{1, 2, 3, 4, 1}));
  BOOST_TEST(result.outcomes[1].id == "evt-123");
  BOOST_TEST(result.outcomes[3].id == order_id());
  BOOST_TEST(result.outcomes[4].duplicate);
  BOOST_TEST(log.head() == 4u);
}

BOOST_AUTO_TEST_CASE(resolve_settles_ids_without_appending) {
  bus::memory_log log;
  log.append({derived("UserCreated", created_text)});
  std::vector<event> batch{derived("OrderPlaced", order_text),
                           derived("UserCreated", created_reordered_text),
                           given("g1", "A", R"({"x": 1})")};
  auto outcomes = log.resolve(batch);
  BOOST_REQUIRE(outcomes.size() == 3u);
  BOOST_TEST(outcomes[0].id == order_id());
  BOOST_TEST(outcomes[0].seq == 0u);
  BOOST_TEST(!outcomes[0].duplicate);
  BOOST_TEST(outcomes[1].id == "evt-123");
  BOOST_TEST(outcomes[1].seq == 1u);
  BOOST_TEST(outcomes[1].duplicate);
  BOOST_TEST(outcomes[2].id == "g1");
  BOOST_TEST(outcomes[2].seq == 0u);
  BOOST_TEST(!outcomes[2].duplicate);
  // The batch carries the settled ids; nothing was appended.
  BOOST_TEST(batch[0].id == order_id());
  BOOST_TEST(batch[1].id == "evt-123");
  BOOST_TEST(log.head() == 1u);
  BOOST_TEST(!log.find(order_id()).has_value());
  // Appending the resolved batch gives the same ids.
  auto result = log.append(batch);
  BOOST_TEST(result.outcomes.at(0).id == order_id());
  BOOST_TEST(result.outcomes.at(0).seq == 2u);
  BOOST_TEST(result.outcomes.at(1).duplicate);
  BOOST_TEST(result.outcomes.at(2).seq == 3u);
}

BOOST_AUTO_TEST_CASE(resolve_reports_a_repeat_within_the_batch_with_seq_zero) {
  bus::memory_log log;
  std::vector<event> batch{derived("UserCreated", created_text),
                           given("g1", "A", R"({"x": 1})"),
                           derived("UserCreated", created_reordered_text),
                           given("g1", "A", R"({"x": 1})")};
  auto outcomes = log.resolve(batch);
  BOOST_REQUIRE(outcomes.size() == 4u);
  BOOST_TEST(!outcomes[0].duplicate);
  BOOST_TEST(!outcomes[1].duplicate);
  BOOST_TEST(outcomes[2].id == "evt-123");
  BOOST_TEST(outcomes[2].duplicate);
  BOOST_TEST(outcomes[2].seq == 0u);
  BOOST_TEST(outcomes[3].id == "g1");
  BOOST_TEST(outcomes[3].duplicate);
  BOOST_TEST(outcomes[3].seq == 0u);
  BOOST_TEST(log.head() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
