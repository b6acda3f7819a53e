#include "stream.hpp"

#include <random>
#include <string>

namespace demo {

namespace {

bus::event make(std::string id, std::string type, boost::json::object payload) {
  bus::event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

std::string user_id(std::size_t n) {
  return "user-" + std::to_string(n);
}

} // namespace

std::vector<bus::event> make_stream(const stream_options& opts) {
  std::mt19937_64 rng{opts.seed};
  std::vector<bus::event> out;
  out.reserve(opts.events);
  std::vector<std::size_t> originals; // indexes of first deliveries
  struct order {
    std::string id;
    std::string user;
    std::int64_t amount;
  };
  std::vector<order> open_orders;
  std::size_t next = 0;
  auto emit = [&](bus::event e) {
    originals.push_back(out.size());
    out.push_back(std::move(e));
  };
  for (std::size_t u = 0; u < opts.users && out.size() < opts.events; ++u)
    emit(make("e" + std::to_string(next++), "UserCreated",
              {{"id", user_id(u)},
               {"name", "User " + std::to_string(u)},
               {"email", "u" + std::to_string(u) + "@shop.example"}}));
  while (out.size() < opts.events) {
    if (rng() % 100 < opts.redelivery_percent) {
      out.push_back(out[originals[rng() % originals.size()]]);
      continue;
    }
    auto roll = rng() % 100;
    auto user = user_id(rng() % opts.users);
    auto id = "e" + std::to_string(next++);
    if (roll < 15) {
      auto n = rng() % 1000;
      emit(make(id, "UserUpdated",
                {{"id", user},
                 {"email", "u" + std::to_string(n) + "." + user + "@shop.example"}}));
    } else if (roll < 65 || open_orders.empty()) {
      auto order = "order-" + std::to_string(next);
      auto amount = static_cast<std::int64_t>(100 + rng() % 20000);
      open_orders.push_back({order, user, amount});
      emit(make(id, "OrderPlaced",
                {{"order_id", order},
                 {"user", user},
                 {"amount_cents", amount},
                 {"status", "placed"}}));
    } else {
      auto pick = rng() % open_orders.size();
      auto o = open_orders[pick];
      open_orders[pick] = open_orders.back();
      open_orders.pop_back();
      if (roll < 90)
        emit(make(id, "OrderShipped", {{"order_id", o.id}, {"status", "shipped"}}));
      else
        emit(make(id, "OrderCancelled",
                  {{"order_id", o.id},
                   {"user", o.user},
                   {"amount_cents", o.amount},
                   {"status", "cancelled"}}));
    }
  }
  return out;
}

} // namespace demo
