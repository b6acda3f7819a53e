#pragma once

// The two read models of bus-poison-child, each throwing on its poison
// events (poison_stream.hpp) until `fixed`:
// - poisoned_tally: a C++ model in memory (snapshots), n summed per key;
// - poisoned_listing: a declarative document model in a table. It wraps
//   document_model (which is final) and forwards everything, change
//   tracking included, so that it persists to its table as the node's
//   declarative models do; a poison event throws before the document model
//   sees it, so a failed apply records no change.

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bus/document_model.hpp"
#include "bus/read_model.hpp"
#include "support/sum_model.hpp"

namespace bus::parking::test {

class poisoned_tally final : public bus::test::sum_model {
public:
  poisoned_tally(std::set<std::string> poison, bool fixed)
    : poison_(std::move(poison)), fixed_(fixed) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }

  bool apply(const event& e) override {
    if (!fixed_ && poison_.count(e.id) > 0)
      throw std::runtime_error("tally poisoned by " + e.id);
    add(e.payload.at("id").as_string(), e.payload.at("n").as_int64());
    return true;
  }

  std::optional<std::string> key_of(const event& e) const override {
    return std::string{e.payload.at("id").as_string()};
  }

  // The same whether fixed or not: a fix must not throw the snapshot away.
  std::string definition() const override { return "poisoned_tally/1"; }

private:
  std::string name_ = "tally";
  std::vector<std::string> types_{"Set", "Add"};
  std::set<std::string> poison_;
  bool fixed_;
};

class poisoned_listing final : public read_model {
public:
  poisoned_listing(std::set<std::string> poison, bool fixed)
    : inner_(document_model_config{"listing", "id", {"Set"}, {"Add"}, {}, {}}),
      poison_(std::move(poison)),
      fixed_(fixed) {
    // nop
  }

  const std::string& name() const noexcept override { return inner_.name(); }
  const std::vector<std::string>& event_types() const noexcept override {
    return inner_.event_types();
  }

  bool apply(const event& e) override {
    if (!fixed_ && poison_.count(e.id) > 0)
      throw std::runtime_error("listing poisoned by " + e.id);
    return inner_.apply(e);
  }

  std::optional<std::string> key_of(const event& e) const override {
    return inner_.key_of(e);
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    return inner_.query(key);
  }
  boost::json::value snapshot() const override { return inner_.snapshot(); }
  bool restore(const boost::json::value& state) override {
    return inner_.restore(state);
  }
  std::string definition() const override { return inner_.definition(); }
  void reset() override { inner_.reset(); }
  bool track_changes() override { return inner_.track_changes(); }
  void take_changes(std::vector<std::string>& out) override {
    inner_.take_changes(out);
  }

private:
  document_model inner_;
  std::set<std::string> poison_;
  bool fixed_;
};

} // namespace bus::parking::test
