#include "bus/actors/messages.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bus/actors/detail/json_text.hpp"
#include "bus/errc.hpp"

namespace bus::detail {

std::string json_text(const boost::json::value& x) {
  return boost::json::serialize(x);
}

caf::error parse_json_text(const std::string& text, boost::json::value& x) {
  boost::system::error_code ec;
  x = boost::json::parse(text, ec);
  if (ec)
    return make_error(errc::invalid_event, "bad JSON in message: " + ec.message());
  return caf::none;
}

caf::error parse_json_text(const std::string& text, boost::json::object& x) {
  boost::json::value v;
  if (auto err = parse_json_text(text, v))
    return err;
  if (!v.is_object())
    return make_error(errc::invalid_event, "expected a JSON object in message");
  x = std::move(v.get_object());
  return caf::none;
}

} // namespace bus::detail

namespace bus::actors {

const char* to_string(publish_wait x) noexcept {
  switch (x) {
    case publish_wait::log:
      return "log";
    case publish_wait::projectors:
      return "projectors";
  }
  return "unknown";
}

const char* to_string(publish_order x) noexcept {
  switch (x) {
    case publish_order::as_sent:
      return "as_sent";
    case publish_order::any:
      return "any";
  }
  return "unknown";
}

const char* to_string(partition_intent x) noexcept {
  switch (x) {
    case partition_intent::run:
      return "run";
    case partition_intent::pause:
      return "pause";
  }
  return "unknown";
}

const char* to_string(shadow_wait x) noexcept {
  switch (x) {
    case shadow_wait::start:
      return "start";
    case shadow_wait::live:
      return "live";
  }
  return "unknown";
}

} // namespace bus::actors
