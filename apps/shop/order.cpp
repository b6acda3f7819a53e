#include "order.hpp"

#include <stdexcept>

#include "bus/errc.hpp"

namespace bus::shop {

namespace {

caf::error rejected(const command& c, const std::string& why) {
  return make_error(errc::command_rejected, c.name + " on '" + c.stream + "': " + why);
}

// A positive integer field of the command's data, or an error naming it.
caf::expected<std::int64_t> positive_cents(const command& c, std::string_view name) {
  auto* v = c.data.if_contains(name);
  if (v != nullptr && v->is_int64() && v->get_int64() > 0)
    return v->get_int64();
  if (v != nullptr && v->is_uint64() && v->get_uint64() <= INT64_MAX
      && v->get_uint64() > 0)
    return static_cast<std::int64_t>(v->get_uint64());
  return rejected(c, "data." + std::string{name} + " must be a positive integer");
}

order_status status_from(std::string_view text) {
  if (text == "placed")
    return order_status::placed;
  if (text == "paid")
    return order_status::paid;
  if (text == "cancelled")
    return order_status::cancelled;
  if (text == "none")
    return order_status::none;
  throw std::invalid_argument("unknown order status '" + std::string{text} + "'");
}

} // namespace

const char* to_string(order_status x) noexcept {
  switch (x) {
    case order_status::none:
      return "none";
    case order_status::placed:
      return "placed";
    case order_status::paid:
      return "paid";
    case order_status::cancelled:
      return "cancelled";
  }
  return "unknown";
}

void order::apply(const event& e) {
  if (e.type == "OrderPlaced") {
    status_ = order_status::placed;
    customer_ = e.payload.at("customer").as_string();
    amount_cents_ = e.payload.at("amount_cents").to_number<std::int64_t>();
  } else if (e.type == "OrderPaid") {
    status_ = order_status::paid;
  } else if (e.type == "OrderCancelled") {
    status_ = order_status::cancelled;
  }
}

caf::expected<std::vector<decided_event>> order::handle(const command& c) const {
  if (c.name == "PlaceOrder")
    return place(c);
  if (c.name == "PayOrder")
    return pay(c);
  if (c.name == "CancelOrder")
    return cancel(c);
  return make_error(errc::unknown_command, "an order has no command '" + c.name + "'");
}

caf::expected<std::vector<decided_event>> order::place(const command& c) const {
  if (status_ != order_status::none)
    return rejected(c, std::string{"the order is already "} + to_string(status_));
  auto* customer = c.data.if_contains("customer");
  if (customer == nullptr || !customer->is_string() || customer->get_string().empty())
    return rejected(c, "data.customer must be a non-empty string");
  auto amount = positive_cents(c, "amount_cents");
  if (!amount)
    return std::move(amount.error());
  boost::json::object payload{{"order_id", c.stream},
                              {"customer", customer->get_string()},
                              {"amount_cents", *amount},
                              {"status", "placed"}};
  return std::vector<decided_event>{{"OrderPlaced", std::move(payload)}};
}

caf::expected<std::vector<decided_event>> order::pay(const command& c) const {
  if (status_ != order_status::placed)
    return rejected(c,
                    std::string{"cannot pay an order that is "} + to_string(status_));
  auto amount = positive_cents(c, "amount_cents");
  if (!amount)
    return std::move(amount.error());
  if (*amount != amount_cents_)
    return rejected(c, "amount_cents " + std::to_string(*amount)
                         + " does not match the order's "
                         + std::to_string(amount_cents_));
  boost::json::object payload{
    {"order_id", c.stream}, {"paid_cents", *amount}, {"status", "paid"}};
  return std::vector<decided_event>{{"OrderPaid", std::move(payload)}};
}

caf::expected<std::vector<decided_event>> order::cancel(const command& c) const {
  if (status_ != order_status::placed)
    return rejected(c, std::string{"cannot cancel an order that is "}
                         + to_string(status_));
  std::string reason;
  if (auto* r = c.data.if_contains("reason")) {
    if (!r->is_string())
      return rejected(c, "data.reason must be a string");
    reason = r->get_string();
  }
  boost::json::object payload{
    {"order_id", c.stream}, {"reason", reason}, {"status", "cancelled"}};
  return std::vector<decided_event>{{"OrderCancelled", std::move(payload)}};
}

boost::json::value order::snapshot() const {
  return boost::json::object{{"status", to_string(status_)},
                             {"customer", customer_},
                             {"amount_cents", amount_cents_}};
}

void order::restore(const boost::json::value& state) {
  auto& obj = state.as_object();
  status_ = status_from(obj.at("status").as_string());
  customer_ = obj.at("customer").as_string();
  amount_cents_ = obj.at("amount_cents").as_int64();
}

aggregate_type order_type() {
  return {"order", {"PlaceOrder", "PayOrder", "CancelOrder"}, [] {
            return std::make_unique<order>();
          }};
}

} // namespace bus::shop
