#include "bus/stream_store.hpp"

#include <exception>
#include <set>

#include "bus/errc.hpp"
#include "bus/event_stream.hpp"
#include "bus/log.hpp"

namespace bus {

namespace {

// User code may throw: the stream store reports it as an error.
template <class F>
caf::error guarded(const std::string& what, F&& f) {
  try {
    f();
    return caf::none;
  } catch (const std::exception& ex) {
    return make_error(errc::apply_failed, what + ": " + ex.what());
  } catch (...) {
    return make_error(errc::apply_failed, what + ": an exception of unknown type");
  }
}

} // namespace

caf::expected<stream_store> stream_store::make(std::vector<aggregate_type> types,
                                               std::size_t snapshot_every) {
  stream_store result;
  result.snapshot_every_ = snapshot_every;
  std::set<std::string> names;
  for (std::size_t i = 0; i < types.size(); ++i) {
    auto& type = types[i];
    if (type.name.empty() || !type.make)
      return make_error(errc::invalid_config,
                        "an aggregate type needs a name and a factory");
    if (!names.insert(type.name).second)
      return make_error(errc::invalid_config,
                        "two aggregate types are named '" + type.name + "'");
    for (auto& name : type.commands) {
      if (!result.handlers_.emplace(name, i).second)
        return make_error(errc::invalid_config,
                          "command '" + name + "' is handled by two aggregate types");
    }
  }
  result.types_ = std::move(types);
  return result;
}

const aggregate_type* stream_store::type_named(std::string_view name) const {
  for (auto& type : types_)
    if (type.name == name)
      return &type;
  return nullptr;
}

void stream_store::observe(const event& e) {
  auto pos = stream_of(e);
  if (!pos)
    return;
  if (e.id != stream_event_id(pos->stream, pos->version)) {
    // Not written by a command handler, which gives each event of a stream
    // the id "stream@version" (the log's guard against a second writer):
    // counted, it would take a version the handler gives out too, and a
    // restart would answer commands unlike the node before it.
    BUS_LOG(log_level::warning, "stream_store",
            "event '" << e.id << "' (seq " << e.seq << ") names stream '" << pos->stream
                      << "' version " << pos->version << " but not its id '"
                      << stream_event_id(pos->stream, pos->version)
                      << "': not an event of the stream");
    return;
  }
  auto& s = streams_[std::string{pos->stream}];
  if (pos->version <= s.version)
    return; // seen before (a replay overlapping what was observed)
  if (pos->version != s.version + 1)
    BUS_LOG(log_level::warning, "stream_store",
            "stream '" << pos->stream << "' jumps from version " << s.version << " to "
                       << pos->version << " at seq " << e.seq
                       << " (an event of it is missing from the log)");
  if (s.version == 0)
    s.aggregate = std::string{pos->aggregate};
  s.version = pos->version;
  if (type_named(s.aggregate) == nullptr)
    return; // a stream of a type this store does not run: its version only
  s.tail.push_back(e);
  if (snapshot_every_ > 0 && s.tail.size() >= snapshot_every_)
    take_snapshot(std::string{pos->stream}, s);
}

void stream_store::take_snapshot(const std::string& stream, stream_entry& s) {
  auto agg = rebuild(s);
  if (!agg) {
    // The tail stays: loading the stream reports the same error.
    BUS_LOG(log_level::warning, "stream_store",
            "no snapshot of stream '" << stream << "': " << context_of(agg.error()));
    return;
  }
  boost::json::value state;
  if (auto err = guarded("aggregate '" + s.aggregate + "' snapshot",
                         [&] { state = (*agg)->snapshot(); })) {
    BUS_LOG(log_level::warning, "stream_store",
            "no snapshot of stream '" << stream << "': " << context_of(err));
    return;
  }
  s.snapshot = std::move(state);
  s.snapshot_version = s.version;
  s.tail.clear();
}

caf::expected<std::unique_ptr<aggregate>>
stream_store::rebuild(const stream_entry& s) const {
  auto* type = type_named(s.aggregate);
  if (type == nullptr)
    return make_error(errc::unknown_command,
                      "no aggregate type '" + s.aggregate + "' runs here");
  auto agg = type->make();
  auto err = guarded("aggregate '" + s.aggregate + "'", [&] {
    if (!s.snapshot.is_null())
      agg->restore(s.snapshot);
    for (auto& e : s.tail)
      agg->apply(e);
  });
  if (err)
    return err;
  return agg;
}

caf::expected<std::unique_ptr<aggregate>>
stream_store::load(std::string_view stream) const {
  auto i = streams_.find(std::string{stream});
  if (i == streams_.end())
    return make_error(errc::unknown_command,
                      "stream '" + std::string{stream} + "' has no events");
  return rebuild(i->second);
}

std::uint64_t stream_store::version(std::string_view stream) const {
  auto i = streams_.find(std::string{stream});
  return i == streams_.end() ? 0 : i->second.version;
}

std::uint64_t stream_store::snapshot_version(std::string_view stream) const {
  auto i = streams_.find(std::string{stream});
  return i == streams_.end() ? 0 : i->second.snapshot_version;
}

std::size_t stream_store::tail_size(std::string_view stream) const {
  auto i = streams_.find(std::string{stream});
  return i == streams_.end() ? 0 : i->second.tail.size();
}

caf::expected<std::vector<event>> stream_store::decide(const command& c) const {
  auto handler = handlers_.find(c.name);
  if (handler == handlers_.end())
    return make_error(errc::unknown_command,
                      "no aggregate handles command '" + c.name + "'");
  auto& type = types_[handler->second];
  if (c.stream.empty())
    return make_error(errc::command_rejected,
                      "command '" + c.name + "' names no stream");
  stream_entry empty;
  empty.aggregate = type.name;
  auto i = streams_.find(c.stream);
  auto& s = i == streams_.end() ? empty : i->second;
  if (s.version != c.expected_version)
    return make_error(errc::version_conflict,
                      "stream '" + c.stream + "': expected version "
                        + std::to_string(c.expected_version) + ", but it is at version "
                        + std::to_string(s.version));
  if (s.aggregate != type.name)
    return make_error(errc::unknown_command, "command '" + c.name
                                               + "' is for aggregate '" + type.name
                                               + "', but stream '" + c.stream
                                               + "' belongs to '" + s.aggregate + "'");
  auto agg = rebuild(s);
  if (!agg)
    return std::move(agg.error());
  caf::expected<std::vector<decided_event>> decided{std::vector<decided_event>{}};
  auto what = "aggregate '" + type.name + "' on command '" + c.name + "'";
  if (auto err = guarded(what, [&] { decided = (*agg)->handle(c); }))
    return err;
  if (!decided)
    return std::move(decided.error());
  std::vector<event> result;
  result.reserve(decided->size());
  auto version = s.version;
  for (auto& d : *decided) {
    if (d.type.empty())
      return make_error(errc::apply_failed, what + " decided an event without a type");
    event e;
    e.type = std::move(d.type);
    e.payload = std::move(d.payload);
    stamp_stream(e, c.stream, ++version, type.name);
    result.push_back(std::move(e));
  }
  // An event its own aggregate cannot apply would make the stream unloadable:
  // it is refused before it reaches the log.
  if (auto err = guarded(what + " applying its own event", [&] {
        for (auto& e : result)
          (*agg)->apply(e);
      }))
    return err;
  return result;
}

} // namespace bus
