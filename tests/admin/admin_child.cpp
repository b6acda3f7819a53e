// bus-admin-child: a bus with two C++ read models that misbehave on
// demand, behind the admin endpoint (the same library as bus-node's), for
// the end-to-end test of what bus-node's declarative models cannot do:
// parked events and a failed model.
//
//   bus-admin-child --admin HOST:PORT
//
// - "ledger" sums payload.n per payload.k; an event with payload.poison N
//   throws on its first N applies (counted across restarts and retries),
//   and is parked after one attempt;
// - "fragile" counts events; one with payload.fail true makes it fail for
//   good (no retry, no restart budget, no cool-down).
// Each stdin line is an event {"id", "type", "payload"}: it is published,
// waiting for the models, and answered "ack <seq>" on stdout (or
// "error <text>"). The endpoint's URL goes to stderr, as bus-node reports
// it. At end of input it stops.

#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/json/parse.hpp>
#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/init.hpp"
#include "bus/actors/supervisor.hpp"
#include "bus/admin/server.hpp"
#include "bus/endpoint.hpp"
#include "bus/errc.hpp"
#include "bus/event_codec.hpp"
#include "bus/memory_log.hpp"

using namespace bus;
using namespace bus::actors;

namespace {

// Applies tried per event id, shared by every incarnation of the ledger.
struct attempt_book {
  std::mutex mutex;
  std::map<std::string, std::int64_t> tried;

  // Counts one more apply of `id`; true while it must still throw.
  bool still_poisoned(const std::string& id, std::int64_t poison) {
    std::lock_guard<std::mutex> guard{mutex};
    return ++tried[id] <= poison;
  }
};

class ledger final : public read_model {
public:
  explicit ledger(std::shared_ptr<attempt_book> book) : book_(std::move(book)) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (auto* p = e.payload.if_contains("poison");
        p && p->is_int64() && book_->still_poisoned(e.id, p->get_int64()))
      throw std::runtime_error("ledger cannot book " + e.id);
    auto& key = e.payload.at("k").as_string();
    totals_[std::string{key}] += e.payload.at("n").as_int64();
    return true;
  }

  std::optional<std::string> key_of(const event& e) const override {
    return std::string{e.payload.at("k").as_string()};
  }

  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = totals_.find(std::string{key}); i != totals_.end())
      return boost::json::value(i->second);
    return std::nullopt;
  }

  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [k, n] : totals_)
      result[k] = n;
    return result;
  }

  void reset() override { totals_.clear(); }

private:
  std::shared_ptr<attempt_book> book_;
  std::string name_ = "ledger";
  std::vector<std::string> types_{"Booked"};
  std::map<std::string, std::int64_t> totals_;
};

class fragile final : public read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (auto* f = e.payload.if_contains("fail"); f && f->is_bool() && f->get_bool())
      throw std::runtime_error("fragile broke on " + e.id);
    ++count_;
    return true;
  }

  std::optional<boost::json::value> query(std::string_view) const override {
    return boost::json::value(count_);
  }

  boost::json::value snapshot() const override { return count_; }
  void reset() override { count_ = 0; }

private:
  std::string name_ = "fragile";
  std::vector<std::string> types_{"Booked"};
  std::int64_t count_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string{argv[1]} != "--admin") {
    std::cerr << "usage: bus-admin-child --admin HOST:PORT\n";
    return 2;
  }
  auto at = parse_endpoint(argv[2]);
  if (!at) {
    std::cerr << "bus-admin-child: --admin: " << context_of(at.error()) << "\n";
    return 2;
  }
  caf::actor_system_config cfg;
  bus::init(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto book = std::make_shared<attempt_book>();
  model_spec ledger_spec{"ledger", [book] { return std::make_unique<ledger>(book); }};
  ledger_spec.recovery.attempts = 1; // park at once
  model_spec fragile_spec{"fragile", [] { return std::make_unique<fragile>(); }};
  fragile_spec.recovery.attempts = 1;
  fragile_spec.recovery.then = on_poison::stop;
  supervision_policy policy;
  policy.max_restarts = 0; // failed at its first failure
  policy.cooldown = std::chrono::milliseconds{0};
  auto bus = spawn_bus(sys, std::make_shared<memory_log>(), bus_options{});
  auto sup = spawn_supervisor(sys, bus,
                              std::vector<model_spec>{ledger_spec, fragile_spec},
                              policy, projector_options{});
  caf::scoped_actor self{sys};
  self->request(sup, caf::infinite, ready_atom::value)
    .receive([](std::vector<projector_status>&) {}, [](caf::error&) {});
  auto served = admin::serve(sys, admin::admin_options::of_bus_node(*at, bus, sup));
  if (!served) {
    std::cerr << "bus-admin-child: " << context_of(served.error()) << "\n";
    self->send_exit(sup, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    return 2;
  }
  std::cerr << "bus-admin-child: admin endpoint on " << (*served)->url() << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
    boost::system::error_code ec;
    auto json = boost::json::parse(line, ec);
    auto e = ec ? caf::expected<event>{make_error(errc::invalid_event, "not JSON")}
                : event_from_json(json);
    if (!e) {
      std::cout << "error " << context_of(e.error()) << std::endl;
      continue;
    }
    self
      ->request(bus, caf::infinite, publish_atom::value, std::vector<event>{*e},
                publish_wait::projectors)
      .receive(
        [](publish_ack& ack) {
          std::cout << "ack " << ack.outcomes[0].seq << std::endl;
        },
        [&](caf::error& err) {
          std::cout << "error " << sys.render(err) << std::endl;
        });
  }
  served->reset();
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return 0;
}
