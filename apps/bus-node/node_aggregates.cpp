#include "node_aggregates.hpp"

#include <algorithm>

#include "bus/errc.hpp"
#include "order.hpp"

namespace bus::node {

caf::expected<std::vector<aggregate_type>>
node_aggregates(const command_settings& settings) {
  std::vector<aggregate_type> known{shop::order_type()};
  std::vector<aggregate_type> result;
  for (auto& name : settings.aggregates) {
    auto i = std::find_if(known.begin(), known.end(),
                          [&](const aggregate_type& t) { return t.name == name; });
    if (i == known.end())
      return make_error(errc::invalid_config, "commands.aggregates: bus-node has no "
                                              "aggregate type '"
                                                + name + "' (it knows: order)");
    result.push_back(*i);
  }
  return result;
}

} // namespace bus::node
