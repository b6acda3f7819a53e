#include "partitions.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bus/actors/bus_actor.hpp"
#include "bus/actors/projector.hpp"
#include "bus/memory_log.hpp"
#include "bus/partitions.hpp"
#include "workload.hpp"

using namespace bus::actors;

namespace bench {

namespace {

// Rounds of hashing per event: a few microseconds on this machine kind
// (the report names the cost the plain loop measured).
constexpr int work_rounds = 400;

// Sums payload.n per payload.k after hashing the key `work_rounds` times,
// standing in for a model that computes something per event.
class busy_sum final : public bus::read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const bus::event& e) override {
    auto& k = e.payload.at("k").get_string();
    std::uint64_t h = 0;
    for (int i = 0; i < work_rounds; ++i)
      h = h * 31 + bus::partition_of(k, 1u << 30) + static_cast<std::uint64_t>(i);
    auto& slot = sums_[std::string{k.data(), k.size()}];
    slot.first += e.payload.at("n").get_int64();
    slot.second ^= h;
    return true;
  }
  std::optional<std::string> key_of(const bus::event& e) const override {
    return std::string{e.payload.at("k").get_string()};
  }
  bool key_local() const noexcept override { return true; }
  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = sums_.find(std::string{key}); i != sums_.end())
      return boost::json::value(i->second.first);
    return std::nullopt;
  }
  boost::json::value snapshot() const override { return boost::json::object{}; }
  void reset() override { sums_.clear(); }

private:
  std::string name_ = "busy";
  std::vector<std::string> types_{"*"};
  std::unordered_map<std::string, std::pair<std::int64_t, std::uint64_t>> sums_;
};

bus::model_spec busy_spec(std::uint32_t partitions) {
  bus::model_spec spec{"busy", [] { return std::make_unique<busy_sum>(); }};
  spec.partitions = partitions;
  return spec;
}

// Publishes `events` (unawaited) to the partitions of the model and returns
// the rate until every partition has caught up.
double run_once(const options& opt, const std::vector<bus::event>& events,
                std::uint32_t partitions) {
  system_holder h;
  caf::scoped_actor self{*h.sys};
  auto bus = spawn_bus(*h.sys, std::make_shared<bus::memory_log>(), open_loop_bus());
  std::vector<projector_actor> ps;
  for (auto& spec : bus::partition_specs(busy_spec(partitions)))
    ps.push_back(spawn_projector(*h.sys, bus, spec));
  for (auto& p : ps)
    self->request(p, caf::infinite, ready_atom::value)
      .receive([](projector_status&) {}, [](caf::error&) {});
  auto t0 = clock_type::now();
  for (auto& b : split(events, opt.batch_size))
    caf::anon_send(bus, publish_atom::value, std::move(b), publish_wait::log);
  wait_caught_up(self, ps, events.size());
  auto result = per_second(events.size(), seconds_since(t0));
  for (auto& p : ps)
    self->send_exit(p, caf::exit_reason::user_shutdown);
  self->send_exit(bus, caf::exit_reason::user_shutdown);
  return result;
}

double partitions_loop(const std::vector<bus::event>& events) {
  busy_sum model;
  auto t0 = clock_type::now();
  for (auto& e : events)
    model.apply(e);
  return per_second(events.size(), seconds_since(t0));
}

} // namespace

void partitions(const options& opt, const std::vector<bus::event>& events,
                report& out) {
  const std::uint32_t counts[] = {1, 2, 4};
  std::vector<std::vector<double>> rates(std::size(counts));
  std::vector<double> loop_rates;
  // Interleaved, so that the machine's noise hits every variant alike.
  for (std::size_t run = 0; run < opt.runs; ++run) {
    for (std::size_t i = 0; i < std::size(counts); ++i)
      rates[i].push_back(run_once(opt, events, counts[i]));
    loop_rates.push_back(partitions_loop(events));
  }
  auto loop = median(loop_rates);
  auto whole = median(rates[0]);
  for (std::size_t i = 0; i < std::size(counts); ++i) {
    auto rate = median(rates[i]);
    boost::json::object extra;
    extra["partitions"] = counts[i];
    extra["of_one_partition"] = whole > 0 ? rate / whole : 0;
    char note[64];
    std::snprintf(note, sizeof note, "%.2fx of one partition",
                  rate / std::max(whole, 1e-9));
    // The model's cost as the plain loop measured it, in this run.
    char name[64];
    std::snprintf(name, sizeof name, "busy model (%.1f us/event), %u partition(s)",
                  1e6 / std::max(loop, 1e-9), counts[i]);
    out.rate("partitions_" + std::to_string(counts[i]), name, rate, loop,
             "apply to the model, 1 thread", std::move(extra),
             counts[i] == 1 ? std::string{} : std::string{note});
  }
}

} // namespace bench
