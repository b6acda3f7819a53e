// Puts a read model of its own through the installed simulator (bus::sim),
// as a user's test would, and prints how many seeds passed.
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "bus/sim/simulator.hpp"

namespace {

// Revenue per customer, folded from OrderPlaced events.
class revenue final : public bus::read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const bus::event& e) override {
    totals_[std::string{e.payload.at("customer").as_string()}]
      += e.payload.at("amount").as_int64();
    return true;
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    auto i = totals_.find(std::string{key});
    if (i == totals_.end())
      return std::nullopt;
    return boost::json::value(i->second);
  }
  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [k, v] : totals_)
      result[k] = v;
    return result;
  }
  bool restore(const boost::json::value& state) override {
    totals_.clear();
    for (auto& [k, v] : state.as_object())
      totals_[std::string{k}] = v.as_int64();
    return true;
  }
  void reset() override { totals_.clear(); }

private:
  std::string name_ = "revenue";
  std::vector<std::string> types_{"OrderPlaced"};
  std::map<std::string, std::int64_t> totals_;
};

} // namespace

int main() {
  std::vector<bus::model_spec> models{
    {"revenue", [] { return std::make_unique<revenue>(); }}};
  bus::sim::sim_options options;
  options.events = [](std::mt19937_64& rng, std::size_t i) {
    bus::event e;
    e.id = "e" + std::to_string(i);
    e.type = "OrderPlaced";
    e.payload = {{"customer", "c" + std::to_string(rng() % 5)},
                 {"amount", static_cast<std::int64_t>(rng() % 1000)}};
    return e;
  };
  int passed = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    auto result = bus::sim::simulate(models, options, seed);
    if (result.failure)
      std::cerr << "seed " << seed << ": " << result.failure->detail << "\n";
    else
      ++passed;
  }
  std::cout << "sim_consumer: " << passed << " of 50 seeds passed\n";
  return passed == 50 ? 0 : 1;
}
