// Calling user read-model code from an actor (internal/model_code.hpp).

#include "internal/model_code.hpp"

#include "bus/errc.hpp"
#include "bus/log.hpp"

namespace bus::internal {

std::string what_of(const std::exception_ptr& x) {
  if (!x)
    return "no exception";
  try {
    std::rethrow_exception(x);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

caf::error escaped_exception(const char* source, const std::string& who,
                             const std::exception_ptr& x) {
  auto text = who + " failed on an exception nothing caught: " + what_of(x);
  BUS_LOG(log_level::error, source, text);
  return make_error(errc::apply_failed, std::move(text));
}

} // namespace bus::internal
