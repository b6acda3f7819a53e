#pragma once

// A read model written in C++, as a user of the framework would: orders and
// revenue per user. For the demo it can be told to throw once, on its N-th
// event, the way a model whose database drops a connection would.

#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "bus/read_model.hpp"

namespace demo {

class order_totals final : public bus::read_model {
public:
  /// Throws on the `fail_at`-th applied event while `*fail_once` is true,
  /// then clears it (shared by every incarnation of the model).
  order_totals(std::uint64_t fail_at, std::shared_ptr<std::atomic<bool>> fail_once);

  const std::string& name() const noexcept override;
  const std::vector<std::string>& event_types() const noexcept override;
  bool apply(const bus::event& e) override;
  std::optional<boost::json::value> query(std::string_view key) const override;
  boost::json::value snapshot() const override;
  void reset() override;

private:
  struct totals {
    std::int64_t orders = 0;
    std::int64_t cancelled = 0;
    std::int64_t revenue_cents = 0;
  };

  std::uint64_t fail_at_;
  std::shared_ptr<std::atomic<bool>> fail_once_;
  std::uint64_t seen_ = 0;
  std::map<std::string, totals> by_user_;
};

} // namespace demo
