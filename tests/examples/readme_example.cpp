// The C++ example of README.md, compiled and run as a test so that the
// README cannot drift from the API; readme-example-shown checks that the
// README shows this file as it is (all of it but this comment).

#include <cstdint>
#include <iostream>
#include <map>

#include <caf/all.hpp>

#include "bus/actors/await_applied.hpp"
#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/memory_log.hpp"

using namespace bus::actors;

// A read model: revenue per customer, folded from OrderPlaced events.
class revenue final : public bus::read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const bus::event& e) override { // may throw: the projector fails
    // field() reads one field where it is: an event read back from the log
    // (a catch-up, a rebuild) is not decoded for it. e.payload.object() is
    // the whole payload, decoded once for every model.
    auto customer = std::string{e.payload.field("customer").as_string()};
    totals_[customer] += e.payload.field("amount").as_int64();
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
    for (auto& [customer, total] : totals_)
      result[customer] = total;
    return result;
  }
  void reset() override { totals_.clear(); }

private:
  std::string name_ = "revenue";
  std::vector<std::string> types_{"OrderPlaced"};
  std::map<std::string, std::int64_t> totals_;
};

int main() {
  caf::actor_system_config cfg;
  bus::init(cfg); // registers every message type of the framework
  caf::actor_system sys{cfg};

  // The bus owns the log; the supervisor runs one projector per model and
  // restarts a failed one, which then replays the log.
  auto bus = spawn_bus(sys, std::make_shared<bus::memory_log>());
  std::vector<bus::model_spec> models{
    {"revenue", [] { return std::make_unique<revenue>(); }}};
  auto sup = spawn_supervisor(sys, bus, models);

  bus::event placed;
  placed.id = "order-1";
  placed.type = "OrderPlaced";
  placed.payload = {{"customer", "ada"}, {"amount", 4200}};

  caf::scoped_actor self{sys};
  // Answered once the events are in the log (the second copy is a
  // duplicate and gets the first one's seq).
  std::uint64_t seq = 0;
  self
    ->request(bus, caf::infinite, publish_atom::value,
              std::vector<bus::event>{placed, placed}, publish_wait::log)
    .receive(
      [&](publish_ack& ack) {
        seq = ack.outcomes[0].seq;
        std::cout << "appended seq " << seq
                  << ", duplicate: " << ack.outcomes[1].duplicate << "\n";
      },
      [](caf::error&) {});
  // Read your own write: wait until every read model has applied it.
  auto applied = await_applied(self, sup, seq, std::nullopt, std::chrono::seconds{5});
  if (!applied) { // errc::timed_out names the models still behind
    std::cout << sys.render(applied.error()) << "\n";
    return 1;
  }
  for (auto& m : *applied)
    std::cout << m.model << " applied up to seq " << m.checkpoint << "\n";
  self
    ->request(sup, caf::infinite, query_atom::value, std::string{"revenue"},
              std::string{"ada"})
    .receive([](query_result& r) { std::cout << "ada: " << r.value << "\n"; },
             [&](caf::error& err) { std::cout << sys.render(err) << "\n"; });

  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
}
