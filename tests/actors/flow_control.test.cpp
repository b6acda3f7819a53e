// Bounded memory under a fast publisher and a slow model (issue 8): a
// publisher that publishes whenever it may (it tops its requests up on
// every answer and waits after an `overloaded` refusal) runs against a bus
// with a small window and a projector that gets one turn in every few
// scheduler steps. After every step the projector's mailbox, the bus's
// per-subscriber queue, its pending publishes and its mailbox stay within
// their limits; at the end the acks and the model are right.

#include "bus/actors/bus_actor.hpp"

#include <algorithm>
#include <deque>

#include "bus/errc.hpp"
#include "support/bus_fixture.hpp"
#include "internal/bus_state.hpp"

using namespace bus;
using namespace bus::actors;
using namespace bus::test;

namespace {

constexpr std::uint32_t window = 4;
constexpr std::uint32_t publish_limit = 8;
/// The publisher tries to keep twice the bus's limit in flight.
constexpr std::size_t eager = 2 * publish_limit;
/// Messages beyond the window that a projector may hold: replay answers
/// (one read ahead) and a control message.
constexpr std::size_t control_slack = 3;

/// What the publisher did, shared with the test.
struct publisher_record {
  std::size_t batches = 0;
  std::size_t batch_size = 0;
  publish_wait wait = publish_wait::projectors;
  std::size_t next = 0;
  /// Batches refused with overloaded, published again after an answer.
  std::deque<std::size_t> refused;
  std::size_t in_flight = 0;
  std::size_t overloaded = 0;
  std::vector<std::optional<publish_ack>> acks;
  std::vector<std::string> errors;

  bool done() const {
    return std::all_of(acks.begin(), acks.end(), [](auto& x) { return x.has_value(); });
  }
};

using record_ptr = std::shared_ptr<publisher_record>;

// Publishes the next batch (a refused one first), if any is left.
void publish_next(caf::event_based_actor* self, bus_actor bus, record_ptr rec) {
  std::size_t b;
  if (!rec->refused.empty()) {
    b = rec->refused.front();
    rec->refused.pop_front();
  } else if (rec->next < rec->batches) {
    b = rec->next++;
  } else {
    return;
  }
  ++rec->in_flight;
  auto batch = bus_fixture::events(b * rec->batch_size, rec->batch_size, {"A"});
  self->request(bus, caf::infinite, publish_atom::value, std::move(batch), rec->wait)
    .then(
      [=](publish_ack& ack) {
        --rec->in_flight;
        rec->acks[b] = std::move(ack);
        // An answer frees a place: fill every free one at once.
        while (rec->in_flight < eager
               && (rec->next < rec->batches || !rec->refused.empty()))
          publish_next(self, bus, rec);
      },
      [=](caf::error& err) {
        --rec->in_flight;
        if (code_of(err) == errc::overloaded) {
          // Told to wait: publish it again after the next answer.
          ++rec->overloaded;
          rec->refused.push_back(b);
        } else {
          rec->errors.push_back(to_string(err));
        }
      });
}

struct flow_fixture : deterministic_fixture {
  std::shared_ptr<memory_log> log = std::make_shared<memory_log>();
  bus_actor bus;
  projector_actor projector;
  caf::resumable* projector_job = nullptr;
  /// Largest sizes seen after any step.
  std::size_t peak_projector_mailbox = 0;
  std::size_t peak_bus_mailbox = 0;
  std::size_t peak_queued = 0;
  std::size_t peak_publishing = 0;

  flow_fixture() {
    bus_options opts;
    opts.max_in_flight = window;
    opts.max_publishes_in_flight = publish_limit;
    bus = spawn_bus(sys, log, opts);
    run();
    projector = bus::actors::spawn_projector(sys, bus, tally("m", {"A"}),
                                             replaying(16));
    run();
    projector_job = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(projector));
  }

  ~flow_fixture() {
    self->send_exit(projector, caf::exit_reason::user_shutdown);
    self->send_exit(bus, caf::exit_reason::user_shutdown);
    run();
  }

  /// Messages waiting in an actor's mailbox. size() moves the waiting
  /// messages into the actor's own queue and so would unblock a mailbox
  /// whose actor waits for mail (its next message would then never
  /// schedule it): a blocked mailbox is empty, and is left alone.
  template <class Handle>
  static std::size_t mailbox_of(const Handle& h) {
    auto* a = caf::actor_cast<caf::abstract_actor*>(h);
    auto& mailbox = dynamic_cast<caf::scheduled_actor&>(*a).mailbox();
    if (mailbox.blocked() || mailbox.closed())
      return 0;
    return mailbox.size();
  }

  // Checks every bound after step `n`; fails the test at the first breach.
  // The bus's mailbox is bounded only for a publisher that waits for its
  // answers (`polite`).
  void check_bounds(std::size_t n, bool polite = true) {
    auto projector_mailbox = mailbox_of(projector);
    BOOST_REQUIRE_MESSAGE(projector_mailbox <= window + control_slack,
                          "step " << n << ": the projector holds " << projector_mailbox
                                  << " messages");
    peak_projector_mailbox = std::max(peak_projector_mailbox, projector_mailbox);
    auto bus_mailbox = mailbox_of(bus);
    // The publisher's requests, one delivery ack per window place, the
    // projector's replay requests.
    BOOST_REQUIRE_MESSAGE(!polite || bus_mailbox <= eager + window + control_slack,
                          "step " << n << ": the bus holds " << bus_mailbox
                                  << " messages");
    peak_bus_mailbox = std::max(peak_bus_mailbox, bus_mailbox);
    auto& st = state_of<bus_state>(bus);
    for (auto& [id, sub] : st.subscribers) {
      BOOST_REQUIRE_MESSAGE(sub.in_flight <= window, "step " << n);
      BOOST_REQUIRE_MESSAGE(sub.queued.size() <= publish_limit,
                            "step " << n << ": " << sub.queued.size() << " queued");
      peak_queued = std::max(peak_queued, sub.queued.size());
    }
    for (auto& [who, count] : st.publishing) {
      BOOST_REQUIRE_MESSAGE(count <= publish_limit,
                            "step " << n << ": " << count << " publishes pending");
      peak_publishing = std::max<std::size_t>(peak_publishing, count);
    }
  }

  // Runs one job: the projector's on its turn (or when nothing else can
  // run), another one otherwise. False when no job is left.
  bool step(bool projector_turn) {
    auto& jobs = sched.jobs;
    if (jobs.empty())
      return false;
    auto i = std::find_if(jobs.begin(), jobs.end(), [&](caf::resumable* job) {
      return (job == projector_job) == projector_turn;
    });
    if (i != jobs.end())
      std::rotate(jobs.begin(), i, i + 1);
    sched.run_once();
    return true;
  }

  /// Runs `rec`'s publisher until the system is idle, giving the projector
  /// one turn in every `every` steps and checking the bounds after each.
  void run_starved(const record_ptr& rec, std::size_t every) {
    auto target = bus;
    sys.spawn([=](caf::event_based_actor* a) {
      for (std::size_t i = 0; i < eager; ++i)
        publish_next(a, target, rec);
    });
    std::size_t n = 0;
    while (step(n % every == 0)) {
      check_bounds(n);
      BOOST_REQUIRE_MESSAGE(++n < 1'000'000, "no end after a million steps");
    }
    BOOST_TEST_MESSAGE("steps " << n << ", peaks: projector mailbox "
                                << peak_projector_mailbox << ", bus mailbox "
                                << peak_bus_mailbox << ", queued " << peak_queued
                                << ", pending publishes " << peak_publishing
                                << "; refused " << rec->overloaded);
  }

  std::vector<event> whole_log() const {
    auto batch = log->read(1, log->head());
    return {batch.begin(), batch.end()};
  }
};

record_ptr make_record(std::size_t batches, std::size_t size, publish_wait wait) {
  auto rec = std::make_shared<publisher_record>();
  rec->batches = batches;
  rec->batch_size = size;
  rec->wait = wait;
  rec->acks.resize(batches);
  return rec;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(bus_flow_control, flow_fixture)

BOOST_AUTO_TEST_CASE(awaited_fast_publisher_against_a_slow_model_stays_bounded) {
  auto rec = make_record(200, 3, publish_wait::projectors);
  run_starved(rec, 7);
  BOOST_TEST(rec->errors.empty());
  BOOST_REQUIRE(rec->done());
  // The publisher did run into the limit: the bounds were tested.
  BOOST_TEST(rec->overloaded > 0u);
  BOOST_TEST(peak_publishing == publish_limit);
  // Every ack names the model for every event of its batch.
  for (std::size_t b = 0; b < rec->acks.size(); ++b) {
    auto& ack = *rec->acks[b];
    BOOST_TEST_INFO("batch " << b);
    BOOST_REQUIRE_EQUAL(ack.models.size(), 1u);
    BOOST_TEST(ack.models[0].model == "m");
    BOOST_TEST((ack.models[0].applied == std::vector<std::uint32_t>{0, 1, 2}));
  }
  BOOST_TEST(log->head() == 600u);
  auto snap = ask<model_snapshot>(projector, snapshot_atom::value);
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A"}));
  BOOST_TEST(snap->checkpoint == 600u);
}

BOOST_AUTO_TEST_CASE(unawaited_fast_publisher_makes_the_slow_model_pull) {
  auto rec = make_record(200, 3, publish_wait::log);
  run_starved(rec, 7);
  BOOST_TEST(rec->errors.empty());
  BOOST_REQUIRE(rec->done());
  BOOST_TEST(rec->overloaded == 0u); // answered at once: nothing to wait for
  BOOST_TEST(peak_queued == 0u);     // withheld, never queued
  BOOST_TEST(log->head() == 600u);
  auto snap = ask<model_snapshot>(projector, snapshot_atom::value);
  BOOST_REQUIRE(snap);
  BOOST_TEST(snap->state == expected_tally(whole_log(), {"A"}));
  auto status = ask<projector_status>(projector, status_atom::value);
  BOOST_TEST(status->checkpoint == log->head());
  BOOST_TEST(status->state == model_state::running);
  // It fell behind and pulled: some of its events came from the log.
  BOOST_TEST(status->replayed > 0u);
}

BOOST_AUTO_TEST_CASE(
  publisher_ignoring_answers_is_refused_and_only_its_requests_queue) {
  // A publisher that sends 100 awaited publishes without waiting: the bus
  // takes publish_limit of them and refuses the rest at once, so its own
  // state stays bounded; the requests themselves sit in its mailbox until
  // it reads them, which the bus cannot prevent.
  auto answers = std::make_shared<std::vector<caf::error>>();
  auto target = bus;
  sys.spawn([=](caf::event_based_actor* a) {
    for (std::size_t i = 0; i < 100; ++i)
      a->request(target, caf::infinite, publish_atom::value,
                 bus_fixture::events(i, 1, {"A"}), publish_wait::projectors)
        .then([=](publish_ack&) { answers->emplace_back(); },
              [=](caf::error& err) { answers->push_back(err); });
  });
  sched.run_once(); // the publisher's init: every request is sent
  BOOST_TEST(mailbox_of(bus) == 100u);
  std::size_t n = 0;
  while (step(false)) // the projector runs only when nothing else can
    check_bounds(n++, false);
  BOOST_REQUIRE_EQUAL(answers->size(), 100u);
  auto refused = std::count_if(answers->begin(), answers->end(), [](auto& err) {
    return err && code_of(err) == errc::overloaded;
  });
  BOOST_TEST(refused == 100 - static_cast<long>(publish_limit));
  BOOST_TEST(log->head() == publish_limit);
}

BOOST_AUTO_TEST_SUITE_END()
