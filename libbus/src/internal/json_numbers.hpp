#pragma once

// A walk over the numbers of a JSON value, for the checks that refuse
// numbers no JSON text of ours carries (event_codec.hpp, row_json.hpp).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace bus::internal {

template <class Pred>
bool any_double(const boost::json::value& x, Pred pred) noexcept;

/// True if some double of the members of `x`, at any depth, satisfies
/// `pred` (an object walked where it is, not copied into a value).
template <class Pred>
bool any_double(const boost::json::object& x, Pred pred) noexcept {
  for (auto& kv : x)
    if (any_double(kv.value(), pred))
      return true;
  return false;
}

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
      return any_double(x.get_object(), pred);
    default:
      return false;
  }
}

} // namespace bus::internal
