// Configurations whose parts contradict each other, refused at load rather
// than run with one side silently winning: model names that one SQLite
// table would share, an event type in two roles of a document or index
// model.

#include "bus/config.hpp"

#include "bus/errc.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

using namespace bus;

namespace {

std::string conflicting_models(std::string_view models) {
  return R"({"read_models": [)" + std::string{models} + "]}";
}

std::string document_text(std::string_view name, std::string_view roles,
                          std::string_view storage = "memory") {
  return R"({"name": ")" + std::string{name} + R"(", "kind": "document", "key": "id", )"
         + std::string{roles} + R"(, "storage": ")" + std::string{storage} + R"("})";
}

std::string index_text(std::string_view name, std::string_view roles) {
  return R"({"name": ")" + std::string{name}
         + R"(", "kind": "index", "key": "email", "target": "id", )"
         + std::string{roles} + "}";
}

// The refusal's text, "" when `text` was accepted.
std::string refusal_of(std::string_view text) {
  auto result = parse_config(text);
  if (result)
    return {};
  BOOST_TEST(code_of(result.error()) == errc::invalid_config);
  return context_of(result.error());
}

bool opens_with(const std::string& x, std::string_view prefix) {
  return x.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_conflicts)

BOOST_AUTO_TEST_CASE(model_names_that_differ_only_in_case_are_refused) {
  // SQLite table names ignore case: model_users and model_USERS are one
  // table, and each model would load the other's rows after a restart.
  auto both_tables = conflicting_models(
    document_text("users", R"("merge_on": ["A"])", "sqlite") + ", "
    + document_text("USERS", R"("merge_on": ["B"])", "sqlite"));
  auto why = refusal_of(both_tables);
  BOOST_TEST_INFO("refusal: " << why);
  BOOST_TEST(opens_with(why, "read_models[1].name:"));
  BOOST_TEST(why.find("\"USERS\"") != std::string::npos);
  BOOST_TEST(why.find("\"users\"") != std::string::npos);
  // A model kept in memory may move to a table by a blue/green rebuild
  // under its name: refused too.
  auto one_table = conflicting_models(
    document_text("a_b", R"("merge_on": ["A"])") + ", "
    + document_text("A_B", R"("merge_on": ["A"])", "sqlite"));
  why = refusal_of(one_table);
  BOOST_TEST_INFO("refusal: " << why);
  BOOST_TEST(opens_with(why, "read_models[1].name:"));
  BOOST_TEST(why.find("\"a_b\"") != std::string::npos);
  BOOST_TEST(why.find("\"A_B\"") != std::string::npos);
  // Names that differ otherwise are distinct tables.
  BOOST_TEST(refusal_of(conflicting_models(
               document_text("users", R"("merge_on": ["A"])", "sqlite") + ", "
               + document_text("users2", R"("merge_on": ["A"])", "sqlite")))
             == "");
}

BOOST_AUTO_TEST_CASE(event_type_in_two_document_roles_is_refused) {
  struct conflict {
    const char* roles;
    const char* first;
    const char* second;
  };
  for (auto c :
       {conflict{R"("merge_on": ["A", "B"], "delete_on": ["B"])", "merge_on",
                 "delete_on"},
        conflict{R"("upsert_on": ["B"], "merge_on": ["B"])", "upsert_on", "merge_on"},
        conflict{R"("upsert_on": ["B"], "delete_on": ["C", "B"])", "upsert_on",
                 "delete_on"}}) {
    BOOST_TEST_CONTEXT("roles " << c.roles) {
      auto why = refusal_of(conflicting_models(document_text("orders", c.roles)));
      BOOST_TEST_INFO("refusal: " << why);
      BOOST_TEST(opens_with(why, "read_models[0]:"));
      BOOST_TEST(why.find("\"orders\"") != std::string::npos);
      BOOST_TEST(why.find("\"B\"") != std::string::npos);
      BOOST_TEST(why.find(c.first) != std::string::npos);
      BOOST_TEST(why.find(c.second) != std::string::npos);
    }
  }
  // A blue/green definition is checked the same way.
  auto definition = parse_model_definition(
    boost::json::parse(
      document_text("orders", R"("merge_on": ["B"], "delete_on": ["B"])")),
    "body.definition");
  BOOST_REQUIRE(!definition);
  BOOST_TEST(opens_with(context_of(definition.error()), "body.definition:"));
  // A type named twice in one role is no conflict.
  BOOST_TEST(
    refusal_of(conflicting_models(document_text("orders", R"("merge_on": ["B", "B"])")))
    == "");
}

BOOST_AUTO_TEST_CASE(event_type_in_both_roles_of_an_index_model_is_refused) {
  auto why = refusal_of(conflicting_models(
    index_text("by_email", R"("set_on": ["A", "B"], "delete_on": ["B"])")));
  BOOST_TEST_INFO("refusal: " << why);
  BOOST_TEST(opens_with(why, "read_models[0]:"));
  BOOST_TEST(why.find("\"by_email\"") != std::string::npos);
  BOOST_TEST(why.find("\"B\" in both set_on and delete_on") != std::string::npos);
  BOOST_TEST(refusal_of(conflicting_models(
               index_text("by_email", R"("set_on": ["A"], "delete_on": ["B"])")))
             == "");
}

BOOST_AUTO_TEST_SUITE_END()
