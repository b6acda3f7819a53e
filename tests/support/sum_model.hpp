#pragma once

// A base for test read models that sum an integer per key: the state, its
// queries, snapshot, restore and reset. A model says which events it takes
// and what each adds (add()); payload_sums adds payload.n to payload.k.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "bus/read_model.hpp"

namespace bus::test {

class sum_model : public read_model {
public:
  std::optional<boost::json::value> query(std::string_view key) const override {
    if (auto i = sums_.find(std::string{key}); i != sums_.end())
      return boost::json::value(i->second);
    return std::nullopt;
  }

  boost::json::value snapshot() const override {
    boost::json::object result;
    for (auto& [k, n] : sums_)
      result[k] = n;
    return result;
  }

  bool restore(const boost::json::value& state) override {
    sums_.clear();
    for (auto& kv : state.as_object())
      sums_[std::string{kv.key()}] = kv.value().as_int64();
    return true;
  }

  void reset() override { sums_.clear(); }

protected:
  /// Adds `n` to the sum of `key`.
  void add(std::string_view key, std::int64_t n) { sums_[std::string{key}] += n; }

private:
  std::map<std::string, std::int64_t> sums_;
};

/// Sums payload.n per payload.k over the events of its types.
class payload_sums : public sum_model {
public:
  payload_sums(std::string name, std::vector<std::string> types)
    : name_(std::move(name)), types_(std::move(types)) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }

  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    add(e.payload.at("k").as_string(), e.payload.at("n").as_int64());
    return true;
  }

private:
  std::string name_;
  std::vector<std::string> types_;
};

} // namespace bus::test
