#pragma once

// The shop's order: the example aggregate of the command side
// (docs/commands.md). A stream per order ("order-42"); its commands are
// PlaceOrder, PayOrder and CancelOrder, its events OrderPlaced, OrderPaid
// and OrderCancelled. bus-node runs it when its configuration lists the
// aggregate "order" (config/shop.json).
//
// The rules: an order is placed once, with a customer and a positive
// amount; it is paid once, with exactly its amount, and not once cancelled;
// it is cancelled once, and not once paid.

#include <cstdint>
#include <string>

#include "bus/aggregate.hpp"

namespace bus::shop {

/// Where an order stands.
enum class order_status : std::uint8_t {
  /// No event yet: the stream is empty.
  none,
  placed,
  paid,
  cancelled,
};

/// Returns "none", "placed", "paid" or "cancelled".
const char* to_string(order_status x) noexcept;

/// The state of one order stream.
class order final : public aggregate {
public:
  void apply(const event& e) override;
  caf::expected<std::vector<decided_event>> handle(const command& c) const override;
  boost::json::value snapshot() const override;
  void restore(const boost::json::value& state) override;

  order_status status() const noexcept { return status_; }

private:
  caf::expected<std::vector<decided_event>> place(const command& c) const;
  caf::expected<std::vector<decided_event>> pay(const command& c) const;
  caf::expected<std::vector<decided_event>> cancel(const command& c) const;

  order_status status_ = order_status::none;
  std::string customer_;
  std::int64_t amount_cents_ = 0;
};

/// The aggregate type "order" with its three commands.
aggregate_type order_type();

} // namespace bus::shop
