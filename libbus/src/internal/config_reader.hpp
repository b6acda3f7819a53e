#pragma once

// Strict reading of one object of the JSON configuration (internal to
// libbus): config.cpp and upcaster_config.cpp share it.

#include <chrono>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/error.hpp>

#include "bus/errc.hpp"

namespace bus::internal {

// Reads fields of one JSON object strictly, recording the first error with
// the path of the offending field.
class reader {
public:
  reader(const boost::json::value& v, std::string path, caf::error& err)
    : path_(std::move(path)), err_(err) {
    obj_ = v.if_object();
    if (obj_ == nullptr)
      fail(path_, "expected an object");
  }

  bool ok() const { return !err_; }

  const boost::json::value* field(const char* key, bool required) {
    if (obj_ == nullptr)
      return nullptr;
    known_.insert(key);
    auto* v = obj_->if_contains(key);
    if (v == nullptr && required)
      fail(at(key), "missing");
    return v;
  }

  void string(const char* key, std::string& out, bool required = true) {
    if (auto* v = field(key, required)) {
      if (auto* s = v->if_string(); s != nullptr && !s->empty())
        out.assign(s->data(), s->size());
      else
        fail(at(key), "expected a non-empty string");
    }
  }

  void strings(const char* key, std::vector<std::string>& out) {
    if (auto* v = field(key, false)) {
      auto* arr = v->if_array();
      if (arr == nullptr)
        return fail(at(key), "expected an array of strings");
      for (auto& x : *arr) {
        auto* s = x.if_string();
        if (s == nullptr || s->empty())
          return fail(at(key), "expected an array of non-empty strings");
        out.emplace_back(s->data(), s->size());
      }
    }
  }

  template <class Int>
  void number(const char* key, Int& out, Int min) {
    number_within(key, out, min, std::numeric_limits<Int>::max(),
                  [&] { return "expected an integer >= " + std::to_string(min); });
  }

  template <class Int>
  void number(const char* key, Int& out, Int min, Int max) {
    number_within(key, out, min, max, [&] {
      return "expected an integer from " + std::to_string(min) + " to "
             + std::to_string(max);
    });
  }

  void millis(const char* key, std::chrono::milliseconds& out) {
    auto count = static_cast<std::int64_t>(out.count());
    number<std::int64_t>(key, count, 0);
    out = std::chrono::milliseconds{count};
  }

  // Rejects keys that no field() call asked for.
  void no_unknown_keys() {
    if (obj_ == nullptr || err_)
      return;
    for (auto& kv : *obj_)
      if (known_.count(std::string{kv.key()}) == 0)
        return fail(at(std::string{kv.key()}), "unknown key");
  }

  std::string at(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  void fail(const std::string& where, const std::string& what) {
    if (!err_)
      err_ = make_error(errc::invalid_config, where + ": " + what);
  }

private:
  // Reads `key` into `out` if it is an integer from `min` to `max`; fails
  // with what `expected()` says otherwise.
  template <class Int, class Expected>
  void number_within(const char* key, Int& out, Int min, Int max, Expected expected) {
    if (auto* v = field(key, false)) {
      boost::system::error_code ec;
      auto x = v->to_number<Int>(ec);
      if (ec || v->is_double() || x < min || x > max)
        return fail(at(key), expected());
      out = x;
    }
  }

  const boost::json::object* obj_ = nullptr;
  std::string path_;
  caf::error& err_;
  std::set<std::string> known_;
};

} // namespace bus::internal
