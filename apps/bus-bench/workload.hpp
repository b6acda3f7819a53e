#pragma once

// The benchmark's workload: generated events and a simple folding read
// model, shared by the actor pipelines and the plain loops they are
// compared with, so that both do the same work.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/read_model.hpp"

namespace bench {

/// `n` events "e<i>" of types A..D with payload {"k": "key<i % keys>", "n": i}.
std::vector<bus::event> make_events(std::size_t n, std::size_t keys = 100000);

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
  std::unordered_map<std::string, std::int64_t> sums_;
  std::string scratch_;
};

bus::model_spec sum_spec(std::string name);

} // namespace bench
