#include "workload.hpp"

#include <boost/json.hpp>

namespace bench {

std::vector<bus::event> make_events(std::size_t n, std::size_t keys) {
  return make_event_range(0, n, keys);
}

std::vector<bus::event> make_event_range(std::size_t first, std::size_t n,
                                         std::size_t keys) {
  static const char* types[] = {"A", "B", "C", "D"};
  std::vector<bus::event> result;
  result.reserve(n);
  for (auto i = first; i < first + n; ++i) {
    bus::event e;
    e.id = "e" + std::to_string(i);
    e.type = types[i % 4];
    e.payload["k"] = "key" + std::to_string(i % keys);
    e.payload["n"] = static_cast<std::int64_t>(i);
    result.push_back(std::move(e));
  }
  return result;
}

sum_model::sum_model(std::string name) : name_(std::move(name)) {
  // nop
}

const std::vector<std::string>& sum_model::event_types() const noexcept {
  static const std::vector<std::string> all{"*"};
  return all;
}

bool sum_model::apply(const bus::event& e) {
  // Two fields read where they are: a payload read back from the log is
  // not decoded for them.
  auto key = e.payload.field("k").as_string();
  auto n = e.payload.field("n").as_int64();
  if (auto i = sums_.find(key); i != sums_.end())
    i->second += n;
  else
    sums_.emplace(std::string{key}, n);
  return true;
}

std::optional<boost::json::value> sum_model::query(std::string_view key) const {
  if (auto i = sums_.find(key); i != sums_.end())
    return boost::json::value(i->second);
  return std::nullopt;
}

boost::json::value sum_model::snapshot() const {
  boost::json::object result;
  for (auto& [k, n] : sums_)
    result[k] = n;
  return result;
}

bus::model_spec sum_spec(std::string name) {
  return {name, [name] { return std::make_unique<sum_model>(name); }};
}

} // namespace bench
