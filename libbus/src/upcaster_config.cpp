#include "internal/upcaster_config.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "bus/errc.hpp"
#include "bus/event_codec.hpp"
#include "bus/json_path.hpp"
#include "internal/config_reader.hpp"

#include <boost/json/serialize.hpp>

namespace bus::internal {

namespace {

using segments = std::vector<std::string>;

segments split(std::string_view dotted) {
  segments out;
  std::size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    out.emplace_back(dotted.substr(
      start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos)
      return out;
    start = dot + 1;
  }
}

// The object that holds the last segment of `path`, or nullptr; with
// `create`, missing objects on the way are made (never replacing a value
// that is not an object).
boost::json::object* parent_of(boost::json::object& root, const segments& path,
                               bool create) {
  auto* obj = &root;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    auto it = obj->find(path[i]);
    if (it == obj->end()) {
      if (!create)
        return nullptr;
      obj = &(*obj)[path[i]].emplace_object();
      continue;
    }
    obj = it->value().if_object();
    if (obj == nullptr)
      return nullptr;
  }
  return obj;
}

// True if `to` can be set once `from` is gone: no value on the way is
// anything but an object (missing ones are made; `from` itself counts as
// missing, so "a" can move to "a.b").
bool reachable(const boost::json::object& root, const segments& to,
               const segments& from) {
  auto* obj = &root;
  for (std::size_t i = 0; i + 1 < to.size(); ++i) {
    if (i + 1 == from.size() && std::equal(from.begin(), from.end(), to.begin()))
      return true;
    auto it = obj->find(to[i]);
    if (it == obj->end())
      return true;
    obj = it->value().if_object();
    if (obj == nullptr)
      return false;
  }
  return true;
}

// Moves the value at `from` to `to` (replacing what is there); nothing
// when `from` is missing or `to` cannot be reached (the value stays).
void move_field(boost::json::object& root, const segments& from, const segments& to) {
  auto* source = parent_of(root, from, false);
  if (source == nullptr)
    return;
  auto it = source->find(from.back());
  if (it == source->end() || !reachable(root, to, from))
    return;
  auto value = std::move(it->value());
  source->erase(it);
  if (auto* target = parent_of(root, to, true))
    (*target)[to.back()] = std::move(value);
}

// Sets `path` to `value` unless it holds a value already.
void default_field(boost::json::object& root, const segments& path,
                   const boost::json::value& value) {
  if (auto* target = parent_of(root, path, true);
      target && !target->contains(path.back()))
    (*target)[path.back()] = value;
}

struct field_changes {
  std::vector<std::pair<std::string, std::string>> renames;
  std::vector<std::pair<segments, segments>> moves;
  std::vector<std::pair<segments, boost::json::value>> defaults;

  void operator()(event& e) const {
    if (!renames.empty())
      rename_fields(e.payload.mutate());
    for (auto& [from, to] : moves)
      move_field(e.payload.mutate(), from, to);
    for (auto& [path, value] : defaults)
      default_field(e.payload.mutate(), path, value);
  }

  // All at once: {"first": "last", "last": "first"} swaps the two.
  void rename_fields(boost::json::object& root) const {
    std::vector<std::pair<const std::string*, boost::json::value>> taken;
    for (auto& [from, to] : renames)
      if (auto it = root.find(from); it != root.end()) {
        taken.emplace_back(&to, std::move(it->value()));
        root.erase(it);
      }
    for (auto& [to, value] : taken)
      root[*to] = std::move(value);
  }
};

// True if `a` is `b` or lies within it, or the other way round.
bool overlap(const segments& a, const segments& b) {
  auto n = static_cast<std::ptrdiff_t>(std::min(a.size(), b.size()));
  return std::equal(a.begin(), a.begin() + n, b.begin());
}

// Reads {"old": "new", ...} pairs of field names (dotted paths when
// `dotted`) into `out`.
void read_moves(reader& r, const char* key, bool dotted, field_changes& out) {
  auto* v = r.field(key, false);
  if (v == nullptr)
    return;
  auto path = r.at(key);
  auto* obj = v->if_object();
  if (obj == nullptr)
    return r.fail(path, "expected an object");
  auto expected = dotted ? "expected a dotted field path" : "expected a field name";
  auto usable = [dotted](std::string_view s) {
    return json_path{s}.valid() && (dotted || s.find('.') == std::string_view::npos);
  };
  for (auto& kv : *obj) {
    auto at = path + "." + std::string{kv.key()};
    if (!usable(kv.key()))
      return r.fail(at, std::string{expected} + " as the key");
    auto* to = kv.value().if_string();
    if (to == nullptr || !usable(*to))
      return r.fail(at, std::string{expected} + " (a string)");
    // Two values to one place: one would be lost.
    auto target = split(*to);
    auto clash = [&](const segments& other) { return overlap(target, other); };
    if (dotted ? std::any_of(out.moves.begin(), out.moves.end(),
                             [&](auto& m) { return clash(m.second); })
               : std::any_of(out.renames.begin(), out.renames.end(),
                             [&](auto& m) { return m.second == *to; }))
      return r.fail(at, dotted
                          ? "a second field moved to '" + std::string{*to}
                              + "', into it or around it"
                          : "a second field renamed to '" + std::string{*to} + "'");
    if (dotted)
      out.moves.emplace_back(split(kv.key()), std::move(target));
    else
      out.renames.emplace_back(std::string{kv.key()}, std::string{*to});
  }
}

caf::expected<upcaster> parse_one(const boost::json::value& v,
                                  const std::string& path) {
  caf::error err;
  reader r{v, path, err};
  upcaster step;
  r.string("type", step.type);
  r.field("from", true);
  std::uint64_t from = 0;
  r.number<std::uint64_t>("from", from, 1);
  if (r.ok() && from >= std::numeric_limits<std::uint32_t>::max())
    r.fail(r.at("from"), "expected a version below "
                           + std::to_string(std::numeric_limits<std::uint32_t>::max()));
  step.from = static_cast<std::uint32_t>(from);
  field_changes changes;
  read_moves(r, "rename", false, changes);
  read_moves(r, "move", true, changes);
  if (auto* defaults = r.field("defaults", false); defaults != nullptr && r.ok()) {
    auto* obj = defaults->if_object();
    if (obj == nullptr)
      r.fail(r.at("defaults"), "expected an object");
    else
      for (auto& kv : *obj) {
        auto at = r.at("defaults") + "." + std::string{kv.key()};
        if (!json_path{kv.key()}.valid()) {
          r.fail(at, "expected a dotted field path as the key");
          break;
        }
        if (!finite_json(kv.value())) {
          r.fail(at, "expected finite numbers");
          break;
        }
        changes.defaults.emplace_back(split(kv.key()), kv.value());
      }
  }
  r.string("rename_type", step.to_type, false);
  r.no_unknown_keys();
  if (!r.ok())
    return err;
  step.change = std::move(changes);
  // The step as written, compact: a model it feeds is rebuilt when it changes.
  step.description = boost::json::serialize(v);
  return step;
}

} // namespace

caf::expected<std::vector<upcaster>> parse_upcasters(const boost::json::value& v) {
  auto* arr = v.if_array();
  if (arr == nullptr)
    return make_error(errc::invalid_config, "upcasters: expected an array");
  std::vector<upcaster> steps;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto path = "upcasters[" + std::to_string(i) + "]";
    auto step = parse_one((*arr)[i], path);
    if (!step)
      return step.error();
    for (auto& other : steps)
      if (other.type == step->type && other.from == step->from)
        return make_error(errc::invalid_config, path + ": a second upcaster of "
                                                  + step->type + " v"
                                                  + std::to_string(step->from));
    steps.push_back(std::move(*step));
  }
  // The chains as a whole (a missing step in the middle).
  if (auto registry = upcaster_registry::make(steps); !registry)
    return make_error(errc::invalid_config,
                      "upcasters: " + context_of(registry.error()));
  return steps;
}

} // namespace bus::internal
