#pragma once

// Read models for actor tests. tally_model folds payload.n per payload.k and
// records the seq of every event it applies, so tests can check order and
// exactly-once; it can be told to throw on a given seq.

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bus/read_model.hpp"

namespace bus::test {

/// Decides whether a tally model throws on an event.
struct fault_plan {
  /// Throw when applying the event with this seq (0: never).
  std::uint64_t throw_on_seq = 0;
  /// How many incarnations still throw there (-1: every one).
  int times = 1;
  /// Seqs that throw on every attempt while `poisoned` (a bug in the model
  /// until it is fixed).
  std::set<std::uint64_t> poison{};
  bool poisoned = true;
  /// Throws left for each seq that throws a few times and then works.
  std::map<std::uint64_t, int> transient{};
};

class tally_model final : public read_model {
public:
  tally_model(std::string name, std::vector<std::string> types,
              std::shared_ptr<fault_plan> faults = nullptr)
    : name_(std::move(name)), types_(std::move(types)), faults_(std::move(faults)) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }

  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (faults_ && faults_->throw_on_seq == e.seq && faults_->times != 0) {
      if (faults_->times > 0)
        --faults_->times;
      throw std::runtime_error("injected fault");
    }
    if (faults_ && faults_->poisoned && faults_->poison.count(e.seq) > 0)
      throw std::runtime_error("poison at seq " + std::to_string(e.seq));
    if (faults_) {
      if (auto i = faults_->transient.find(e.seq);
          i != faults_->transient.end() && i->second > 0) {
        --i->second;
        throw std::runtime_error("transient fault");
      }
    }
    auto* k = e.payload.if_contains("k");
    if (k == nullptr || !k->is_string())
      return false;
    auto n = e.payload.contains("n") ? e.payload.at("n").as_int64() : 1;
    sums_[std::string{k->get_string()}] += n;
    seqs_.push_back(e.seq);
    return true;
  }

  std::optional<std::string> key_of(const event& e) const override {
    if (auto* k = e.payload.if_contains("k"); k && k->is_string())
      return std::string{k->get_string()};
    return std::nullopt;
  }

  bool key_local() const noexcept override { return true; }

  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = sums_.find(std::string{key}); i != sums_.end())
      return boost::json::value(i->second);
    return std::nullopt;
  }

  boost::json::value snapshot() const override {
    boost::json::object sums;
    for (auto& [k, n] : sums_)
      sums[k] = n;
    boost::json::array seqs;
    for (auto s : seqs_)
      seqs.emplace_back(s);
    return boost::json::object{{"sums", std::move(sums)}, {"seqs", std::move(seqs)}};
  }

  void reset() override {
    sums_.clear();
    seqs_.clear();
  }

private:
  std::string name_;
  std::vector<std::string> types_;
  std::shared_ptr<fault_plan> faults_;
  std::map<std::string, std::int64_t> sums_;
  std::vector<std::uint64_t> seqs_;
};

/// The policy of a model that fails at once on an event it throws on (no
/// retry, no parking): supervision tests see the failure and the restart.
inline recovery_policy stop_at_once() {
  recovery_policy result;
  result.attempts = 1;
  result.then = on_poison::stop;
  return result;
}

/// A tally model that stops at its first failure (stop_at_once).
inline model_spec tally(std::string name, std::vector<std::string> types,
                        std::shared_ptr<fault_plan> faults = nullptr) {
  model_spec result{name,
                    [=] { return std::make_unique<tally_model>(name, types, faults); }};
  result.recovery = stop_at_once();
  return result;
}

/// The state a tally model of `types` must reach after `events`, computed
/// here independently of tally_model: {"sums": {...}, "seqs": [...]}.
inline boost::json::value expected_tally(const std::vector<event>& log,
                                         const std::vector<std::string>& types) {
  std::map<std::string, std::int64_t> sums;
  boost::json::array seqs;
  for (auto& e : log) {
    bool wanted = false;
    for (auto& t : types)
      wanted = wanted || t == e.type || t == "*";
    if (!wanted || !e.payload.contains("k"))
      continue;
    sums[std::string{e.payload.at("k").as_string()}] += e.payload.contains("n")
                                                          ? e.payload.at("n").as_int64()
                                                          : 1;
    seqs.emplace_back(e.seq);
  }
  boost::json::object obj;
  for (auto& [k, n] : sums)
    obj[k] = n;
  return boost::json::object{{"sums", std::move(obj)}, {"seqs", std::move(seqs)}};
}

} // namespace bus::test
