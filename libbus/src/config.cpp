#include "bus/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <boost/json/stream_parser.hpp>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/partitions.hpp"
#include "internal/config_reader.hpp"
#include "internal/upcaster_config.hpp"

namespace bus {

namespace {

using internal::reader;

// Reads the optional "storage" field of a model: "memory" (the default) or
// "sqlite".
void read_storage(reader& r, model_storage& out) {
  std::string storage;
  r.string("storage", storage, false);
  if (storage.empty() || storage == "memory")
    out = model_storage::memory;
  else if (storage == "sqlite")
    out = model_storage::sqlite;
  else
    r.fail(r.at("storage"), "expected \"memory\" or \"sqlite\"");
}

// Reads the optional "on_error" object of a model into its recovery policy:
// {"attempts", "backoff_ms", "max_backoff_ms", "then", "order"}.
void read_recovery(reader& model, caf::error& err, recovery_policy& out) {
  auto* v = model.field("on_error", false);
  if (v == nullptr)
    return;
  auto path = model.at("on_error");
  reader r{*v, path, err};
  r.number<std::uint32_t>("attempts", out.attempts, 1);
  r.millis("backoff_ms", out.backoff);
  r.millis("max_backoff_ms", out.max_backoff);
  std::string then, order;
  r.string("then", then, false);
  r.string("order", order, false);
  r.no_unknown_keys();
  if (!r.ok())
    return;
  if (out.max_backoff < out.backoff)
    return r.fail(r.at("max_backoff_ms"), "expected at least backoff_ms ("
                                            + std::to_string(out.backoff.count())
                                            + ")");
  if (!then.empty()) {
    if (auto x = on_poison_from_string(then))
      out.then = *x;
    else
      return r.fail(r.at("then"), "expected \"park\" or \"stop\"");
  }
  if (!order.empty()) {
    if (auto x = key_order_from_string(order))
      out.order = *x;
    else
      r.fail(r.at("order"), "expected \"per_key\" or \"none\"");
  }
}

// The first event type `a` and `b` share, or nullptr.
const std::string* shared_type(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  for (auto& type : a)
    if (std::find(b.begin(), b.end(), type) != b.end())
      return &type;
  return nullptr;
}

// One role of a model's event types, e.g. "merge_on".
struct type_role {
  const char* name;
  const std::vector<std::string>* types;
};

// Refuses an event type in two roles of a model: the model would apply one
// of them and silently ignore the other.
template <std::size_t N>
void check_roles(reader& r, const std::string& path, const std::string& model,
                 const type_role (&roles)[N]) {
  for (std::size_t i = 0; i < N; ++i)
    for (auto j = i + 1; j < N; ++j)
      if (auto* type = shared_type(*roles[i].types, *roles[j].types))
        return r.fail(path, "model \"" + model + "\" has event type \"" + *type
                              + "\" in both " + roles[i].name + " and " + roles[j].name
                              + " (expected one role per type)");
}

void check_document_roles(reader& r, const std::string& path,
                          const document_model_config& cfg) {
  const type_role roles[] = {{"upsert_on", &cfg.upsert_on},
                             {"merge_on", &cfg.merge_on},
                             {"delete_on", &cfg.delete_on}};
  check_roles(r, path, cfg.name, roles);
}

void check_index_roles(reader& r, const std::string& path,
                       const index_model_config& cfg) {
  const type_role roles[] = {{"set_on", &cfg.set_on}, {"delete_on", &cfg.delete_on}};
  check_roles(r, path, cfg.name, roles);
}

// `name` with ASCII letters in lower case, as SQLite compares table names.
std::string folded(const std::string& name) {
  auto result = name;
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

caf::expected<model_spec> parse_model(const boost::json::value& v,
                                      const std::string& path) {
  caf::error err;
  reader r{v, path, err};
  std::string name, kind;
  r.string("name", name);
  r.string("kind", kind);
  if (!r.ok())
    return err;
  auto storage = model_storage::memory;
  read_storage(r, storage);
  recovery_policy recovery;
  read_recovery(r, err, recovery);
  // '#' names a partition ("orders#2"): a model's own name cannot hold one.
  if (r.ok() && name.find('#') != std::string::npos)
    r.fail(r.at("name"), "expected a name without '#' (it names partitions)");
  std::uint32_t partitions = 1;
  r.number<std::uint32_t>("partitions", partitions, 1);
  if (r.ok() && partitions > max_partitions)
    r.fail(r.at("partitions"),
           "expected at most " + std::to_string(max_partitions) + " partitions");
  if (kind == "document") {
    document_model_config cfg;
    cfg.name = name;
    r.string("key", cfg.key);
    r.strings("upsert_on", cfg.upsert_on);
    r.strings("merge_on", cfg.merge_on);
    r.strings("delete_on", cfg.delete_on);
    r.strings("require", cfg.require);
    r.no_unknown_keys();
    if (r.ok() && !json_path{cfg.key}.valid())
      r.fail(r.at("key"), "expected a dotted field path");
    for (auto& field : cfg.require)
      if (r.ok() && !json_path{field}.valid())
        r.fail(r.at("require"), "expected dotted field paths");
    if (r.ok() && cfg.upsert_on.empty() && cfg.merge_on.empty()
        && cfg.delete_on.empty())
      r.fail(path, "a document model needs upsert_on, merge_on or delete_on");
    if (r.ok())
      check_document_roles(r, path, cfg);
    if (!r.ok())
      return err;
    return model_spec{name, [cfg] { return std::make_unique<document_model>(cfg); },
                      storage, recovery, partitions};
  }
  if (kind == "index") {
    index_model_config cfg;
    cfg.name = name;
    r.string("key", cfg.key);
    r.string("target", cfg.target);
    r.strings("set_on", cfg.set_on);
    r.strings("delete_on", cfg.delete_on);
    r.no_unknown_keys();
    if (r.ok() && !json_path{cfg.key}.valid())
      r.fail(r.at("key"), "expected a dotted field path");
    if (r.ok() && !json_path{cfg.target}.valid())
      r.fail(r.at("target"), "expected a dotted field path");
    if (r.ok() && cfg.set_on.empty() && cfg.delete_on.empty())
      r.fail(path, "an index model needs set_on or delete_on");
    if (r.ok())
      check_index_roles(r, path, cfg);
    // Its events are keyed by the target, its queries by the indexed
    // value: no key-hash split serves both.
    if (r.ok() && partitions > 1)
      r.fail(r.at("partitions"), "an index model cannot be partitioned (its queries "
                                 "are by the indexed value, its events by the target)");
    if (!r.ok())
      return err;
    return model_spec{name, [cfg] { return std::make_unique<index_model>(cfg); },
                      storage, recovery};
  }
  return make_error(errc::invalid_config,
                    path + ".kind: expected \"document\" or \"index\"");
}

// "line L, column C" (both from 1, columns in bytes) of `offset` in `text`.
std::string position_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column "
         + std::to_string(offset - line_start + 1);
}

} // namespace

caf::expected<model_spec> parse_model_definition(const boost::json::value& v,
                                                 const std::string& path) {
  return parse_model(v, path);
}

caf::expected<bus_config> parse_config(const boost::json::value& doc) {
  caf::error err;
  bus_config result;
  reader top{doc, "", err};
  if (auto* models = top.field("read_models", true)) {
    auto* arr = models->if_array();
    if (arr == nullptr)
      return make_error(errc::invalid_config, "read_models: expected an array");
    std::set<std::string> names;
    // By folded name: the index of the model that has it.
    std::map<std::string, std::size_t> folded_names;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      auto path = "read_models[" + std::to_string(i) + "]";
      auto spec = parse_model((*arr)[i], path);
      if (!spec)
        return spec.error();
      if (!names.insert(spec->name).second)
        return make_error(errc::invalid_config,
                          path + ".name: duplicate name " + spec->name);
      // SQLite ignores case in table names, so "users" and "USERS" would
      // share the table model_users (and load each other's rows); any
      // model may be moved to a table by a blue/green rebuild.
      auto [other, added] = folded_names.emplace(folded(spec->name), i);
      if (!added) {
        auto& first = result.read_models[other->second].name;
        return make_error(errc::invalid_config,
                          path + ".name: \"" + spec->name + "\" differs from \"" + first
                            + "\" (read_models[" + std::to_string(other->second)
                            + "]) only in letter case; model names must differ "
                              "in more than case (SQLite table names ignore it)");
      }
      result.read_models.push_back(std::move(*spec));
    }
  }
  if (auto* sup = top.field("supervision", false)) {
    reader r{*sup, "supervision", err};
    auto& s = result.supervision;
    r.millis("initial_backoff_ms", s.initial_backoff);
    r.millis("max_backoff_ms", s.max_backoff);
    r.number<std::size_t>("max_restarts", s.max_restarts, 0);
    r.millis("restart_window_ms", s.restart_window);
    r.millis("cooldown_ms", s.cooldown);
    r.millis("max_cooldown_ms", s.max_cooldown);
    r.millis("status_timeout_ms", s.status_timeout);
    r.millis("stall_after_ms", s.stall_after);
    if (r.ok() && s.status_timeout.count() == 0)
      return make_error(errc::invalid_config,
                        "supervision.status_timeout_ms: expected an integer >= 1");
    r.no_unknown_keys();
  }
  if (auto* node = top.field("node", false)) {
    reader r{*node, "node", err};
    // bus-node --max-line-bytes and --batch-size take the same ranges.
    r.number<std::size_t>("max_line_bytes", result.node.max_line_bytes, 64,
                          std::size_t{1} << 30);
    r.number<std::size_t>("batch_size", result.node.batch_size, 1,
                          std::size_t{1} << 20);
    r.number<std::size_t>("snapshot_every", result.node.snapshot_every, 0);
    r.no_unknown_keys();
  }
  if (auto* commands = top.field("commands", false)) {
    reader r{*commands, "commands", err};
    r.strings("aggregates", result.commands.aggregates);
    r.number<std::size_t>("snapshot_every", result.commands.snapshot_every, 0);
    r.no_unknown_keys();
  }
  if (auto* upcasters = top.field("upcasters", false)) {
    auto steps = internal::parse_upcasters(*upcasters);
    if (!steps)
      return steps.error();
    result.upcasters = std::move(*steps);
  }
  top.no_unknown_keys();
  if (err)
    return err;
  return result;
}

caf::expected<bus_config> parse_config(std::string_view text) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  // write() stops at the first error and says how far it got; text that
  // stops early is reported at its end.
  auto consumed = parser.write(text.data(), text.size(), ec);
  if (!ec)
    parser.finish(ec);
  if (ec)
    return make_error(errc::invalid_config,
                      "not JSON: " + position_of(text, consumed) + ": " + ec.message());
  return parse_config(parser.release());
}

caf::expected<bus_config> load_config(const std::string& path) {
  // A directory opens as a stream that reads nothing: "not JSON" would
  // send the user looking for a syntax error.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(errc::invalid_config,
                      path + ": is a directory, not a configuration file");
  std::ifstream in{path};
  if (!in)
    return make_error(errc::invalid_config,
                      path + ": cannot open (" + std::strerror(errno) + ")");
  std::stringstream text;
  text << in.rdbuf();
  auto result = parse_config(text.str());
  if (!result)
    return make_error(errc::invalid_config, path + ": " + context_of(result.error()));
  return result;
}

} // namespace bus
