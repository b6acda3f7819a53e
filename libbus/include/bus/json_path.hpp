#pragma once

// A dotted path into a JSON object ("id", "user.address.city"), resolved
// without allocating, and a helper that renders scalar values as keys.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "bus/event_payload.hpp"

namespace bus {

/// A parsed dotted path.
class json_path {
public:
  json_path() = default;

  /// Parses `dotted`; an empty segment makes the path invalid.
  explicit json_path(std::string_view dotted);

  /// Returns false for an empty or malformed path.
  bool valid() const noexcept { return !segments_.empty(); }

  /// Returns the value at the path, or nullptr.
  const boost::json::value* find(const boost::json::object& root) const;

  /// Returns the value at the path rendered as a key: strings as they are,
  /// integers in decimal; nothing for other kinds or a missing field.
  std::optional<std::string> find_key(const boost::json::object& root) const;

  /// Like find_key, without allocating for string values: the view refers
  /// into `root`, or into `buffer` for an integer.
  std::optional<std::string_view> find_key(const boost::json::object& root,
                                           std::string& buffer) const;

  /// Like find_key on the payload's object; a one-segment path reads its
  /// field without decoding a payload still in its record.
  std::optional<std::string_view> find_key(const event_payload& payload,
                                           std::string& buffer) const;

  /// Like find_key on the payload's object (see above).
  std::optional<std::string> find_key(const event_payload& payload) const;

private:
  std::vector<std::string> segments_;
};

} // namespace bus
