#pragma once

// A read model that wraps another and forwards every call to it: the base
// of decorators that change one or two things (a partition's name and
// filter, a renamed instance) and leave the rest to the inner model. The
// record form of snapshot rows (snapshot_row_form, write_record,
// restore_record) is not forwarded: left to the defaults, rows go through
// write_value() and restore_row(), which a decorator may change.

#include "bus/read_model.hpp"

namespace bus {

class forwarding_model : public read_model {
public:
  explicit forwarding_model(read_model_ptr inner);

  const std::string& name() const noexcept override;
  const std::vector<std::string>& event_types() const noexcept override;
  bool apply(const event& e) override;
  std::optional<boost::json::value> query(std::string_view key) const override;
  boost::json::value snapshot() const override;
  void reset() override;
  bool restore(const boost::json::value& state) override;
  void expect_rows(std::size_t rows) override;
  bool restore_row(std::string_view key, const boost::json::value& value) override;
  std::string definition() const override;
  bool track_changes() override;
  void take_changes(std::vector<std::string>& out) override;
  bool write_value(std::string_view key, std::string& out) const override;
  bool holds(std::string_view key) const override;
  std::optional<std::string> key_of(const event& e) const override;
  bool key_local() const noexcept override;

  /// The wrapped model (tests look through decorators to what they wrap).
  read_model& inner() noexcept { return *inner_; }
  const read_model& inner() const noexcept { return *inner_; }

private:
  read_model_ptr inner_;
};

} // namespace bus
