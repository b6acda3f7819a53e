#include "bus/subscriptions.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using ids = std::vector<bus::subscriptions::subscriber_id>;

} // namespace

BOOST_AUTO_TEST_SUITE(subscriptions)

BOOST_AUTO_TEST_CASE(subscriber_receives_only_its_types) {
  bus::subscriptions subs;
  subs.subscribe(1, {"UserCreated", "UserDeleted"});
  BOOST_TEST(subs.wants(1, "UserCreated"));
  BOOST_TEST(subs.wants(1, "UserDeleted"));
  BOOST_TEST(!subs.wants(1, "UserUpdated"));
  BOOST_TEST(!subs.wants(1, "*"));
  BOOST_TEST((subs.subscribers_of({"UserCreated"}) == ids{1}));
  BOOST_TEST(subs.subscribers_of({"UserUpdated"}).empty());
}

BOOST_AUTO_TEST_CASE(unknown_subscriber_wants_nothing) {
  bus::subscriptions subs;
  BOOST_TEST(!subs.wants(7, "UserCreated"));
  BOOST_TEST(subs.subscribers_of({"UserCreated"}).empty());
  BOOST_TEST(subs.all().empty());
}

BOOST_AUTO_TEST_CASE(star_subscribes_to_every_type) {
  bus::subscriptions subs;
  subs.subscribe(1, {"*"});
  subs.subscribe(2, {"UserCreated", "*"});
  for (bus::subscriptions::subscriber_id who : {1u, 2u}) {
    BOOST_TEST(subs.wants(who, "UserCreated"));
    BOOST_TEST(subs.wants(who, "SomethingElse"));
  }
  BOOST_TEST((subs.subscribers_of({"SomethingElse"}) == ids{1, 2}));
}

BOOST_AUTO_TEST_CASE(empty_type_list_subscribes_to_every_type) {
  bus::subscriptions subs;
  subs.subscribe(3, {});
  BOOST_TEST(subs.wants(3, "UserCreated"));
  BOOST_TEST(subs.wants(3, "AnyType"));
  BOOST_TEST((subs.subscribers_of({"AnyType"}) == ids{3}));
}

BOOST_AUTO_TEST_CASE(subscribers_of_returns_each_once_in_subscription_order) {
  bus::subscriptions subs;
  subs.subscribe(5, {"A", "B"});
  subs.subscribe(3, {"*"});
  subs.subscribe(9, {"B"});
  subs.subscribe(1, {"C"});
  subs.subscribe(4, {"B", "A", "C"});
  BOOST_TEST((subs.subscribers_of({"A", "B"}) == ids{5, 3, 9, 4}));
  BOOST_TEST((subs.subscribers_of({"B", "A", "B"}) == ids{5, 3, 9, 4}));
  BOOST_TEST((subs.subscribers_of({"C"}) == ids{3, 1, 4}));
  BOOST_TEST((subs.subscribers_of({"D"}) == ids{3}));
  BOOST_TEST((subs.all() == ids{5, 3, 9, 1, 4}));
}

BOOST_AUTO_TEST_CASE(duplicate_types_in_a_subscription_count_once) {
  bus::subscriptions subs;
  subs.subscribe(1, {"A", "A"});
  BOOST_TEST((subs.subscribers_of({"A"}) == ids{1}));
  subs.unsubscribe(1);
  BOOST_TEST(!subs.wants(1, "A"));
  BOOST_TEST(subs.subscribers_of({"A"}).empty());
}

BOOST_AUTO_TEST_CASE(unsubscribe_removes_every_subscription) {
  bus::subscriptions subs;
  subs.subscribe(1, {"A", "B"});
  subs.subscribe(2, {"A"});
  subs.subscribe(3, {"*"});
  subs.unsubscribe(1);
  BOOST_TEST(!subs.wants(1, "A"));
  BOOST_TEST(!subs.wants(1, "B"));
  BOOST_TEST((subs.subscribers_of({"A", "B"}) == ids{2, 3}));
  BOOST_TEST((subs.all() == ids{2, 3}));
  subs.unsubscribe(3);
  BOOST_TEST(!subs.wants(3, "A"));
  BOOST_TEST((subs.subscribers_of({"B"}) == ids{}));
  BOOST_TEST((subs.all() == ids{2}));
}

BOOST_AUTO_TEST_CASE(unsubscribe_of_an_unknown_subscriber_changes_nothing) {
  bus::subscriptions subs;
  subs.subscribe(1, {"A"});
  subs.unsubscribe(42);
  BOOST_TEST(subs.wants(1, "A"));
  BOOST_TEST((subs.all() == ids{1}));
}

BOOST_AUTO_TEST_CASE(resubscribe_replaces_the_types) {
  bus::subscriptions subs;
  subs.subscribe(1, {"A", "B"});
  subs.subscribe(1, {"C"});
  BOOST_TEST(!subs.wants(1, "A"));
  BOOST_TEST(!subs.wants(1, "B"));
  BOOST_TEST(subs.wants(1, "C"));
  BOOST_TEST(subs.subscribers_of({"A", "B"}).empty());
  BOOST_TEST((subs.subscribers_of({"C"}) == ids{1}));
  BOOST_TEST((subs.all() == ids{1}));
}

BOOST_AUTO_TEST_CASE(resubscribe_from_wildcard_to_types_narrows_it) {
  bus::subscriptions subs;
  subs.subscribe(1, {"*"});
  subs.subscribe(1, {"A"});
  BOOST_TEST(subs.wants(1, "A"));
  BOOST_TEST(!subs.wants(1, "B"));
  BOOST_TEST(subs.subscribers_of({"B"}).empty());
  subs.subscribe(1, {});
  BOOST_TEST(subs.wants(1, "B"));
  BOOST_TEST((subs.all() == ids{1}));
}

BOOST_AUTO_TEST_SUITE_END()
