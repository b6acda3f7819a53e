#include "bus/admin/health.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace bus::admin;
using bus::lead_state;
using bus::leadership;
using namespace bus::actors;

namespace {

projector_status model(std::string name, model_state state, std::string error = "",
                       model_role role = model_role::live) {
  projector_status x;
  x.model = std::move(name);
  x.state = state;
  x.last_error = std::move(error);
  x.role = role;
  return x;
}

} // namespace

BOOST_AUTO_TEST_SUITE(health)

BOOST_AUTO_TEST_CASE(only_running_catching_up_and_restoring_are_healthy) {
  // Restoring is a start on its way (a load balancer waits for ready).
  for (auto state : all_model_states)
    BOOST_TEST(healthy_state(state)
                 == (state == model_state::running || state == model_state::catching_up
                     || state == model_state::restoring),
               to_string(state));
}

BOOST_AUTO_TEST_CASE(a_node_whose_models_all_serve_is_healthy) {
  auto verdict = judge_health(
    {model("a", model_state::running), model("b", model_state::catching_up)});
  BOOST_TEST(verdict.healthy);
  BOOST_TEST(verdict.reason == "");
}

BOOST_AUTO_TEST_CASE(the_reason_names_every_unhealthy_model_and_its_error) {
  auto verdict = judge_health({model("a", model_state::running),
                               model("orders", model_state::failed, "disk full"),
                               model("listing", model_state::paused)});
  BOOST_TEST(!verdict.healthy);
  BOOST_TEST(verdict.reason
             == "model orders is failed: disk full; model listing is paused");
}

BOOST_AUTO_TEST_CASE(parked_and_stalled_models_need_an_operator) {
  BOOST_TEST(!judge_health({model("a", model_state::parked)}).healthy);
  BOOST_TEST(!judge_health({model("a", model_state::stalled)}).healthy);
  BOOST_TEST(!judge_health({model("a", model_state::away)}).healthy);
}

BOOST_AUTO_TEST_CASE(blue_green_projectors_beside_the_live_one_do_not_count) {
  // A failed shadow or a paused kept projector: the live model still serves.
  auto verdict = judge_health(
    {model("a", model_state::running),
     model("a", model_state::failed, "bad definition", model_role::shadow),
     model("a", model_state::paused, "", model_role::previous)});
  BOOST_TEST(verdict.healthy);
}

BOOST_AUTO_TEST_CASE(the_body_lists_the_live_models_and_their_states) {
  std::vector<projector_status> xs{
    model("a", model_state::running), model("b", model_state::paused),
    model("b", model_state::catching_up, "", model_role::shadow)};
  auto body = boost::json::parse(render_health(judge_health(xs), xs));
  BOOST_TEST(body.at("healthy").as_bool() == false);
  BOOST_TEST(body.at("reason").as_string() == "model b is paused");
  auto& models = body.at("models").as_array();
  BOOST_REQUIRE_EQUAL(models.size(), 2u);
  BOOST_TEST(models[1].at("model").as_string() == "b");
  BOOST_TEST(models[1].at("state").as_string() == "paused");
}

BOOST_AUTO_TEST_CASE(a_bus_node_whose_store_failed_is_unhealthy_and_says_why) {
  auto verdict = judge_health({model("a", model_state::running)});
  bus_status bus;
  judge_store(bus, verdict);
  BOOST_TEST(verdict.healthy);
  bus.store_state = bus::store_state::failed;
  bus.store_error = "sqlite: disk I/O error";
  judge_store(bus, verdict);
  BOOST_TEST(!verdict.healthy);
  BOOST_TEST(verdict.reason.find("the store failed: sqlite: disk I/O error")
               != std::string::npos,
             verdict.reason);
  BOOST_TEST(verdict.reason.find("restarts") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bus_node_whose_store_is_fenced_is_unhealthy_and_says_so) {
  auto verdict = judge_health({model("a", model_state::running)});
  bus_status bus;
  bus.store_state = bus::store_state::fenced;
  bus.store_error = "fenced: another bus node leads 'main'";
  judge_store(bus, verdict);
  BOOST_TEST(!verdict.healthy);
  BOOST_TEST(verdict.reason.find("the store is fenced: fenced: another bus node leads")
               != std::string::npos,
             verdict.reason);
  BOOST_TEST(verdict.reason.find("failed") == std::string::npos, verdict.reason);
}

BOOST_AUTO_TEST_CASE(a_bus_node_not_sure_it_leads_or_replaced_is_unhealthy) {
  leadership lead;
  lead.why = "renewed the lease (token 3)";
  auto verdict = judge_health({model("a", model_state::running)});
  judge_lease(lead, verdict);
  BOOST_TEST(verdict.healthy); // leading
  judge_lease(std::nullopt, verdict);
  BOOST_TEST(verdict.healthy); // no lease at all
  lead.state = lead_state::unsure;
  lead.why = "cannot renew: connection refused";
  judge_lease(lead, verdict);
  BOOST_TEST(!verdict.healthy);
  BOOST_TEST(verdict.reason.find("not sure it still leads the log: cannot renew")
               != std::string::npos,
             verdict.reason);
  verdict = judge_health({model("a", model_state::running)});
  lead.state = lead_state::lost;
  lead.why = "node b took the lease (token 4)";
  judge_lease(lead, verdict);
  BOOST_TEST(!verdict.healthy);
  BOOST_TEST(verdict.reason.find("no longer leads the log: node b took the lease")
               != std::string::npos,
             verdict.reason);
}

BOOST_AUTO_TEST_SUITE_END()
