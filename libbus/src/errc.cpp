#include "bus/errc.hpp"

#include <ostream>

#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace bus {

std::string to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::invalid_config:
      return "invalid_config";
    case errc::invalid_event:
      return "invalid_event";
    case errc::no_such_model:
      return "no_such_model";
    case errc::no_such_key:
      return "no_such_key";
    case errc::model_unavailable:
      return "model_unavailable";
    case errc::apply_failed:
      return "apply_failed";
    case errc::out_of_range:
      return "out_of_range";
    case errc::storage_failed:
      return "storage_failed";
    case errc::unreachable:
      return "unreachable";
    case errc::precondition_failed:
      return "precondition_failed";
    case errc::overloaded:
      return "overloaded";
    case errc::not_parked:
      return "not_parked";
    case errc::forbidden:
      return "forbidden";
    case errc::timed_out:
      return "timed_out";
    case errc::no_reply:
      return "no_reply";
    case errc::version_conflict:
      return "version_conflict";
    case errc::command_rejected:
      return "command_rejected";
    case errc::unknown_command:
      return "unknown_command";
    case errc::query_failed:
      return "query_failed";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, errc x) {
  return out << to_string(x);
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), errc_category::value};
}

caf::error make_error(errc x, std::string context) {
  return caf::error{static_cast<uint8_t>(x), errc_category::value,
                    caf::make_message(std::move(context))};
}

errc code_of(const caf::error& x) {
  if (!x || x.category() != errc_category::value)
    return errc::none;
  return static_cast<errc>(x.code());
}

std::string context_of(const caf::error& x) {
  if (!x)
    return {};
  const auto& ctx = x.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return ctx.empty() ? std::string{} : to_string(ctx);
}

} // namespace bus
