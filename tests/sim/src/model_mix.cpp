#include "model_mix.hpp"

namespace bus::sim {

namespace {

// A model under another name; everything else is the inner model's. The
// name is what the bus subscribes, the supervisor routes and acks name.
class renamed_model final : public read_model {
public:
  renamed_model(read_model_ptr inner, std::string name)
    : inner_(std::move(inner)), name_(std::move(name)) {
    // nop
  }
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return inner_->event_types();
  }
  bool apply(const event& e) override { return inner_->apply(e); }
  std::optional<boost::json::value> query(std::string_view key) const override {
    return inner_->query(key);
  }
  boost::json::value snapshot() const override { return inner_->snapshot(); }
  void reset() override { inner_->reset(); }
  bool restore(const boost::json::value& state) override {
    return inner_->restore(state);
  }
  std::string definition() const override { return inner_->definition(); }
  bool track_changes() override { return inner_->track_changes(); }
  void take_changes(std::vector<std::string>& out) override {
    inner_->take_changes(out);
  }
  std::optional<std::string> key_of(const event& e) const override {
    return inner_->key_of(e);
  }

private:
  read_model_ptr inner_;
  std::string name_;
};

} // namespace

model_mix choose_models(std::mt19937_64& rng, const std::vector<model_spec>& given) {
  model_mix result;
  if (given.empty())
    return result;
  auto n = 1 + rng() % 8;
  std::map<std::string, int> drawn;
  for (std::size_t i = 0; i < n; ++i) {
    auto& spec = given[rng() % given.size()];
    auto count = ++drawn[spec.name];
    auto copy = spec;
    if (count > 1) {
      copy.name = spec.name + "_" + std::to_string(count);
      auto make = spec.make;
      auto name = copy.name;
      copy.make = [make, name] {
        return std::make_unique<renamed_model>(make(), name);
      };
    }
    result.base[copy.name] = spec.name;
    result.specs.push_back(std::move(copy));
  }
  return result;
}

model_mix all_models(const std::vector<model_spec>& given) {
  model_mix result;
  result.specs = given;
  for (auto& spec : given)
    result.base[spec.name] = spec.name;
  return result;
}

} // namespace bus::sim
