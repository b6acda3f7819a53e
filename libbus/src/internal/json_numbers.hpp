#pragma once

// A walk over the numbers of a JSON value, for the checks that refuse
// numbers no JSON text of ours carries (event_codec.hpp, row_json.hpp).

#include <boost/json/value.hpp>

namespace bus::internal {

/// True if some double of `x`, at any depth, satisfies `pred`.
template <class Pred>
bool any_double(const boost::json::value& x, Pred pred) noexcept {
  switch (x.kind()) {
    case boost::json::kind::double_:
      return pred(x.get_double());
    case boost::json::kind::array:
      for (auto& item : x.get_array())
        if (any_double(item, pred))
          return true;
      return false;
    case boost::json::kind::object:
      for (auto& kv : x.get_object())
        if (any_double(kv.value(), pred))
          return true;
      return false;
    default:
      return false;
  }
}

} // namespace bus::internal
