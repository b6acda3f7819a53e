#include "await_models.hpp"

#include <algorithm>
#include <thread>

#include <caf/all.hpp>

#include "bus/log.hpp"
#include "bus/partitions.hpp"

namespace bus::node {

namespace {

using clock_type = std::chrono::steady_clock;

// The names not yet served and running (with parked events or not), or
// paused by their operator (such a model takes no events, so there is
// nothing to wait for), in the order given.
std::vector<std::string>
missing_of(const std::vector<std::string>& names,
           const std::vector<actors::projector_status>& models) {
  std::vector<std::string> result;
  for (auto& name : names) {
    // A partitioned model shows as its partitions ("name#i"): it runs once
    // every one does.
    std::size_t seen = 0;
    auto all_ready = true;
    for (auto& m : models) {
      if (m.role != actors::model_role::live
          || (m.model != name && model_of(m.model) != name))
        continue;
      ++seen;
      all_ready = all_ready
                  && (m.state == actors::model_state::running
                      || m.state == actors::model_state::parked
                      || m.state == actors::model_state::paused);
    }
    if (seen == 0 || !all_ready)
      result.push_back(name);
  }
  return result;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

} // namespace

await_result await_models(caf::scoped_actor& self, const actors::supervisor_actor& sup,
                          const std::vector<std::string>& names,
                          std::chrono::milliseconds patience) {
  using namespace std::chrono;
  await_result result;
  result.missing = names;
  auto changed_at = clock_type::now();
  auto reported_at = changed_at;
  while (true) {
    std::vector<actors::projector_status> models;
    self->request(sup, seconds{30}, actors::status_atom::value)
      .receive(
        [&](std::vector<actors::projector_status>& xs) { models = std::move(xs); },
        [](caf::error&) {}); // a lost node: ask again
    auto missing = missing_of(names, models);
    auto now = clock_type::now();
    if (missing.empty()) {
      result.missing.clear();
      return result;
    }
    if (missing != result.missing) {
      result.missing = std::move(missing);
      changed_at = now;
    }
    if (patience.count() > 0 && now - changed_at >= patience) {
      result.outcome = await_outcome::no_progress;
      return result;
    }
    if (now - reported_at >= seconds{1}) {
      reported_at = now;
      BUS_LOG(log_level::info, "bus-node",
              "waiting for read models " << joined(result.missing)
                                         << " to attach (--await-models)");
    }
    std::this_thread::sleep_for(milliseconds{20}); // a node's connect
  }
}

} // namespace bus::node
