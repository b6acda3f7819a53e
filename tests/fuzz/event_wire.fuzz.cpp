// decode_events: the bytes of an event batch from another node. Corrupt
// bytes must give an error, never a crash; what decodes must encode to
// bytes that decode to events that encode to the same bytes again (bytes
// are compared, not events: a corrupt double may be NaN). decode_batch,
// which leaves the payloads in the bytes, refuses and accepts the same
// bytes, and its events decode to the same events.

#include "bus/event_wire.hpp"
#include "fuzz_support.hpp"

#include <boost/json/serialize.hpp>

using namespace bus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = decode_events(fuzz::text_of(data, size));
  auto lazy = decode_batch(std::string{fuzz::text_of(data, size)});
  fuzz::require(static_cast<bool>(decoded) == static_cast<bool>(lazy),
                "decode_batch refuses what decode_events refuses");
  if (!decoded)
    return 0;
  fuzz::require(lazy->size() == decoded->size(), "as many lazy events");
  for (std::size_t i = 0; i < lazy->size(); ++i) {
    auto& x = (*lazy)[i];
    auto& y = (*decoded)[i];
    fuzz::require(x.id == y.id && x.seq == y.seq && x.type == y.type,
                  "a lazy event is the decoded one");
    fuzz::require(boost::json::serialize(x.payload.object())
                    == boost::json::serialize(y.payload.object()),
                  "a lazy payload decodes to the decoded one");
  }
  auto& xs = *decoded;
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  auto again = decode_events(bytes);
  fuzz::require(static_cast<bool>(again), "an encoding decodes");
  fuzz::require(again->size() == xs.size(), "as many events");
  fuzz::require(encode_events(again->data(), again->data() + again->size()) == bytes,
                "the same events");
  return 0;
}
