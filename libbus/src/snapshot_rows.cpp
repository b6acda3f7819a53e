#include "bus/snapshot_rows.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serializer.hpp>

#include "bus/errc.hpp"
#include "bus/read_model.hpp"
#include "bus/restore_progress.hpp"
#include "bus/string_keys.hpp"
#include "internal/record_reader.hpp"
#include "internal/row_json.hpp"
#include "internal/row_lines.hpp"

namespace bus {

namespace {

using internal::drain;
using internal::serializer;

void append_with(boost::json::serializer& sr, std::string& out, std::string_view key,
                 const boost::json::value* value) {
  out += '[';
  sr.reset(boost::json::string_view{key.data(), key.size()});
  drain(sr, out);
  if (value != nullptr) {
    out += ',';
    sr.reset(value);
    drain(sr, out);
  }
  out += "]\n";
}

// The key of a row as it is written, quotes and escapes included: the same
// key always serializes to the same text. Empty when `line` is no row.
std::string_view raw_key(std::string_view line) {
  if (line.size() < 4 || line.front() != '[' || line[1] != '"' || line.back() != ']')
    return {};
  // A plain loop: find_first_of calls memchr over its set for every byte.
  for (std::size_t i = 2; i + 1 < line.size(); ++i) {
    if (line[i] == '"')
      return line.substr(1, i);
    if (line[i] == '\\')
      ++i; // it escapes the next character, perhaps a quote
  }
  return {};
}

// A row as the fold sees it: its key as it reads (a JSON key unescaped),
// so that the rows of a key match whatever their form. The key's first
// bytes are kept here (all of the usual keys fit): a key met again is
// compared without reading the older row, long out of the cache.
struct row_ref {
  std::uint64_t hash = 0;
  const char* line = nullptr;
  const char* key = nullptr;
  std::uint32_t line_size = 0;
  std::uint32_t key_size = 0;
  row_form form = row_form::json;
  bool removed = false;
  char head[22];

  bool same_key(const row_ref& other) const {
    if (hash != other.hash || key_size != other.key_size)
      return false;
    auto inline_size = std::min<std::size_t>(key_size, sizeof head);
    return std::memcmp(head, other.head, inline_size) == 0
           && (key_size <= sizeof head || std::memcmp(key, other.key, key_size) == 0);
  }
};

// Folds lines by key: last line wins. The lines are first spread over
// partitions by the top bits of their key's hash (sequential writes), then
// each partition, small enough for the cache, is folded with a table of its
// own: about a cache miss per surviving key rather than per line.
class row_fold {
public:
  explicit row_fold(std::size_t expected_lines) {
    std::size_t partitions = 1;
    while (partitions < 4096 && partitions * lines_per_partition < expected_lines)
      partitions *= 2;
    shift_ = 64;
    for (auto n = partitions; n > 1; n /= 2)
      --shift_;
    parts_.resize(partitions);
    for (auto& part : parts_)
      part.reserve(expected_lines / partitions + expected_lines / partitions / 4);
  }

  // `key` must outlive the fold.
  void add(std::string_view key, std::string_view line, row_form form, bool removed) {
    row_ref x;
    // Hashed as the model's tables hash it (string_hash), so that the rows
    // come out of the fold in the order of their keys' places in those
    // tables.
    x.hash = string_hash{}(key);
    x.line = line.data();
    x.key = key.data();
    x.line_size = static_cast<std::uint32_t>(line.size());
    x.key_size = static_cast<std::uint32_t>(key.size());
    x.form = form;
    x.removed = removed;
    std::memcpy(x.head, key.data(), std::min(key.size(), sizeof x.head));
    parts_[shift_ == 64 ? 0 : x.hash >> shift_].push_back(x);
  }

  // Keeps `key` (unescaped from a JSON row) for as long as the fold.
  std::string_view keep(std::string key) { return kept_.emplace_back(std::move(key)); }

  /// Calls f(row) for the last line of each key, partition by partition.
  template <class F>
  void for_each_last(F&& f) {
    constexpr auto empty = UINT32_MAX;
    std::vector<std::uint32_t> table;
    for (auto& part : parts_) {
      std::size_t capacity = 16;
      while (capacity < 2 * part.size())
        capacity *= 2;
      table.assign(capacity, empty);
      auto mask = capacity - 1;
      for (std::uint32_t i = 0; i < part.size(); ++i) {
        for (auto j = part[i].hash & mask;; j = (j + 1) & mask) {
          if (table[j] == empty || part[table[j]].same_key(part[i])) {
            table[j] = i;
            break;
          }
        }
      }
      for (auto i : table)
        if (i != empty)
          f(part[i]);
      part = {}; // done with it
    }
  }

private:
  static constexpr std::size_t lines_per_partition = 2048;

  std::vector<std::vector<row_ref>> parts_;
  std::deque<std::string> kept_;
  unsigned shift_ = 64;
};

} // namespace

void append_row(std::string& out, std::string_view key,
                const boost::json::value* value) {
  append_with(serializer(), out, key, value);
}

void append_row(std::string& out, std::string_view key, const read_model& model,
                row_form form) {
  if (form == row_form::record && model.snapshot_row_form() == row_form::record) {
    // The value goes straight into `out`: nothing appended means removed.
    auto at = internal::open_record_row(out, key);
    model.write_record(key, out);
    internal::close_record_row(out, at);
    return;
  }
  internal::text_buffer b{out};
  b.put('[');
  internal::append_string_json(b, key);
  b.put(',');
  b.flush();
  auto value_at = out.size();
  if (!model.write_value(key, out))
    out.resize(value_at - 1); // no value, no comma: ["key"]
  out += "]\n";
}

void append_rows(std::string& out, const boost::json::object& state) {
  boost::json::serializer sr;
  for (auto& kv : state)
    append_with(sr, out, {kv.key().data(), kv.key().size()}, &kv.value());
}

namespace {

// Reads each row of `folded` (one per key, none removed) into its key and
// value and calls on_json(key, value) for a JSON row, on_record(key, bytes)
// for a record row (its value checked), which return false to stop. One
// parser for every line: making one per row costs more than the parse of a
// row.
template <class OnJson, class OnRecord>
caf::error for_each_row(std::string_view folded, OnJson&& on_json,
                        OnRecord&& on_record) {
  boost::json::parser parser;
  bool stopped = false;
  return internal::for_each_row_line(
    folded, [&](std::string_view line, row_form form) -> caf::error {
      if (stopped)
        return caf::none;
      if (form == row_form::record) {
        std::string_view key, value;
        if (!internal::read_record_row(line, key, value) || value.empty()
            || !internal::checked_value(value))
          return internal::bad_row(line);
        stopped = !on_record(key, value);
        return caf::none;
      }
      boost::system::error_code ec;
      parser.reset();
      parser.write(line.data(), line.size(), ec);
      if (ec)
        return internal::bad_row(line);
      auto row = parser.release();
      auto* items = row.if_array();
      if (items == nullptr || items->size() != 2 || !(*items)[0].is_string()
          || internal::holds_nan((*items)[1]))
        return internal::bad_row(line);
      auto& key = (*items)[0].get_string();
      stopped = !on_json(std::string_view{key.data(), key.size()}, (*items)[1]);
      return caf::none;
    });
}

// The state the rows of `folded` describe, as one object.
caf::expected<boost::json::object> object_of(std::string_view folded) {
  boost::json::object state;
  auto err = for_each_row(
    folded,
    [&](std::string_view key, boost::json::value& value) {
      state.insert_or_assign(key, std::move(value));
      return true;
    },
    [&](std::string_view key, std::string_view value) {
      internal::record_reader r{value};
      auto decoded = r.value(0);
      if (internal::holds_nan(decoded))
        return false; // refused below
      state.insert_or_assign(key, std::move(decoded));
      return true;
    });
  if (err)
    return err;
  return state;
}

// The rows of a folded text.
std::size_t count_rows(std::string_view folded) {
  std::size_t n = 0;
  internal::for_each_row_line(folded, [&](std::string_view, row_form) {
    ++n;
    return caf::error{};
  });
  return n;
}

} // namespace

caf::expected<boost::json::object> rows_state(std::string_view text) {
  // Folded first: a fold costs a hash per line, a parse much more, and
  // deltas repeat keys.
  auto folded = compact_rows({text});
  if (!folded)
    return std::move(folded.error());
  return object_of(*folded);
}

caf::expected<bool> restore_rows(read_model& model, std::string text,
                                 restore_progress* progress) {
  auto folded = compact_rows({text});
  if (!folded)
    return std::move(folded.error());
  std::string{}.swap(text); // freed before the model grows
  auto rows = count_rows(*folded);
  model.reset();
  if (rows > 0) {
    model.expect_rows(rows);
    row_restorer restorer{model, progress};
    auto err = for_each_row(
      *folded,
      [&](std::string_view key, const boost::json::value& value) {
        return restorer(key, value);
      },
      [&](std::string_view key, std::string_view value) {
        return restorer.record(key, value);
      });
    if (!err && restorer.stopped())
      err = make_error(errc::model_unavailable,
                       "restore of read model '" + model.name() + "' stopped");
    if (err) {
      model.reset();
      return err;
    }
    if (restorer.by_row())
      return true;
    model.reset(); // the model restores only whole states (or not this one)
  }
  auto state = object_of(*folded);
  if (!state)
    return std::move(state.error());
  std::string{}.swap(*folded);
  if (model.restore(*state))
    return true;
  model.reset();
  return false;
}

caf::expected<std::string> compact_rows(const std::vector<std::string_view>& texts,
                                        removed_rows removed) {
  // Keys are compared as they read, so no value is parsed. A row is at
  // most 4 GiB (a row_ref keeps its size in 32 bits). Rows are some 40
  // bytes or more.
  std::size_t bytes = 0;
  for (auto text : texts)
    bytes += text.size();
  row_fold fold{bytes / 40};
  for (auto text : texts) {
    auto err = internal::for_each_row_line(
      text, [&](std::string_view line, row_form form) -> caf::error {
        if (line.size() > UINT32_MAX)
          return internal::bad_row(line);
        if (form == row_form::record) {
          std::string_view key, value;
          if (!internal::read_record_row(line, key, value))
            return internal::bad_row(line);
          fold.add(key, line, form, value.empty());
          return caf::none;
        }
        auto quoted = raw_key(line);
        if (quoted.empty())
          return internal::bad_row(line);
        // ["key"] (the key and its brackets) says the key was removed.
        auto gone = line.size() == quoted.size() + 2;
        auto key = quoted.substr(1, quoted.size() - 2);
        if (key.find('\\') != std::string_view::npos) {
          // Rare: a key with an escape, read as a record row would hold it.
          boost::system::error_code ec;
          auto parsed = boost::json::parse(quoted, ec);
          if (ec || !parsed.is_string())
            return internal::bad_row(line);
          auto& x = parsed.get_string();
          key = fold.keep(std::string{x.data(), x.size()});
        }
        fold.add(key, line, form, gone);
        return caf::none;
      });
    if (err)
      return err;
  }
  // Room for every row at once: the output is at most the input, only
  // the pages written are touched, and growing by doubling would copy the
  // rows up to twice more into fresh memory (a large buffer's pages go
  // back to the system when it is freed).
  std::string out;
  out.reserve(bytes);
  fold.for_each_last([&](const row_ref& x) {
    if (removed == removed_rows::drop && x.removed)
      return;
    out.append(x.line, x.line_size);
    if (x.form == row_form::json)
      out += '\n';
  });
  return out;
}

} // namespace bus
