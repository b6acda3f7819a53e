// The query invariant (issue 8: "every query sees every earlier event").
// Once an awaited publish is acknowledged naming model M for event e, a
// query to M sent after that ack, while M stays steady, must be answered,
// and from a state that holds every event of the key that M applied before
// the ack. Steady is the acknowledgement check's notion (publish_record::
// steady: seen running at the head at a settled point before the publish,
// undisturbed until the ack), extended to the query's answer: no pause,
// rebuild, restart, throw, switch, node loss or bus crash of M from the
// ack to the answer. A query to a disturbed model may be refused: it is
// sent all the same (it exercises the system) and not checked.

#include <algorithm>
#include <map>
#include <set>

#include <boost/json/serialize.hpp>

#include "bus/errc.hpp"
#include "runner.hpp"

namespace bus::sim {

std::optional<std::string> runner::query_key(const std::string& model, const event& e) {
  auto base = base_.count(model) != 0 ? base_.at(model) : model;
  if (options_.query_key)
    return options_.query_key(base, e);
  if (auto key = shop_query_key(base, e))
    return key;
  return spec_of(model).make()->key_of(e);
}

void runner::query() {
  // The latest awaited publish whose ack named a model for an event.
  struct candidate {
    std::string model;
    const event* e;
  };
  std::vector<candidate> named;
  std::size_t number = 0;
  for (auto p = journal_->publishes.rbegin(); p != journal_->publishes.rend(); ++p) {
    if (!p->ack || !p->await)
      continue;
    for (auto& m : p->ack->models)
      for (auto i : m.applied)
        if (i < p->events.size())
          named.push_back({m.model.substr(0, m.model.find('~')), &p->events[i]});
    if (!named.empty()) {
      number = p->number;
      break;
    }
  }
  if (named.empty()) {
    run_jobs();
    return;
  }
  auto pick = named[rng_() % named.size()];
  auto model = pick.model;
  auto* e = pick.e;
  auto key = query_key(model, *e);
  bool open = std::any_of(journal_->queries.begin(), journal_->queries.end(),
                          [&](const query_record& q) {
                            return q.model == model && !q.answered;
                          });
  if (!key || open) {
    run_jobs();
    return;
  }
  auto sup = world_->supervisor_of(model);
  if (!sup) {
    note("query " + model + " for " + *key + ": skipped, its node is down");
    return;
  }
  query_record q;
  q.model = model;
  q.key = *key;
  q.publish = number;
  q.acked_at = journal_->publishes[number].acked_at;
  q.sent_at = journal_->tick();
  q.paused = paused_[model];
  auto index = journal_->queries.size();
  journal_->queries.push_back(q);
  note("query " + model + " for " + *key + " (publish #" + std::to_string(number)
       + " named it for " + e->id + ")");
  auto j = journal_;
  ++j->open_requests;
  world_->request<actors::query_result>(
    sup,
    [j, index](caf::expected<actors::query_result> reply) {
      --j->open_requests;
      auto& record = j->queries[index];
      record.answered = true;
      record.replied_at = j->tick();
      if (reply) {
        record.value = std::move(reply->value);
      } else {
        record.error = reply.error();
        j->request_failed(reply.error(), record.sent_at,
                          "query " + record.model + " for " + record.key);
      }
    },
    actors::query_atom::value, model, *key);
}

void runner::check_queries() {
  std::map<std::uint64_t, const event*> by_seq;
  std::vector<event_batch> batches;
  for (auto& q : journal_->queries) {
    if (!q.answered || q.checked)
      continue;
    q.checked = true;
    auto& rec = journal_->models[q.model];
    auto& p = journal_->publishes[q.publish];
    auto what = "query " + q.model + " for " + q.key + " after publish #"
                + std::to_string(p.number) + ": ";
    bool disturbed = std::any_of(rec.disturbances.begin(), rec.disturbances.end(),
                                 [&](std::uint64_t t) {
                                   return t > q.acked_at && t <= q.replied_at;
                                 });
    if (q.paused || disturbed
        || std::find(p.steady.begin(), p.steady.end(), q.model) == p.steady.end()) {
      note(what + "not checked, the model was not steady");
      continue;
    }
    if (q.error && code_of(*q.error) != errc::no_such_key) {
      fail(invariant::query,
           what + "refused while the model was steady: " + caf::to_string(*q.error));
      continue;
    }
    if (!q.reached) {
      fail(invariant::query, what + "answered by no projector of the model");
      continue;
    }
    if (by_seq.empty()) {
      for_each_batch(world_->log(),
                     [&](const event_batch& batch) { batches.push_back(batch); });
      for (auto& batch : batches)
        for (auto& e : batch)
          by_seq[e.seq] = &e;
    }
    // The answer is the fold of what the answering projector had applied.
    auto fresh = spec_of(q.model).make();
    for (auto seq : q.applied)
      if (auto i = by_seq.find(seq); i != by_seq.end())
        fresh->apply(*i->second);
    auto expected = fresh->query(q.key);
    auto text = [](const std::optional<boost::json::value>& v) {
      return v ? boost::json::serialize(*v) : std::string{"no such key"};
    };
    if (expected != q.value) {
      fail(invariant::query, what + "answered " + text(q.value) + ", a fold of the "
                               + std::to_string(q.applied.size())
                               + " events its projector had applied gives "
                               + text(expected));
      continue;
    }
    // And that state holds every event of the key M took before the ack.
    std::set<std::uint64_t> applied(q.applied.begin(), q.applied.end());
    std::string missing;
    for (auto* takes : {&rec.took_at, &rec.retried_at})
      for (auto& [seq, times] : *takes) {
        auto i = by_seq.find(seq);
        if (applied.count(seq) != 0 || i == by_seq.end()
            || std::none_of(times.begin(), times.end(),
                            [&](std::uint64_t t) { return t < q.acked_at; }))
          continue;
        if (query_key(q.model, *i->second) == q.key)
          missing += " " + std::to_string(seq);
      }
    if (!missing.empty())
      fail(invariant::query,
           what + "stale: answered " + text(q.value) + " from a state without seqs ["
             + missing + " ] of the key, which the model applied before the ack");
  }
}

} // namespace bus::sim
