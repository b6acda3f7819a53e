#include "bus/event.hpp"

namespace bus {

event_batch::event_batch(shared_events storage)
  : storage_(std::move(storage)), last_(storage_ ? storage_->size() : 0) {
  // nop
}

event_batch::event_batch(shared_events storage, std::size_t first, std::size_t last)
  : storage_(std::move(storage)), first_(first), last_(last) {
  // nop
}

event_batch event_batch::of(std::vector<event> events) {
  return event_batch{std::make_shared<const std::vector<event>>(std::move(events))};
}

std::uint64_t event_batch::first_seq() const noexcept {
  return empty() ? 0 : front().seq;
}

std::uint64_t event_batch::last_seq() const noexcept {
  return empty() ? 0 : back().seq;
}

} // namespace bus
