// decode_events: the bytes of an event batch from another node. Corrupt
// bytes must give an error, never a crash; what decodes must encode to
// bytes that decode to events that encode to the same bytes again (bytes
// are compared, not events: a corrupt double may be NaN).

#include "bus/event_wire.hpp"
#include "fuzz_support.hpp"

using namespace bus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = decode_events(fuzz::text_of(data, size));
  if (!decoded)
    return 0;
  auto& xs = *decoded;
  auto bytes = encode_events(xs.data(), xs.data() + xs.size());
  auto again = decode_events(bytes);
  fuzz::require(static_cast<bool>(again), "an encoding decodes");
  fuzz::require(again->size() == xs.size(), "as many events");
  fuzz::require(encode_events(again->data(), again->data() + again->size()) == bytes,
                "the same events");
  return 0;
}
