#include "order_totals.hpp"

#include <boost/json.hpp>

namespace demo {

order_totals::order_totals(std::uint64_t fail_at,
                           std::shared_ptr<std::atomic<bool>> fail_once)
  : fail_at_(fail_at), fail_once_(std::move(fail_once)) {
  // nop
}

const std::string& order_totals::name() const noexcept {
  static const std::string result = "order_totals";
  return result;
}

const std::vector<std::string>& order_totals::event_types() const noexcept {
  static const std::vector<std::string> result{"OrderPlaced", "OrderCancelled"};
  return result;
}

bool order_totals::apply(const bus::event& e) {
  if (++seen_ == fail_at_ && fail_once_ && fail_once_->exchange(false))
    throw std::runtime_error("connection to the ledger database lost");
  auto* user = e.payload.if_contains("user");
  auto* amount = e.payload.if_contains("amount_cents");
  if (user == nullptr || !user->is_string() || amount == nullptr || !amount->is_int64())
    return false;
  auto& t = by_user_[std::string{user->get_string()}];
  if (e.type == "OrderPlaced") {
    ++t.orders;
    t.revenue_cents += amount->get_int64();
  } else {
    ++t.cancelled;
    t.revenue_cents -= amount->get_int64();
  }
  return true;
}

std::optional<boost::json::value> order_totals::query(std::string_view key) const {
  auto i = by_user_.find(std::string{key});
  if (i == by_user_.end())
    return std::nullopt;
  return boost::json::value(
    boost::json::object{{"orders", i->second.orders},
                        {"cancelled", i->second.cancelled},
                        {"revenue_cents", i->second.revenue_cents}});
}

boost::json::value order_totals::snapshot() const {
  boost::json::object result;
  for (auto& [user, t] : by_user_)
    result[user] = boost::json::object{{"orders", t.orders},
                                       {"cancelled", t.cancelled},
                                       {"revenue_cents", t.revenue_cents}};
  return result;
}

void order_totals::reset() {
  by_user_.clear();
  seen_ = 0;
}

} // namespace demo
