#include "bus/event.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace bus;

namespace {

std::vector<event> numbered(std::size_t n) {
  std::vector<event> result(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string id = "e";
    id += std::to_string(i + 1);
    result[i].id = std::move(id);
    result[i].seq = i + 1;
  }
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event)

BOOST_AUTO_TEST_CASE(new_event_is_unappended_version_one) {
  bus::event e;
  BOOST_TEST(e.id.empty());
  BOOST_TEST(e.seq == 0u);
  BOOST_TEST(e.timestamp == 0);
  BOOST_TEST(e.schema_version == 1u);
  BOOST_TEST(!e.id_derived);
  BOOST_TEST(e.payload.empty());
  BOOST_TEST(e.metadata.empty());
}

BOOST_AUTO_TEST_CASE(default_batch_is_empty) {
  event_batch batch;
  BOOST_TEST(batch.empty());
  BOOST_TEST(batch.size() == 0u);
  BOOST_TEST(batch.first_seq() == 0u);
  BOOST_TEST(batch.last_seq() == 0u);
  BOOST_TEST((batch.begin() == batch.end()));
  BOOST_TEST(batch.storage() == nullptr);
}

BOOST_AUTO_TEST_CASE(batch_of_events_views_them_all_in_order) {
  auto batch = event_batch::of(numbered(4));
  BOOST_TEST(batch.size() == 4u);
  BOOST_TEST(!batch.empty());
  BOOST_TEST(batch.first_seq() == 1u);
  BOOST_TEST(batch.last_seq() == 4u);
  BOOST_TEST(batch.front().id == "e1");
  BOOST_TEST(batch.back().id == "e4");
  BOOST_TEST(batch[2].id == "e3");
  std::vector<std::string> ids;
  for (auto& e : batch)
    ids.push_back(e.id);
  BOOST_TEST((ids == std::vector<std::string>{"e1", "e2", "e3", "e4"}));
}

BOOST_AUTO_TEST_CASE(batch_of_no_events_is_empty) {
  auto batch = event_batch::of({});
  BOOST_TEST(batch.empty());
  BOOST_TEST(batch.first_seq() == 0u);
  BOOST_TEST(batch.last_seq() == 0u);
}

BOOST_AUTO_TEST_CASE(sub_range_views_only_its_events) {
  auto storage = std::make_shared<const std::vector<bus::event>>(numbered(5));
  event_batch batch{storage, 1, 3};
  BOOST_TEST(batch.size() == 2u);
  BOOST_TEST(batch.first_seq() == 2u);
  BOOST_TEST(batch.last_seq() == 3u);
  BOOST_TEST(batch[0].id == "e2");
  BOOST_TEST(batch.back().id == "e3");
  BOOST_TEST(&batch.front() == &(*storage)[1]);
  event_batch none{storage, 2, 2};
  BOOST_TEST(none.empty());
  BOOST_TEST(none.first_seq() == 0u);
}

BOOST_AUTO_TEST_CASE(copies_share_the_storage) {
  auto batch = event_batch::of(numbered(3));
  auto copy = batch;
  BOOST_TEST(copy.storage() == batch.storage());
  BOOST_TEST(&copy.front() == &batch.front());
  BOOST_TEST(batch.storage().use_count() == 2);
}

BOOST_AUTO_TEST_CASE(batch_keeps_its_storage_alive) {
  event_batch batch;
  {
    auto storage = std::make_shared<const std::vector<bus::event>>(numbered(3));
    batch = event_batch{storage, 1, 3};
  }
  BOOST_TEST(batch.storage().use_count() == 1);
  BOOST_TEST(batch.front().id == "e2");
  BOOST_TEST(batch.back().id == "e3");
}

BOOST_AUTO_TEST_SUITE_END()
