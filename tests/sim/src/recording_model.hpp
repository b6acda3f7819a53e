#pragma once

// Wraps a user's read model so that every apply is recorded in the journal:
// each instance (and each reset of it, an explicit rebuild) is an epoch in
// which a seq may be applied once and in increasing order; a violation is
// recorded the moment it happens. The wrapper also injects the poison
// plan's throws. Everything else is forwarded unchanged.
//
// An operator's retry of parked events applies them after later seqs: such
// an apply (journal::retrying) may go back in seq order, but under
// key_order::per_key never within its key.

#include <map>
#include <set>

#include "bus/read_model.hpp"
#include "journal.hpp"

namespace bus::sim {

class recording_model final : public read_model {
public:
  recording_model(read_model_ptr inner, journal_ptr log, key_order order);

  const std::string& name() const noexcept override { return inner_->name(); }
  const std::vector<std::string>& event_types() const noexcept override {
    return inner_->event_types();
  }
  bool apply(const event& e) override;
  std::optional<boost::json::value> query(std::string_view key) const override {
    return inner_->query(key);
  }
  boost::json::value snapshot() const override { return inner_->snapshot(); }
  void reset() override;
  bool restore(const boost::json::value& state) override;
  std::string definition() const override { return inner_->definition(); }
  std::optional<std::string> key_of(const event& e) const override {
    return inner_->key_of(e);
  }

  /// The seqs applied since the last reset, in the order applied (the
  /// fold check replays them in this order).
  const std::vector<std::uint64_t>& applied_order() const { return order_; }

private:
  read_model_ptr inner_;
  journal_ptr journal_;
  key_order key_order_;
  std::set<std::uint64_t> applied_;
  std::vector<std::uint64_t> order_;
  std::uint64_t last_seq_ = 0;
  /// Under per_key: the last seq applied per key.
  std::map<std::string, std::uint64_t> last_of_key_;
};

/// The spec of `spec` with its models wrapped.
model_spec recorded(const model_spec& spec, journal_ptr log);

} // namespace bus::sim
