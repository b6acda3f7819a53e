#include "model_mix.hpp"

#include "bus/forwarding_model.hpp"

namespace bus::sim {

namespace {

// A model under another name; everything else is the inner model's. The
// name is what the bus subscribes, the supervisor routes and acks name.
class renamed_model final : public forwarding_model {
public:
  renamed_model(read_model_ptr model, std::string name)
    : forwarding_model(std::move(model)), name_(std::move(name)) {
    // nop
  }
  const std::string& name() const noexcept override { return name_; }

private:
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

bool is_key_local(const model_spec& spec) {
  auto probe = spec.make ? spec.make() : nullptr;
  return probe && probe->key_local();
}

} // namespace bus::sim
