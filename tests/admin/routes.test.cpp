#include "bus/admin/routes.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace bus::admin;

namespace {

route routed(std::string_view method, std::string_view target) {
  auto x = route_request(method, target);
  if (auto* a = std::get_if<answer>(&x))
    BOOST_FAIL(std::string{method} + " " + std::string{target}
               + " was refused: " + a->body);
  return std::get<route>(x);
}

answer refused(std::string_view method, std::string_view target) {
  auto x = route_request(method, target);
  if (std::holds_alternative<route>(x))
    BOOST_FAIL(std::string{method} + " " + std::string{target} + " was routed");
  return std::get<answer>(x);
}

std::string code_of(const answer& a) {
  return std::string{boost::json::parse(a.body).at("error").at("code").as_string()};
}

std::string message_of(const answer& a) {
  return std::string{boost::json::parse(a.body).at("error").at("message").as_string()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(routes)

BOOST_AUTO_TEST_CASE(reading_paths_route_on_get) {
  BOOST_TEST((routed("GET", "/status").kind == route_kind::status));
  BOOST_TEST((routed("GET", "/health").kind == route_kind::health));
  BOOST_TEST((routed("GET", "/metrics").kind == route_kind::metrics));
  auto parked = routed("GET", "/models/orders/parked");
  BOOST_TEST((parked.kind == route_kind::parked));
  BOOST_TEST(parked.model == "orders");
}

BOOST_AUTO_TEST_CASE(events_take_from_and_limit_with_defaults) {
  auto plain = routed("GET", "/events");
  BOOST_TEST((plain.kind == route_kind::events));
  BOOST_TEST(plain.from == 1u);
  BOOST_TEST(plain.limit == 100u);
  auto paged = routed("GET", "/events?from=101&limit=1000");
  BOOST_TEST(paged.from == 101u);
  BOOST_TEST(paged.limit == 1000u);
}

BOOST_AUTO_TEST_CASE(bad_from_or_limit_is_a_bad_request_naming_it) {
  for (auto target : {"/events?from=0", "/events?from=-1", "/events?from=x",
                      "/events?from=", "/events?from=99999999999999999999999"}) {
    auto a = refused("GET", target);
    BOOST_TEST(a.status == 400u, target);
    BOOST_TEST(code_of(a) == "bad_request");
    BOOST_TEST(message_of(a).find("from") != std::string::npos, target);
  }
  for (auto target : {"/events?limit=0", "/events?limit=1001", "/events?limit=1e3"}) {
    auto a = refused("GET", target);
    BOOST_TEST(a.status == 400u, target);
    BOOST_TEST(message_of(a).find("limit must be an integer from 1 to 1000")
                 != std::string::npos,
               target);
  }
}

BOOST_AUTO_TEST_CASE(lifecycle_paths_route_on_post) {
  for (auto [name, kind] : {std::pair{"pause", lifecycle_kind::pause},
                            std::pair{"resume", lifecycle_kind::resume},
                            std::pair{"rebuild", lifecycle_kind::rebuild},
                            std::pair{"restart", lifecycle_kind::restart}}) {
    auto r = routed("POST", std::string{"/models/user_listing/"} + name);
    BOOST_TEST((r.kind == route_kind::lifecycle));
    BOOST_TEST((r.lifecycle == kind));
    BOOST_TEST(r.model == "user_listing");
  }
}

BOOST_AUTO_TEST_CASE(parked_retry_and_discard_take_an_optional_seq) {
  auto all = routed("POST", "/models/orders/parked/retry");
  BOOST_TEST((all.kind == route_kind::retry_parked));
  BOOST_TEST(all.seq == 0u);
  auto one = routed("POST", "/models/orders/parked/discard?seq=12");
  BOOST_TEST((one.kind == route_kind::discard_parked));
  BOOST_TEST(one.seq == 12u);
  for (auto target :
       {"/models/orders/parked/retry?seq=0", "/models/orders/parked/retry?seq=abc",
        "/models/orders/parked/discard?seq=-3"}) {
    auto a = refused("POST", target);
    BOOST_TEST(a.status == 400u);
    BOOST_TEST(message_of(a).find("seq must be a positive integer")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_wrong_method_is_405_with_allow) {
  auto get_on_post = refused("GET", "/models/orders/pause");
  BOOST_TEST(get_on_post.status == 405u);
  BOOST_TEST(get_on_post.allow == "POST");
  BOOST_TEST(code_of(get_on_post) == "method_not_allowed");
  auto post_on_get = refused("POST", "/status");
  BOOST_TEST(post_on_get.status == 405u);
  BOOST_TEST(post_on_get.allow == "GET");
  BOOST_TEST(refused("DELETE", "/models/orders/parked").allow == "GET");
  BOOST_TEST(refused("PUT", "/models/orders/parked/retry").allow == "POST");
}

BOOST_AUTO_TEST_CASE(an_unknown_path_is_404_naming_it) {
  for (auto target :
       {"/nosuch", "/status/", "/models", "/models/orders", "/models/orders/explode",
        "/models//pause", "/models/orders/parked/retry/now"}) {
    auto a = refused("GET", target);
    BOOST_TEST(a.status == 404u, target);
    BOOST_TEST(code_of(a) == "not_found");
    BOOST_TEST(message_of(a).find(std::string_view{target}.substr(0, 7))
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(unknown_parameters_are_refused_not_ignored) {
  auto a = refused("GET", "/events?form=3");
  BOOST_TEST(a.status == 400u);
  BOOST_TEST(message_of(a).find("unknown parameter 'form'") != std::string::npos);
  BOOST_TEST(refused("GET", "/status?verbose=1").status == 400u);
  BOOST_TEST(refused("POST", "/models/m/pause?now=1").status == 400u);
}

BOOST_AUTO_TEST_CASE(model_names_are_percent_decoded) {
  BOOST_TEST(routed("POST", "/models/a%20b%2Fc/pause").model == "a b/c");
  auto bad = refused("POST", "/models/a%2/pause");
  BOOST_TEST(bad.status == 400u);
  BOOST_TEST(message_of(bad).find("%-escape") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_query_string_is_decoded_and_checked) {
  auto x = parse_query("a=1&b=x%20y+z&&c=");
  BOOST_REQUIRE(std::holds_alternative<query_params>(x));
  auto& params = std::get<query_params>(x);
  BOOST_REQUIRE_EQUAL(params.size(), 3u);
  BOOST_TEST(params[1].first == "b");
  BOOST_TEST(params[1].second == "x y z");
  BOOST_TEST(params[2].second == "");
  auto twice = parse_query("from=1&from=2");
  BOOST_REQUIRE(std::holds_alternative<answer>(twice));
  BOOST_TEST(message_of(std::get<answer>(twice)).find("'from' given twice")
             != std::string::npos);
  BOOST_TEST(std::holds_alternative<answer>(parse_query("a=%zz")));
  BOOST_TEST(std::holds_alternative<answer>(parse_query("=3")));
  BOOST_TEST(std::holds_alternative<answer>(parse_query("a=%4")));
}

BOOST_AUTO_TEST_CASE(the_root_is_the_embedded_index_page) {
  auto r = routed("GET", "/");
  BOOST_TEST((r.kind == route_kind::file));
  BOOST_REQUIRE(r.file != nullptr);
  BOOST_TEST(r.file->path == "index.html");
  BOOST_TEST(routed("GET", "/index.html").file == r.file);
  BOOST_TEST(refused("POST", "/").status == 405u);
}

BOOST_AUTO_TEST_CASE(a_target_that_is_not_a_path_is_a_bad_request) {
  BOOST_TEST(refused("GET", "http://host/status").status == 400u);
  BOOST_TEST(refused("GET", "*").status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
