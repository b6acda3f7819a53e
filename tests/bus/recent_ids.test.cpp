// The durable log's index of its recent ids
// (libbus/src/internal/recent_ids.hpp).

#include "internal/recent_ids.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace {

// Ids by seq (index 0 unused), as the log would look them up.
struct fake_log {
  std::vector<std::string> ids{""};

  std::uint64_t append(bus::internal::recent_ids& index) {
    auto seq = static_cast<std::uint64_t>(ids.size());
    ids.push_back("e" + std::to_string(seq));
    index.insert(std::hash<std::string>{}(ids.back()), seq);
    return seq;
  }

  std::uint64_t find(const bus::internal::recent_ids& index,
                     const std::string& id) const {
    return index.find(std::hash<std::string>{}(id),
                      [&](std::uint64_t seq) { return ids[seq] == id; });
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(recent_ids)

BOOST_AUTO_TEST_CASE(finds_the_ids_of_the_last_window_once_they_are_durable) {
  bus::internal::recent_ids index{100};
  fake_log log;
  for (int i = 0; i < 1000; ++i) {
    log.append(index);
    index.rotate(log.ids.size() - 1); // everything durable at once
  }
  for (std::uint64_t seq = 901; seq <= 1000; ++seq)
    BOOST_TEST(log.find(index, "e" + std::to_string(seq)) == seq);
  // Bounded: older ids are the disk's.
  BOOST_TEST(index.size() <= 200u);
  BOOST_TEST(log.find(index, "e1") == 0u);
  BOOST_TEST(log.find(index, "e10000") == 0u);
}

BOOST_AUTO_TEST_CASE(keeps_every_id_not_yet_durable_however_many) {
  bus::internal::recent_ids index{100};
  fake_log log;
  for (int i = 0; i < 1000; ++i) {
    log.append(index);
    index.rotate(0); // nothing written yet
  }
  for (std::uint64_t seq = 1; seq <= 1000; ++seq)
    BOOST_TEST(log.find(index, "e" + std::to_string(seq)) == seq);
  log.append(index);
  index.rotate(1001); // all durable: the older generation goes
  BOOST_TEST(index.size() <= 1000u);
  BOOST_TEST(log.find(index, "e1001") == 1001u);
}

BOOST_AUTO_TEST_CASE(erased_appends_are_forgotten) {
  bus::internal::recent_ids index{100};
  fake_log log;
  for (int i = 0; i < 30; ++i)
    log.append(index);
  index.erase_above(20);
  BOOST_TEST(log.find(index, "e20") == 20u);
  BOOST_TEST(log.find(index, "e21") == 0u);
  BOOST_TEST(index.size() == 20u);
}

BOOST_AUTO_TEST_SUITE_END()
