#pragma once

// A small aggregate for the command side's tests: a bank account whose
// state depends on the order of its events (a digest folds every amount
// with its stream version), so that a rebuild in the wrong order, or one
// that skips or repeats an event, shows.
//
// Commands: Open {owner}, Deposit {amount}, Withdraw {amount} (refused
// beyond the balance), Touch (changes nothing), Corrupt (decides an event
// the aggregate itself cannot apply).

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bus/aggregate.hpp"
#include "bus/errc.hpp"
#include "bus/event_stream.hpp"

namespace bus::test {

class account final : public aggregate {
public:
  void apply(const event& e) override {
    auto pos = stream_of(e);
    auto version = pos ? pos->version : 0;
    if (e.type == "Opened") {
      open_ = true;
      owner_ = e.payload.at("owner").as_string();
    } else if (e.type == "Deposited") {
      balance_ += e.payload.at("amount").as_int64();
    } else if (e.type == "Withdrew") {
      balance_ -= e.payload.at("amount").as_int64();
    } else {
      throw std::runtime_error("account cannot apply '" + e.type + "'");
    }
    digest_ = digest_ * 1000003u + version * 7919u
              + static_cast<std::uint64_t>(balance_);
  }

  caf::expected<std::vector<decided_event>> handle(const command& c) const override {
    auto refuse = [&](std::string why) {
      return make_error(errc::command_rejected, c.name + ": " + why);
    };
    if (c.name == "Touch")
      return std::vector<decided_event>{};
    if (c.name == "Corrupt")
      return std::vector<decided_event>{{"Bogus", {}}};
    if (c.name == "Open") {
      if (open_)
        return refuse("already open");
      return std::vector<decided_event>{{"Opened", {{"owner", c.data.at("owner")}}}};
    }
    if (!open_)
      return refuse("not open");
    auto* amount = c.data.if_contains("amount");
    if (amount == nullptr || !amount->is_int64() || amount->get_int64() <= 0)
      return refuse("amount must be a positive integer");
    if (c.name == "Deposit")
      return std::vector<decided_event>{{"Deposited", {{"amount", *amount}}}};
    if (amount->get_int64() > balance_)
      return refuse("insufficient balance " + std::to_string(balance_));
    return std::vector<decided_event>{{"Withdrew", {{"amount", *amount}}}};
  }

  boost::json::value snapshot() const override {
    return boost::json::object{
      {"open", open_}, {"owner", owner_}, {"balance", balance_}, {"digest", digest_}};
  }

  void restore(const boost::json::value& state) override {
    auto& obj = state.as_object();
    open_ = obj.at("open").as_bool();
    owner_ = obj.at("owner").as_string();
    balance_ = obj.at("balance").as_int64();
    digest_ = obj.at("digest").to_number<std::uint64_t>();
  }

  std::int64_t balance() const noexcept { return balance_; }

private:
  bool open_ = false;
  std::string owner_;
  std::int64_t balance_ = 0;
  std::uint64_t digest_ = 0;
};

inline aggregate_type account_type() {
  return {"account", {"Open", "Deposit", "Withdraw", "Touch", "Corrupt"}, [] {
            return std::make_unique<account>();
          }};
}

/// Makes a command.
inline command make_command(std::string name, std::string stream,
                            std::uint64_t expected_version,
                            boost::json::object data = {}) {
  return command{std::move(name), std::move(stream), expected_version, std::move(data)};
}

} // namespace bus::test
