#include "bus/event_wire.hpp"

#include <boost/test/unit_test.hpp>

#include <boost/json/parse.hpp>

#include "bus/errc.hpp"

using namespace bus;

namespace {

event sample(std::uint64_t seq, std::string id, std::string payload_json) {
  event e;
  e.seq = seq;
  e.id = std::move(id);
  e.type = "UserCreated";
  e.payload = boost::json::parse(payload_json).as_object();
  e.metadata = boost::json::object{{"trace", "t-1"}};
  e.timestamp = -42;
  e.schema_version = 3;
  e.id_derived = true;
  return e;
}

std::vector<event> samples() {
  return {
    sample(7, "e-7", R"({"id": "u1", "n": -5, "big": 18446744073709551615,
                         "x": 0.25, "ok": true, "none": null,
                         "tags": ["a", 1, [2, {"deep": "ü"}]]})"),
    sample(9, "e-9", R"({})"),
    sample(12, std::string(300, 'k'),
           R"({"text": ")" + std::string(1000, 'z') + R"("})"),
  };
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_wire)

BOOST_AUTO_TEST_CASE(events_come_back_as_they_were_sent) {
  auto xs = samples();
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  auto back = decode_events(bytes);
  BOOST_REQUIRE(back);
  BOOST_REQUIRE_EQUAL(back->size(), xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    auto& a = xs[i];
    auto& b = (*back)[i];
    BOOST_TEST(b.seq == a.seq);
    BOOST_TEST(b.id == a.id);
    BOOST_TEST(b.type == a.type);
    BOOST_TEST(b.payload == a.payload);
    BOOST_TEST(b.metadata == a.metadata);
    BOOST_TEST(b.timestamp == a.timestamp);
    BOOST_TEST(b.schema_version == a.schema_version);
    BOOST_TEST(b.id_derived == a.id_derived);
  }
}

BOOST_AUTO_TEST_CASE(an_empty_batch_is_a_byte) {
  auto bytes = encode_events(nullptr, nullptr);
  BOOST_TEST(bytes.size() == 1u);
  auto back = decode_events(bytes);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->empty());
}

BOOST_AUTO_TEST_CASE(a_batch_decoded_lazily_keeps_its_payloads_in_the_bytes) {
  auto xs = samples();
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  auto back = decode_batch(bytes);
  BOOST_REQUIRE(back);
  BOOST_REQUIRE_EQUAL(back->size(), xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    auto& b = (*back)[i];
    BOOST_TEST(!b.payload.decoded());
    BOOST_TEST(b.id == xs[i].id);
    BOOST_TEST(b.metadata == xs[i].metadata);
  }
  BOOST_TEST((*back)[0].payload.field("n").as_int64() == -5);
  BOOST_TEST(!(*back)[0].payload.decoded());
  // Sent on again (a node forwarding to the next): the records go out as
  // they came, decoded or not.
  (void) (*back)[1].payload.object();
  BOOST_TEST(encode_events(back->begin(), back->end()) == bytes);
  for (std::size_t i = 0; i < xs.size(); ++i)
    BOOST_TEST((*back)[i].payload == xs[i].payload);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_error_not_a_crash) {
  auto xs = samples();
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto back = decode_events(std::string_view{bytes}.substr(0, n));
    BOOST_REQUIRE_MESSAGE(!back, "a prefix of " << n << " bytes decoded");
    BOOST_TEST(code_of(back.error()) == errc::invalid_event);
    auto lazy = decode_batch(bytes.substr(0, n));
    BOOST_REQUIRE_MESSAGE(!lazy, "a prefix of " << n << " bytes decoded lazily");
    BOOST_TEST(code_of(lazy.error()) == errc::invalid_event);
  }
}

BOOST_AUTO_TEST_CASE(garbage_and_trailing_bytes_are_errors) {
  auto xs = samples();
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  BOOST_TEST(!decode_events(bytes + "x"));
  // A count far beyond the bytes reserves nothing and fails.
  BOOST_TEST(!decode_events(std::string{"\xff\xff\xff\xff\x0f", 5}));
  // Every single-byte corruption decodes to an error or to some events,
  // never crashes.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0x5a);
    (void) decode_events(copy);
  }
}

BOOST_AUTO_TEST_SUITE_END()
