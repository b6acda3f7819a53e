// parse_config: a configuration file's text (bus-node --config). Bad text
// gives an error that names where, never a crash; a configuration that
// parses makes every read model it defines, under the name it gives, and
// its supervision and node limits hold what the parser checks.

#include "bus/config.hpp"
#include "bus/errc.hpp"
#include "fuzz_support.hpp"

using namespace bus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto config = parse_config(fuzz::text_of(data, size));
  if (!config) {
    fuzz::require(!context_of(config.error()).empty(), "an error says what is wrong");
    return 0;
  }
  for (auto& spec : config->read_models) {
    auto model = spec.make();
    fuzz::require(model != nullptr && model->name() == spec.name,
                  "each definition makes its model");
    (void) model->definition();
    (void) model->snapshot();
  }
  auto& s = config->supervision;
  fuzz::require(s.status_timeout.count() >= 1 && s.initial_backoff.count() >= 0
                  && s.max_backoff.count() >= 0,
                "supervision times are checked");
  fuzz::require(config->node.max_line_bytes >= 64 && config->node.batch_size >= 1,
                "node limits are checked");
  return 0;
}
