#include "bus/event.hpp"

namespace bus {

namespace {

// The bytes go after the events, so that the events die first.
struct kept_events {
  std::shared_ptr<const void> keep;
  std::vector<event> events;
};

} // namespace

shared_events share_events(std::vector<event> events,
                           std::shared_ptr<const void> keep) {
  if (!keep)
    return std::make_shared<const std::vector<event>>(std::move(events));
  auto kept = std::make_shared<kept_events>(
    kept_events{std::move(keep), std::move(events)});
  return shared_events{kept, &kept->events};
}

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

event_batch event_batch::of(std::vector<event> events,
                            std::shared_ptr<const void> keep) {
  return event_batch{share_events(std::move(events), std::move(keep))};
}

std::uint64_t event_batch::first_seq() const noexcept {
  return empty() ? 0 : front().seq;
}

std::uint64_t event_batch::last_seq() const noexcept {
  return empty() ? 0 : back().seq;
}

} // namespace bus
