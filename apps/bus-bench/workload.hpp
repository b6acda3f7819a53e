#pragma once

// The benchmark's workload: generated events and a simple folding read
// model, shared by the actor pipelines and the plain loops they are
// compared with, so that both do the same work.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bus/growing_map.hpp"
#include "bus/read_model.hpp"

namespace bench {

/// The keys of make_events: its first `default_keys` events create them.
constexpr std::size_t default_keys = 100000;

/// `n` events "e<i>" of types A..D with payload {"k": "key<i % keys>", "n": i}.
std::vector<bus::event> make_events(std::size_t n, std::size_t keys = default_keys);

/// The same events for i in [first, first + n).
std::vector<bus::event> make_event_range(std::size_t first, std::size_t n,
                                         std::size_t keys = 100000);

/// Folds payload.n per payload.k: the apply every projector does.
class sum_model final : public bus::read_model {
public:
  explicit sum_model(std::string name);

  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override;
  bool apply(const bus::event& e) override;
  std::optional<boost::json::value> query(std::string_view key) const override;
  boost::json::value snapshot() const override;
  void reset() override { sums_.clear(); }

  std::size_t size() const noexcept { return sums_.size(); }

private:
  std::string name_;
  // An open-addressing map that grows without a stall, as the project's own
  // read models keep their keys (bus/growing_map.hpp): a std::unordered_map
  // of std::string took 45 % of the pipeline's samples, hiding what the
  // framework costs, and a flat map's doublings set the latency's tail.
  bus::growing_map<std::string, std::int64_t, bus::string_hash, bus::string_equal>
    sums_;
};

bus::model_spec sum_spec(std::string name);

} // namespace bench
