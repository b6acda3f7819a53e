// The simulator's default read models and event stream (see simulator.hpp).

#include <map>
#include <set>

#include <boost/json.hpp>

#include "bus/config.hpp"
#include "bus/sim/simulator.hpp"

namespace bus::sim {

namespace {

// Sums order amounts per user; cancellations of its open orders count
// separately.
class order_totals final : public read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override {
    auto* user = e.payload.if_contains("user");
    auto* order = e.payload.if_contains("order_id");
    if (user == nullptr || !user->is_string() || order == nullptr
        || !order->is_string())
      return false;
    std::string id{order->get_string()};
    auto name = std::string{user->get_string()};
    if (e.type == "OrderCancelled") {
      // Ignores (apply's false) a cancellation of an order that is not one
      // of the user's open ones: the stream names random orders and users,
      // so most are ignored, and an ack must then leave the model out.
      auto t = totals_.find(name);
      if (t == totals_.end() || t->second.open.erase(id) == 0)
        return false;
      ++t->second.cancelled;
    } else {
      auto& t = totals_[name];
      ++t.orders;
      t.cents += e.payload.at("amount_cents").as_int64();
      t.open.insert(std::move(id));
    }
    return true;
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    auto i = totals_.find(std::string{key});
    if (i == totals_.end())
      return std::nullopt;
    return to_json(i->second);
  }
  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [k, t] : totals_)
      result[k] = to_json(t);
    return result;
  }
  void reset() override { totals_.clear(); }
  // Restored from its snapshot: the simulator restores whole snapshots too.
  bool restore(const boost::json::value& state) override {
    totals_.clear();
    auto* all = state.if_object();
    if (all == nullptr)
      return false;
    for (auto& kv : *all) {
      auto* t = kv.value().if_object();
      if (t == nullptr) {
        totals_.clear();
        return false;
      }
      auto field = [&](const char* name) {
        auto* x = t->if_contains(name);
        return x && x->is_int64() ? x->get_int64() : 0;
      };
      auto& restored = totals_[std::string{kv.key()}];
      restored = totals{field("orders"), field("cancelled"), field("cents"), {}};
      if (auto* open = t->if_contains("open"); open && open->is_array())
        for (auto& id : open->get_array())
          if (id.is_string())
            restored.open.emplace(id.get_string());
    }
    return true;
  }

private:
  struct totals {
    std::int64_t orders = 0;
    std::int64_t cancelled = 0;
    std::int64_t cents = 0;
    /// Placed and not cancelled since.
    std::set<std::string> open;
  };
  static boost::json::value to_json(const totals& t) {
    boost::json::array open;
    for (auto& id : t.open)
      open.emplace_back(id);
    return boost::json::object{{"orders", t.orders},
                               {"cancelled", t.cancelled},
                               {"cents", t.cents},
                               {"open", std::move(open)}};
  }
  std::string name_ = "order_totals";
  std::vector<std::string> types_{"OrderPlaced", "OrderCancelled"};
  std::map<std::string, totals> totals_;
};

// Counts events per type: for rare and absent types (an idle model), and
// for every type ("*"). It may ignore (apply's false) the events whose id
// ends in a given digit, as a model may decline some of the events of a
// type it handles: an ack must then leave it out.
class type_counter final : public read_model {
public:
  type_counter(std::string name, std::vector<std::string> types, char ignored = 0)
    : name_(std::move(name)), types_(std::move(types)), ignored_(ignored) {
    // nop
  }
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override {
    if (ignored_ != 0 && !e.id.empty() && e.id.back() == ignored_)
      return false;
    ++counts_[e.type];
    last_ = e.seq;
    return true;
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    auto i = counts_.find(std::string{key});
    if (i == counts_.end())
      return std::nullopt;
    return boost::json::value(i->second);
  }
  boost::json::value snapshot() const override {
    boost::json::object counts;
    for (auto& [k, n] : counts_)
      counts[k] = n;
    return boost::json::object{{"counts", std::move(counts)}, {"last", last_}};
  }
  void reset() override {
    counts_.clear();
    last_ = 0;
  }

private:
  std::string name_;
  std::vector<std::string> types_;
  char ignored_;
  std::map<std::string, std::int64_t> counts_;
  std::uint64_t last_ = 0;
};

} // namespace

std::vector<model_spec> shop_models() {
  std::vector<model_spec> result;
  result.push_back({"order_totals", [] { return std::make_unique<order_totals>(); }});
  // The declarative models exactly as the node ships them.
  auto config = parse_config(default_config_text());
  if (config)
    for (auto& spec : config->read_models)
      result.push_back(spec);
  result.push_back({"audit_log", [] {
                      return std::make_unique<type_counter>(
                        "audit_log", std::vector<std::string>{"Audit", "Refund"});
                    }});
  result.push_back({"every_event", [] {
                      return std::make_unique<type_counter>(
                        "every_event", std::vector<std::string>{"*"}, '7');
                    }});
  return result;
}

std::optional<std::string> shop_query_key(const std::string& model, const event& e) {
  auto field = [&](const char* name) -> std::optional<std::string> {
    auto* x = e.payload.if_contains(name);
    if (x == nullptr || !x->is_string())
      return std::nullopt;
    return std::string{x->get_string()};
  };
  if (model == "order_totals")
    return field("user");
  if (model == "user_listing")
    return field("id");
  if (model == "user_by_email")
    return field("email");
  if (model == "audit_log" || model == "every_event")
    return e.type;
  return std::nullopt;
}

event shop_event(std::mt19937_64& rng, std::size_t index) {
  event e;
  e.id = "e" + std::to_string(index);
  auto user = "user-" + std::to_string(rng() % 6);
  auto roll = rng() % 100;
  if (roll < 2) {
    // Rare: most runs have none, so audit_log sits idle.
    e.type = "Audit";
    e.payload = {{"note", "audit " + std::to_string(index)}};
  } else if (roll < 30) {
    e.type = "UserCreated";
    e.payload = {
      {"id", user}, {"email", user + "@shop.example"}, {"name", "User " + user}};
  } else if (roll < 45) {
    e.type = "UserUpdated";
    e.payload = {{"id", user},
                 {"email", user + "." + std::to_string(rng() % 3) + "@shop.example"}};
  } else if (roll < 52) {
    e.type = "UserDeleted";
    e.payload = {{"id", user}};
  } else if (roll < 88) {
    e.type = "OrderPlaced";
    e.payload = {{"order_id", "order-" + std::to_string(index)},
                 {"user", user},
                 {"amount_cents", static_cast<std::int64_t>(100 + rng() % 9900)}};
  } else {
    e.type = "OrderCancelled";
    e.payload = {{"order_id", "order-" + std::to_string(rng() % (index + 1))},
                 {"user", user}};
  }
  return e;
}

} // namespace bus::sim
