// Record rows (snapshot_rows.hpp): the rows of models that hold their
// values in record form, mixed with JSON lines in one text.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bus/document_model.hpp"
#include "bus/errc.hpp"
#include "bus/index_model.hpp"
#include "bus/snapshot_rows.hpp"
#include "internal/event_record.hpp"
#include "internal/record_reader.hpp"
#include "internal/record_tags.hpp"
#include "support/json_events.hpp"

using namespace bus;
using bus::test::json;
using bus::test::make_event;

namespace {

// The encoded value of `x`: a tag byte, then the value.
std::string encoded(const boost::json::value& x) {
  // An object of one field holds the value with its tag: cut the rest.
  std::string object;
  internal::encode_object(boost::json::object{{"", x}}, object);
  // varint(1) "" (varint(0)) then the value.
  return object.substr(2);
}

boost::json::value decoded(std::string_view value) {
  internal::record_reader r{value};
  return r.value(0);
}

boost::json::object rows_of(std::string_view text) {
  auto state = rows_state(text);
  BOOST_REQUIRE_MESSAGE(state, "rows_state failed");
  return *state;
}

// The rows of `text` as JSON lines, one per row.
std::vector<std::string> json_lines(std::string_view text) {
  auto lines = rows_as_json(text);
  BOOST_REQUIRE(lines);
  std::vector<std::string> result;
  for (std::size_t at = 0; at < lines->size();) {
    auto end = lines->find('\n', at);
    result.push_back(lines->substr(at, end - at));
    at = end + 1;
  }
  return result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(record_rows)

BOOST_AUTO_TEST_CASE(the_last_row_of_a_key_wins_whatever_its_form) {
  // Keys with escapes in their JSON form, non-ASCII, the empty key.
  std::vector<std::string> keys{"plain",          "with \"quotes\"", "back\\slash",
                                "tab\tnew\nline", "caf\xc3\xa9",     ""};
  std::string text;
  boost::json::object expected;
  auto one = json("1");
  // A JSON base, then record rows over it, then JSON rows over those.
  for (auto& key : keys)
    append_row(text, key, &one);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto value = json(R"({"n": )" + std::to_string(i) + R"(, "s": "x\"y"})");
    if (i % 3 == 2) {
      append_record_row(text, keys[i], {}); // removed
      continue;
    }
    append_record_row(text, keys[i], encoded(value));
    expected[keys[i]] = value;
  }
  append_row(text, keys[0], nullptr); // a JSON removal of a record row
  expected.erase(keys[0]);
  auto two = json("[2]");
  append_row(text, keys[2], &two); // back, as JSON
  expected[keys[2]] = two;
  BOOST_TEST(rows_of(text) == expected);
  // A fold keeps one row per key, in the form it was written in.
  auto base = compact_rows({text});
  BOOST_REQUIRE(base);
  BOOST_TEST(json_lines(*base).size() == expected.size());
  BOOST_TEST(rows_of(*base) == expected);
  // A delta keeps the removals, which still remove the base's rows.
  auto delta = compact_rows({text}, removed_rows::keep);
  BOOST_REQUIRE(delta);
  BOOST_TEST(json_lines(*delta).size() == keys.size());
  std::string old_base;
  for (auto& key : keys)
    append_record_row(old_base, key, encoded(json("0")));
  BOOST_TEST(rows_of(old_base + *delta) == expected);
  // As JSON lines, as a store that keeps text holds them: the same state,
  // and every line JSON.
  auto lines = rows_as_json(text);
  BOOST_REQUIRE(lines);
  BOOST_TEST(lines->find('\0') == std::string::npos);
  BOOST_TEST(rows_of(*lines) == expected);
  for (auto& line : json_lines(text))
    BOOST_TEST(boost::json::parse(line).is_array(), line);
}

BOOST_AUTO_TEST_CASE(models_write_records_of_what_their_queries_answer) {
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  index_model emails{{"emails", "email", "id", {"Set", "Merge"}, {"Drop"}}};
  std::vector<bus::read_model*> models{&docs, &emails};
  std::mt19937_64 rng{5};
  std::vector<std::string> types{"Set", "Merge", "Drop"};
  for (int i = 0; i < 2000; ++i) {
    auto id = "u" + std::to_string(rng() % 30);
    auto email = "m" + std::to_string(rng() % 40) + "@x";
    auto e = make_event(types[rng() % 3], R"({"id": ")" + id + R"(", "email": ")"
                                            + email + R"(", "n": )" + std::to_string(i)
                                            + R"(, "d": 0.5, "tags": ["a", null]})");
    for (auto* m : models) {
      BOOST_REQUIRE((m->snapshot_row_form() == row_form::record));
      m->apply(e);
      for (auto& key : {id, email}) {
        std::string value;
        auto present = m->write_record(key, value);
        auto answer = m->query(key);
        BOOST_REQUIRE_EQUAL(present, answer.has_value());
        if (present)
          BOOST_REQUIRE_EQUAL(boost::json::serialize(decoded(value)),
                              boost::json::serialize(*answer));
        else
          BOOST_REQUIRE(value.empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(models_restore_record_rows_as_they_wrote_them) {
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  index_model emails{{"emails", "email", "id", {"Set", "Merge"}, {"Drop"}}};
  docs.track_changes();
  emails.track_changes();
  std::string doc_rows, email_rows;
  std::vector<std::string> changed;
  for (int i = 0; i < 500; ++i) {
    auto e = make_event(i % 7 == 6 ? "Drop" : (i % 2 == 0 ? "Set" : "Merge"),
                        R"({"id": "u)" + std::to_string(i % 40) + R"(", "email": "m)"
                          + std::to_string(i % 25) + R"(@x", "n": )" + std::to_string(i)
                          + "}");
    for (auto [m, rows] :
         {std::pair{static_cast<bus::read_model*>(&docs), &doc_rows},
          std::pair{static_cast<bus::read_model*>(&emails), &email_rows}}) {
      m->apply(e);
      changed.clear();
      m->take_changes(changed);
      for (auto& key : changed)
        append_row(*rows, key, *m);
    }
  }
  // Every row is a record row.
  BOOST_TEST(doc_rows.front() == '\0');
  document_model docs2{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  index_model emails2{{"emails", "email", "id", {"Set", "Merge"}, {"Drop"}}};
  auto by_row = restore_rows(docs2, doc_rows);
  BOOST_REQUIRE(by_row && *by_row);
  by_row = restore_rows(emails2, email_rows);
  BOOST_REQUIRE(by_row && *by_row);
  BOOST_TEST(docs2.snapshot() == docs.snapshot());
  BOOST_TEST(emails2.snapshot() == emails.snapshot());
  // The same rows as JSON lines restore the same state.
  document_model docs3{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  auto lines = rows_as_json(doc_rows);
  BOOST_REQUIRE(lines);
  by_row = restore_rows(docs3, *lines);
  BOOST_REQUIRE(by_row && *by_row);
  BOOST_TEST(docs3.snapshot() == docs.snapshot());
  // A restored document goes on as the original: a merge keeps its fields.
  auto merge = make_event("Merge", R"({"id": "u1", "extra": true})");
  docs.apply(merge);
  docs2.apply(merge);
  BOOST_TEST((docs2.query("u1") == docs.query("u1")));
}

BOOST_AUTO_TEST_CASE(a_document_row_holding_a_key_twice_is_restored_as_json_would_be) {
  // Not written by a document_model, but read from a file: the document
  // keeps the first value of the key, as a decoded object does.
  std::string object;
  internal::put_varint(object, 2);
  for (auto n : {1, 2}) {
    internal::put_varint(object, 1);
    object += 'k';
    object += static_cast<char>(internal::tag_int64);
    internal::put_varint(object, static_cast<std::uint64_t>(n) * 2); // zigzag
  }
  std::string text;
  append_record_row(text, "doc", static_cast<char>(internal::tag_object) + object);
  document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
  auto by_row = restore_rows(docs, text);
  BOOST_REQUIRE(by_row && *by_row);
  BOOST_TEST((docs.query("doc") == json(R"({"k": 1})")));
  std::string written;
  BOOST_REQUIRE(docs.write_record("doc", written));
  BOOST_TEST(boost::json::serialize(decoded(written)) == R"({"k":1})");
}

BOOST_AUTO_TEST_CASE(record_rows_that_do_not_read_are_a_storage_error) {
  auto good = [] {
    std::string row;
    append_record_row(row, "k", encoded(json(R"({"a": [1, 2.5]})")));
    return row;
  }();
  std::vector<std::string> framing{
    std::string(1, '\0'),                    // no length
    std::string("\0\x01\0\0", 4),            // a length cut short
    good.substr(0, good.size() - 1),         // shorter than its length
    std::string("\0\x01\0\0\0", 5) + "\x05", // a key longer than the row
  };
  for (auto& bad : framing) {
    auto state = rows_state(bad);
    BOOST_TEST(!state);
    if (!state)
      BOOST_TEST(code_of(state.error()) == errc::storage_failed);
    auto base = compact_rows({bad});
    BOOST_TEST(!base);
    if (!base)
      BOOST_TEST(code_of(base.error()) == errc::storage_failed);
  }
  // Framed, but the value does not read: refused when restored.
  std::vector<std::string> values{
    std::string(1, '\x63'), // no such tag
    std::string(1, static_cast<char>(internal::tag_string))
      + "\x09"
        "ab",                       // cut short
    encoded(json("1")) + "x",       // bytes after the value
    encoded(json(R"({"n": 1.5})")), // NaN, patched below
  };
  auto& nan = values.back();
  double d = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(nan.data() + nan.size() - 8, &d, 8);
  for (auto& value : values) {
    std::string bad;
    append_record_row(bad, "k", value);
    auto state = rows_state(good + bad);
    BOOST_TEST(!state);
    if (!state)
      BOOST_TEST(code_of(state.error()) == errc::storage_failed);
    document_model docs{{"docs", "id", {"Set"}, {"Merge"}, {"Drop"}, {}}};
    auto restored = restore_rows(docs, good + bad);
    BOOST_TEST(!restored);
    BOOST_TEST(!docs.holds("k"));
    BOOST_TEST(!rows_as_json(bad));
  }
  BOOST_TEST(rows_of(good) == json(R"({"k": {"a": [1, 2.5]}})").as_object());
}

BOOST_AUTO_TEST_CASE(record_rows_hold_only_what_a_json_line_can) {
  // Keys and strings must be UTF-8 as Boost.JSON reads it, or the rows
  // would fold and restore where their JSON lines do not (found by the
  // snapshot_text fuzzer: a removed row whose key held \xff).
  auto text_of = [](std::string_view s) {
    std::string value(1, static_cast<char>(internal::tag_string));
    internal::put_varint(value, s.size());
    value.append(s.data(), s.size());
    return value;
  };
  for (std::string ok :
       {"caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf", "plain ascii longer than 8"}) {
    std::string rows;
    append_record_row(rows, ok, text_of(ok));
    auto state = rows_state(rows);
    BOOST_REQUIRE_MESSAGE(state, ok);
    BOOST_TEST(state->at(ok).as_string() == ok);
    auto lines = rows_as_json(rows);
    BOOST_REQUIRE(lines);
    BOOST_TEST(rows_of(*lines) == *state);
  }
  for (std::string bad :
       {std::string{"\xff"}, std::string{"ab\xc3"}, std::string{"\xc0\xaf"}, // overlong
        std::string{"\xed\xa0\x80"},     // a surrogate
        std::string{"\xf4\x90\x80\x80"}, // past U+10FFFF
        std::string{"12345678\x80"}}) {
    std::string key_row, removed_row, value_row;
    append_record_row(key_row, bad, text_of("v"));
    append_record_row(removed_row, bad, {});
    append_record_row(value_row, "k", text_of(bad));
    for (auto* rows : {&key_row, &removed_row, &value_row}) {
      auto state = rows_state(*rows);
      BOOST_TEST(!state);
      if (!state)
        BOOST_TEST(code_of(state.error()) == errc::storage_failed);
      BOOST_TEST(!rows_as_json(*rows));
    }
    BOOST_TEST(!compact_rows({key_row}));
    BOOST_TEST(!compact_rows({removed_row}));
  }
}

BOOST_AUTO_TEST_SUITE_END()
