#include "bus/event_wire.hpp"

#include "bus/errc.hpp"
#include "bus/event_log.hpp"
#include "internal/event_record.hpp"

namespace bus {

std::string encode_events(const event* first, const event* last) {
  std::string out;
  auto n = static_cast<std::size_t>(last - first);
  out.reserve(n * 64);
  internal::put_varint(out, n);
  for (auto i = first; i != last; ++i)
    internal::put_varint(out, i->seq);
  for (auto i = first; i != last; ++i)
    internal::encode_event(*i, out);
  return out;
}

namespace {

using decoder = void (*)(std::string_view, std::uint64_t, event&);

caf::expected<std::vector<event>> decode_with(std::string_view bytes, decoder decode) {
  try {
    auto n = internal::take_varint(bytes);
    // Every event takes at least two bytes: a count beyond that is corrupt,
    // and must not reserve memory for it.
    if (n > bytes.size() / 2)
      return make_error(errc::invalid_event, "event batch: count exceeds its bytes");
    std::vector<std::uint64_t> seqs(n);
    for (auto& seq : seqs)
      seq = internal::take_varint(bytes);
    std::vector<event> events(n);
    internal::record_cursor records{bytes.data(), bytes.size()};
    for (std::size_t i = 0; i < n; ++i)
      decode(records.next(), seqs[i], events[i]);
    if (!records.at_end())
      return make_error(errc::invalid_event, "event batch: trailing bytes");
    return events;
  } catch (const storage_error& ex) {
    return make_error(errc::invalid_event, std::string{"event batch: "} + ex.what());
  }
}

} // namespace

caf::expected<std::vector<event>> decode_events(std::string_view bytes) {
  return decode_with(bytes, internal::decode_event);
}

caf::expected<event_batch> decode_batch(std::string bytes) {
  auto kept = std::make_shared<const std::string>(std::move(bytes));
  auto events = decode_with(*kept, internal::decode_event_lazy);
  if (!events)
    return std::move(events.error());
  return event_batch::of(std::move(*events), std::move(kept));
}

} // namespace bus
