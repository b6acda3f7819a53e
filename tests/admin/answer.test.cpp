#include "bus/admin/answer.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>

#include "bus/errc.hpp"

using namespace bus::admin;

namespace {

boost::json::value error_of(const answer& a) {
  return boost::json::parse(a.body).at("error");
}

} // namespace

BOOST_AUTO_TEST_SUITE(answer_suite)

BOOST_AUTO_TEST_CASE(an_error_body_names_its_code_and_message) {
  auto a = error_answer(error_code::no_such_model, "no read model named 'nosuch'");
  BOOST_TEST(a.status == 404u);
  BOOST_TEST(a.content_type == "application/json");
  BOOST_TEST(
    a.body
    == R"({"error": {"code": "no_such_model", "message": "no read model named 'nosuch'"}})");
}

BOOST_AUTO_TEST_CASE(a_message_that_is_not_utf8_still_gives_a_json_body) {
  // A %-decoded model name holds any bytes; the body must stay JSON (which
  // is UTF-8): bytes that are not UTF-8 become U+FFFD. Found by the hostile
  // lines sent to the admin endpoint (tests/hostile).
  std::string name = "a\xfe"
                     "b\xc0\x80"
                     "c\xed\xa0\x80"
                     "d\xf4\x90\x80\x80"
                     "e\xe2\x82";
  auto a = error_answer(error_code::no_such_model,
                        "no read model named '" + name + "'");
  boost::system::error_code ec;
  auto body = boost::json::parse(a.body, ec);
  BOOST_TEST_REQUIRE(!ec, a.body);
  BOOST_TEST(body.at("error").at("message").as_string()
             == "no read model named 'a\ufffdb\ufffd\ufffdc\ufffd\ufffd\ufffdd"
                "\ufffd\ufffd\ufffd\ufffde\ufffd'");
  // Valid UTF-8 passes unchanged.
  auto b = error_answer(error_code::no_such_model, "\u00e9 \u65e5 \U0001f600");
  BOOST_TEST(error_of(b).at("message").as_string() == "\u00e9 \u65e5 \U0001f600");
}

BOOST_AUTO_TEST_CASE(every_code_has_its_status) {
  std::pair<error_code, unsigned> expected[] = {
    {error_code::bad_request, 400},        {error_code::not_found, 404},
    {error_code::no_such_model, 404},      {error_code::not_parked, 404},
    {error_code::method_not_allowed, 405}, {error_code::conflict, 409},
    {error_code::payload_too_large, 413},  {error_code::header_too_large, 431},
    {error_code::unavailable, 503},
  };
  for (auto [code, status] : expected) {
    auto a = error_answer(code, "x");
    BOOST_TEST(a.status == status);
    BOOST_TEST(error_of(a).at("code").as_string() == to_string(code));
  }
}

BOOST_AUTO_TEST_CASE(messages_are_escaped_as_json) {
  auto a = error_answer(error_code::bad_request, "a \"quoted\"\nline\\");
  BOOST_TEST(error_of(a).at("message").as_string() == "a \"quoted\"\nline\\");
}

BOOST_AUTO_TEST_CASE(framework_errors_map_to_api_codes_with_their_text) {
  using bus::errc;
  auto check = [](caf::error err, const char* code, unsigned status) {
    auto a = error_answer(err);
    BOOST_TEST(a.status == status, code);
    BOOST_TEST(error_of(a).at("code").as_string() == code);
    return std::string{error_of(a).at("message").as_string()};
  };
  BOOST_TEST(check(bus::make_error(errc::no_such_model, "no read model named 'x'"),
                   "no_such_model", 404)
             == "no read model named 'x'");
  check(bus::make_error(errc::not_parked, "seq 9 is not parked"), "not_parked", 404);
  check(bus::make_error(errc::precondition_failed, "a rebuild is under way"),
        "conflict", 409);
  check(bus::make_error(errc::model_unavailable, "read model 'x' is failed"),
        "unavailable", 503);
  auto timeout = check(caf::sec::request_timeout, "unavailable", 503);
  BOOST_TEST(timeout.find("did not answer in time") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
