#include "bus/read_model.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace bus;

namespace {

/// A model that only counts what it applies.
class counting_model final : public bus::read_model {
public:
  explicit counting_model(std::vector<std::string> types) : types_(std::move(types)) {
    // nop
  }

  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event&) override {
    ++count_;
    return true;
  }
  std::optional<boost::json::value> query(std::string_view) const override {
    return boost::json::value(count_);
  }
  boost::json::value snapshot() const override { return count_; }
  void reset() override { count_ = 0; }

private:
  std::string name_ = "counting";
  std::vector<std::string> types_;
  std::int64_t count_ = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(read_model)

BOOST_AUTO_TEST_CASE(model_handles_exactly_its_types) {
  counting_model m{{"UserCreated", "UserDeleted"}};
  BOOST_TEST(m.handles("UserCreated"));
  BOOST_TEST(m.handles("UserDeleted"));
  BOOST_TEST(!m.handles("UserUpdated"));
  BOOST_TEST(!m.handles(""));
  BOOST_TEST(!m.handles("*"));
  BOOST_TEST(!m.handles("UserCreatedX"));
}

BOOST_AUTO_TEST_CASE(star_model_handles_every_type) {
  counting_model m{{"*"}};
  BOOST_TEST(m.handles("UserCreated"));
  BOOST_TEST(m.handles("AnythingElse"));
  counting_model mixed{{"A", "*"}};
  BOOST_TEST(mixed.handles("B"));
}

BOOST_AUTO_TEST_CASE(model_without_types_handles_nothing) {
  counting_model m{{}};
  BOOST_TEST(!m.handles("UserCreated"));
}

BOOST_AUTO_TEST_CASE(factory_makes_a_fresh_model_each_call) {
  model_spec spec{
    "counting",
    [] { return std::make_unique<counting_model>(std::vector<std::string>{"A"}); }};
  read_model_ptr first = spec.make();
  first->apply(bus::event{});
  first->apply(bus::event{});
  read_model_ptr second = spec.make();
  BOOST_TEST(first->snapshot() == boost::json::value(2));
  BOOST_TEST(second->snapshot() == boost::json::value(0));
  BOOST_TEST(spec.name == "counting");
}

BOOST_AUTO_TEST_CASE(a_model_has_no_key_unless_it_says_so) {
  // Its events are independent: a parked one holds nothing back.
  counting_model m{{"A"}};
  bus::event e;
  e.type = "A";
  e.payload["id"] = "u1";
  BOOST_TEST(!m.key_of(e));
}

BOOST_AUTO_TEST_CASE(a_spec_parks_poison_events_unless_told_otherwise) {
  model_spec spec{
    "counting",
    [] { return std::make_unique<counting_model>(std::vector<std::string>{"A"}); }};
  BOOST_TEST((spec.recovery.then == on_poison::park));
  spec.recovery.then = on_poison::stop; // a C++ model may choose
  spec.recovery.order = key_order::none;
  BOOST_TEST((spec.recovery.order == key_order::none));
}

BOOST_AUTO_TEST_SUITE_END()
