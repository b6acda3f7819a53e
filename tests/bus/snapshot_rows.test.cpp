#include "bus/snapshot_rows.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/forwarding_model.hpp"
#include "bus/index_model.hpp"
#include "bus/restore_progress.hpp"
#include "support/json_events.hpp"

using namespace bus;
using bus::test::json;
using bus::test::make_event;

namespace {

boost::json::object rows_of(std::string_view text) {
  auto state = rows_state(text);
  BOOST_REQUIRE_MESSAGE(state, text);
  return *state;
}

std::string folded(const std::vector<std::string_view>& texts) {
  auto base = compact_rows(texts);
  BOOST_REQUIRE(base);
  return *base;
}

std::size_t lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Events per id, dropped on "Drop": a C++ model that leaves write_value to
// the default.
class tally final : public read_model {
public:
  const std::string& name() const noexcept override { return name_; }
  const std::vector<std::string>& event_types() const noexcept override {
    return types_;
  }
  bool apply(const event& e) override {
    auto id = std::string{e.payload.at("id").as_string()};
    if (e.type == "Drop")
      counts_.erase(id);
    else
      ++counts_[id];
    return true;
  }
  std::optional<boost::json::value> query(std::string_view key) const override {
    auto i = counts_.find(std::string{key});
    if (i == counts_.end())
      return std::nullopt;
    return boost::json::value(i->second);
  }
  boost::json::value snapshot() const override { return nullptr; }
  void reset() override { counts_.clear(); }

private:
  std::string name_ = "tally";
  std::vector<std::string> types_{"*"};
  std::map<std::string, std::int64_t> counts_;
};

// A model that restores only whole states: restore_row() left to the
// default, as a user's model written before it existed.
class whole_only final : public forwarding_model {
public:
  using forwarding_model::forwarding_model;
  bool restore_row(std::string_view key, const boost::json::value& value) override {
    return read_model::restore_row(key, value);
  }
  bool restore(const boost::json::value& state) override {
    ++wholes;
    return forwarding_model::restore(state);
  }
  int wholes = 0;
};

// The rows a projector records for `model` while it applies `n` random
// events (creations, merges and removals of 30 users with 20 emails).
std::string recorded_rows(read_model& model, int n, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<std::string> types{"Set", "Merge", "Drop"};
  std::string text;
  std::vector<std::string> changed;
  for (int i = 0; i < n; ++i) {
    auto id = "u" + std::to_string(rng() % 30);
    auto email = "m" + std::to_string(rng() % 20) + "@x";
    model.apply(make_event(types[rng() % 3], R"({"id": ")" + id + R"(", "email": ")"
                                               + email + R"(", "n": )"
                                               + std::to_string(i) + "}"));
    changed.clear();
    model.take_changes(changed);
    for (auto& key : changed)
      append_row(text, key, model);
  }
  return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(snapshot_rows)

BOOST_AUTO_TEST_CASE(the_last_line_of_each_key_is_its_state) {
  std::string text;
  auto one = json("1");
  auto doc = json(R"({"name": "Ada", "tags": [1, 2]})");
  auto two = json("2");
  append_row(text, "a", &one);
  append_row(text, "b", &doc);
  append_row(text, "a", &two);
  append_row(text, "b", nullptr); // removed
  append_row(text, "c", &one);
  append_row(text, "c", nullptr);
  append_row(text, "c", &doc); // and back
  BOOST_TEST(text.find(R"(["b"])") != std::string::npos, text);
  BOOST_TEST(rows_of(text)
             == json(R"({"a": 2, "c": {"name": "Ada", "tags": [1, 2]}})"));
}

BOOST_AUTO_TEST_CASE(any_key_and_any_value_survive_a_round_trip) {
  // Quotes, backslashes, control characters, non-ASCII, the empty key,
  // a key that looks like a removal, and null (present, not removed).
  std::vector<std::string> keys{"plain",          "with \"quotes\"", "back\\slash",
                                "tab\tnew\nline", "caf\xc3\xa9",     "",
                                "[\"x\"]",        "ends with \\"};
  std::vector<boost::json::value> values{json("null"), json("\"\\\"]\\n\""),
                                         json("[]"),   json(R"({"k": "v\\"})"),
                                         json("-1.5"), json("true"),
                                         json("\"\""), json("0")};
  std::string text;
  boost::json::object expected;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    append_row(text, keys[i], &values[i]);
    expected[keys[i]] = values[i];
  }
  BOOST_TEST(lines(text) == keys.size());
  BOOST_TEST(rows_of(text) == expected);
  BOOST_TEST(rows_of(folded({text})) == expected);
  // Every line is JSON: any tool reads it.
  for (std::size_t start = 0; start < text.size();) {
    auto end = text.find('\n', start);
    BOOST_TEST(boost::json::parse(text.substr(start, end - start)).is_array());
    start = end + 1;
  }
}

BOOST_AUTO_TEST_CASE(strings_are_written_as_the_serializer_writes_them) {
  // Keys are compared as written: rows written by an earlier release (by
  // Boost's serializer) must name a key exactly as rows written now.
  std::vector<std::string> strings{
    "",        "plain", "user-42", "with \"quotes\"", "back\\slash", "caf\xc3\xa9",
    "/slash/", "\x7f",  "\xff\xfe"};
  for (int c = 0; c < 0x80; ++c)
    strings.push_back(std::string{"a"} + static_cast<char>(c) + "z");
  // One escaped (or not) byte at every place of strings up to 24 bytes:
  // the check for one reads them eight at a time, the last eight maybe
  // overlapping the ones before.
  for (std::size_t n = 1; n <= 24; ++n)
    for (std::size_t at = 0; at < n; ++at)
      for (char c : {'"', '\\', '\x01', '\x1f', ' ', '!', '#', '[', ']', '\x7f'}) {
        strings.push_back(std::string(n, 'x'));
        strings.back()[at] = c;
      }
  // Strings about as long as the writer's buffer, plain or escaped last.
  for (std::size_t n : std::vector<std::size_t>{470, 477, 478, 479, 480, 481, 1000})
    for (char c : {'y', '"', '\x01'}) {
      strings.push_back(std::string(n, 'x'));
      strings.back().back() = c;
    }
  for (auto& x : strings) {
    std::string written;
    append_json(written, std::string_view{x});
    BOOST_TEST(written == boost::json::serialize(boost::json::string(x)), x);
    std::string in_value;
    append_json(in_value, boost::json::value(boost::json::string(x)));
    BOOST_TEST(in_value == written, x);
  }
}

BOOST_AUTO_TEST_CASE(objects_longer_than_the_writers_buffer_are_written_whole) {
  // Fields that cross the writer's buffer at every offset, after text
  // already in the string.
  boost::json::object doc;
  for (int i = 0; i < 64; ++i)
    doc["field-" + std::to_string(i)] = std::string(static_cast<std::size_t>(i), 'v')
                                        + (i % 7 == 0 ? "\"" : "");
  std::string written = "[\"k\",";
  append_json(written, boost::json::value(doc));
  BOOST_TEST(written == "[\"k\"," + boost::json::serialize(doc));
}

BOOST_AUTO_TEST_CASE(values_read_back_as_they_were_written) {
  // Nested deeper than the parser's default limit: read back with a higher one.
  boost::json::value deep = 1;
  for (int i = 0; i < 40; ++i)
    deep = i % 2 == 0 ? boost::json::value(boost::json::array{deep})
                      : boost::json::value(boost::json::object{{"k", deep}});
  boost::json::parse_options nested;
  nested.max_depth = 64;
  for (auto text :
       {std::string{"{}"}, std::string{"[]"}, std::string{"null"},
        std::string{
          R"({"id":"user-1","name":"Ada \"A\"","n":-9223372036854775808,)"
          R"("u":18446744073709551615,"d":-1.5e-300,"b":[true,false,null,0.1]})"},
        boost::json::serialize(deep)}) {
    auto value = boost::json::parse(text, {}, nested);
    std::string written;
    append_json(written, value);
    BOOST_TEST(boost::json::parse(written, {}, nested) == value, text);
    if (value.is_object()) {
      std::string object;
      append_json(object, value.get_object());
      BOOST_TEST(object == written, text);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_fold_keeps_one_line_per_key_and_drops_removals) {
  std::string base;
  std::string delta1;
  std::string delta2;
  auto v = [](int x) { return boost::json::value(x); };
  for (int k = 0; k < 10; ++k) {
    auto x = v(k);
    append_row(base, "key-" + std::to_string(k), &x);
  }
  auto x = v(100);
  append_row(delta1, "key-1", &x);
  append_row(delta1, "key-2", nullptr);
  append_row(delta1, "key-10", &x);
  auto y = v(200);
  append_row(delta2, "key-1", &y);
  append_row(delta2, "key-2", &y); // removed, then back
  append_row(delta2, "key-3", nullptr);
  auto base_view = std::string_view{base};
  auto all = base + delta1 + delta2;
  auto result = folded({base_view, delta1, delta2});
  BOOST_TEST(lines(result) == 10u); // 0..10 without 3
  BOOST_TEST(result.find(R"(["key-3"])") == std::string::npos);
  BOOST_TEST(rows_of(result) == rows_of(all));
  BOOST_TEST(rows_of(result).at("key-1") == v(200));
  BOOST_TEST(rows_of(result).at("key-2") == v(200));
  BOOST_TEST(!rows_of(result).contains("key-3"));
  // Folded as a delta, the removal stays: it must still remove key-3 from
  // the base before it.
  auto delta = compact_rows({delta1, delta2}, removed_rows::keep);
  BOOST_REQUIRE(delta);
  BOOST_TEST(lines(*delta) == 4u); // key-1, key-2, key-3, key-10
  BOOST_TEST(delta->find(R"(["key-3"])") != std::string::npos);
  BOOST_TEST(rows_of(base + *delta) == rows_of(all));
}

BOOST_AUTO_TEST_CASE(random_changes_fold_to_what_a_map_holds) {
  // Many partitions, colliding keys, removals: the fold and the rows' state
  // equal a plain map of the same changes.
  std::mt19937_64 rng{7};
  std::map<std::string, boost::json::value> expected;
  std::vector<std::string> texts(5);
  for (auto& text : texts)
    for (int i = 0; i < 30000; ++i) {
      auto key = "k" + std::to_string(rng() % 20000);
      if (rng() % 5 == 0) {
        append_row(text, key, nullptr);
        expected.erase(key);
      } else {
        auto value = boost::json::value{{"n", i}, {"key", key}};
        append_row(text, key, &value);
        expected[key] = value;
      }
    }
  boost::json::object state;
  for (auto& [k, v] : expected)
    state[k] = v;
  std::string all;
  for (auto& text : texts)
    all += text;
  auto result = folded({texts.begin(), texts.end()});
  BOOST_TEST(lines(result) == expected.size());
  BOOST_TEST(rows_of(result) == state);
  BOOST_TEST(rows_of(all) == state);
}

BOOST_AUTO_TEST_CASE(lines_that_are_not_rows_are_a_storage_error) {
  for (std::string bad : {"not json\n", "[]\n", "[1, 2]\n",
                          R"(["k", 1, 2])"
                          "\n",
                          R"({"k": 1})"
                          "\n",
                          R"(["unterminated)"
                          "\n",
                          // Boost.JSON 1.81 reads these as NaN (found by the
                          // snapshot_text fuzzer).
                          R"(["k", {"n": [-0e9991]}])"
                          "\n",
                          R"(["k", 0e999])"
                          "\n"}) {
    auto state = rows_state(bad);
    BOOST_TEST(!state, bad);
    if (!state)
      BOOST_TEST(code_of(state.error()) == errc::storage_failed);
  }
  for (std::string bad : {"not json\n", "[1]\n",
                          R"(["unterminated)"
                          "\n"}) {
    auto base = compact_rows({bad});
    BOOST_TEST(!base, bad);
    if (!base)
      BOOST_TEST(code_of(base.error()) == errc::storage_failed);
  }
}

BOOST_AUTO_TEST_CASE(models_write_what_their_queries_answer) {
  // write_value (the rows of a snapshot) answers what query() does for
  // every key at every point, also right after an apply, for the
  // declarative models and for a model that leaves it to the default.
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  index_model emails{{"emails", "email", "id", {"Set", "Merge"}, {"Drop"}}};
  tally counts;
  std::vector<read_model*> models{&docs, &emails, &counts};
  std::mt19937_64 rng{11};
  std::vector<std::string> types{"Set", "Merge", "Drop"};
  std::vector<std::string> keys;
  for (int k = 0; k < 40; ++k)
    keys.push_back("u" + std::to_string(k));
  for (int k = 0; k < 60; ++k)
    keys.push_back("m" + std::to_string(k) + "@x");
  for (int i = 0; i < 3000; ++i) {
    auto id = "u" + std::to_string(rng() % 40);
    auto email = "m" + std::to_string(rng() % 60) + "@x";
    auto e = make_event(types[rng() % 3],
                        R"({"id": ")" + id + R"(", "email": ")" + email + R"("})");
    for (auto* m : models) {
      m->apply(e);
      for (auto& key : keys) {
        std::string text;
        auto present = m->write_value(key, text);
        auto value = m->query(key);
        BOOST_REQUIRE_EQUAL(present, value.has_value());
        if (present)
          BOOST_REQUIRE_EQUAL(text, boost::json::serialize(*value));
        else
          BOOST_REQUIRE(text.empty());
      }
    }
    if (i % 1000 == 999) {
      // Restored and reset models answer alike.
      auto state = docs.snapshot();
      BOOST_REQUIRE(docs.restore(state));
      emails.reset();
    }
  }
}

BOOST_AUTO_TEST_CASE(restore_rows_restores_row_by_row_or_whole) {
  auto docs_config = document_model_config{"docs",    "id",     {"Set"},
                                           {"Merge"}, {"Drop"}, {}};
  auto emails_config = index_model_config{
    "emails", "email", "id", {"Set", "Merge"}, {"Drop"}};
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    document_model docs{docs_config};
    index_model emails{emails_config};
    docs.track_changes();
    emails.track_changes();
    auto doc_rows = recorded_rows(docs, 400, seed);
    auto email_rows = recorded_rows(emails, 400, seed);
    auto docs_state = docs.snapshot();
    // Row by row, into models that held something else before.
    document_model docs2{docs_config};
    index_model emails2{emails_config};
    recorded_rows(docs2, 50, seed + 100);
    recorded_rows(emails2, 50, seed + 100);
    auto by_row = restore_rows(docs2, doc_rows);
    BOOST_REQUIRE(by_row && *by_row);
    BOOST_TEST(docs2.snapshot() == docs.snapshot());
    by_row = restore_rows(emails2, email_rows);
    BOOST_REQUIRE(by_row && *by_row);
    BOOST_TEST(emails2.snapshot() == emails.snapshot());
    for (auto& key : {"u1", "u7", "m3@x", "m11@x"}) {
      BOOST_TEST((docs2.query(key) == docs.query(key)), key);
      BOOST_TEST((emails2.query(key) == emails.query(key)), key);
    }
    // And they go on as the originals do.
    recorded_rows(docs, 100, seed + 200);
    recorded_rows(docs2, 100, seed + 200);
    recorded_rows(emails, 100, seed + 200);
    recorded_rows(emails2, 100, seed + 200);
    BOOST_TEST(docs2.snapshot() == docs.snapshot());
    BOOST_TEST(emails2.snapshot() == emails.snapshot());
    // Whole, for a model that cannot restore row by row.
    whole_only docs3{std::make_unique<document_model>(docs_config)};
    auto whole = restore_rows(docs3, doc_rows);
    BOOST_REQUIRE(whole && *whole);
    BOOST_TEST(docs3.wholes == 1);
    BOOST_TEST(docs3.snapshot() == docs_state);
  }
}

BOOST_AUTO_TEST_CASE(restore_rows_leaves_a_model_empty_when_it_cannot) {
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  docs.track_changes();
  auto rows = recorded_rows(docs, 200, 7);
  BOOST_REQUIRE(!docs.snapshot().as_object().empty());
  // A model that restores nothing.
  tally counts;
  counts.apply(make_event("Set", R"({"id": "u1"})"));
  auto none = restore_rows(counts, rows);
  BOOST_REQUIRE(none);
  BOOST_TEST(!*none);
  BOOST_TEST(!counts.query("u1").has_value());
  // A line that is not a row, after rows the model took.
  auto bad = restore_rows(docs, rows + "[\"u1\", 0e999]\n");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(code_of(bad.error()) == errc::storage_failed);
  BOOST_TEST(docs.snapshot().as_object().empty());
  // Values the model does not hold (a document is an object).
  docs.apply(make_event("Set", R"({"id": "u2"})"));
  auto wrong = restore_rows(docs, "[\"u1\",{\"id\":\"u1\"}]\n[\"u2\",5]\n");
  BOOST_REQUIRE(wrong);
  BOOST_TEST(!*wrong);
  BOOST_TEST(docs.snapshot().as_object().empty());
  // No rows at all: an empty model.
  docs.apply(make_event("Set", R"({"id": "u3"})"));
  auto empty = restore_rows(docs, "");
  BOOST_REQUIRE(empty && *empty);
  BOOST_TEST(docs.snapshot().as_object().empty());
}

BOOST_AUTO_TEST_CASE(restore_rows_gives_up_when_told_to_stop) {
  // Its projector stopped: the restore stops at its next count of rows,
  // leaves the model empty, and says why.
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  std::string rows;
  constexpr std::uint64_t keys = 3 * restore_progress::rows_per_update;
  for (std::uint64_t i = 0; i < keys; ++i)
    rows += "[\"u" + std::to_string(i) + "\",{\"id\":\"u" + std::to_string(i)
            + "\"}]\n";
  restore_progress progress;
  auto all = restore_rows(docs, rows, &progress);
  BOOST_REQUIRE(all && *all);
  BOOST_TEST(progress.rows.load() == keys);
  BOOST_TEST(docs.snapshot().as_object().size() == keys);
  restore_progress stopping;
  stopping.stop = true;
  auto stopped = restore_rows(docs, rows, &stopping);
  BOOST_REQUIRE(!stopped);
  BOOST_TEST(code_of(stopped.error()) == errc::model_unavailable);
  BOOST_TEST(context_of(stopped.error()).find("stopped") != std::string::npos);
  BOOST_TEST(stopping.rows.load() == restore_progress::rows_per_update);
  BOOST_TEST(docs.snapshot().as_object().empty());
}

BOOST_AUTO_TEST_SUITE_END()
