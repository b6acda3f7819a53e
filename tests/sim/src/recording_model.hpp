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
//
// Snapshots carry what the fold check needs besides the model's state: the
// seqs applied so far, in order, and those an operator discarded (the world
// tells the model right before a discard runs). A model that tracks its
// changes holds them as two more rows (keys "\u0000applied" and
// "\u0000discarded"), one that does not wraps its state with them. A
// restored instance goes on from them: a seq it restored and applies again
// is applied twice.

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
  std::optional<boost::json::value> query(std::string_view key) const override;
  boost::json::value snapshot() const override;
  void reset() override;
  bool restore(const boost::json::value& state) override;
  void expect_rows(std::size_t rows) override { inner_->expect_rows(rows); }
  bool restore_row(std::string_view key, const boost::json::value& value) override;
  std::string definition() const override { return inner_->definition(); }
  std::optional<std::string> key_of(const event& e) const override {
    return inner_->key_of(e);
  }
  bool key_local() const noexcept override { return inner_->key_local(); }
  bool track_changes() override;
  void take_changes(std::vector<std::string>& out) override;
  bool write_value(std::string_view key, std::string& out) const override;
  bool holds(std::string_view key) const override;

  /// The seqs applied since the last reset, in the order applied (the
  /// fold check replays them in this order); restored ones first.
  const std::vector<std::uint64_t>& applied_order() const { return order_; }

  /// The wrapped model's state: what a fold of the log gives.
  boost::json::value inner_snapshot() const { return inner_->snapshot(); }

  /// Notes that an operator discards these parked seqs now.
  void discard(const std::set<std::uint64_t>& seqs);

  /// The seqs discarded since the last reset (restored ones too): a fold of
  /// what the instance applied leaves them out.
  const std::set<std::uint64_t>& discarded() const { return discarded_; }

private:
  // The extra rows (and fields of a wrapped state) of a snapshot.
  boost::json::value extra(std::string_view key) const;

  read_model_ptr inner_;
  journal_ptr journal_;
  key_order key_order_;
  std::set<std::uint64_t> applied_;
  std::vector<std::uint64_t> order_;
  std::uint64_t last_seq_ = 0;
  /// Under per_key: the last seq applied per key.
  std::map<std::string, std::uint64_t> last_of_key_;
  std::set<std::uint64_t> discarded_;
  bool tracks_ = false;
  /// The extra rows changed since take_changes().
  bool order_changed_ = false;
  bool discarded_changed_ = false;
};

/// The recording model inside `model`, looking through decorators (a
/// partition's filter wraps the recording model it was made of); null when
/// there is none.
const recording_model* recording_of(const read_model& model);
recording_model* recording_of(read_model& model);

/// The spec of `spec` with its models wrapped.
model_spec recorded(const model_spec& spec, journal_ptr log);

} // namespace bus::sim
