// The world's part of the query invariant: which state answers a query.

#include "recording_model.hpp"
#include "world.hpp"

namespace bus::sim {

void world::note_query(caf::resumable* job) {
  // A projector answers a query from its model as it is when the query's
  // job runs: the seqs applied then are the state the answer must fold to.
  // Taken here, before the job, because the reply reaches the client only
  // later, when the projector may have applied more.
  auto* a = dynamic_cast<caf::scheduled_actor*>(job);
  if (a == nullptr || std::string{a->name()} != actors::projector_state::name)
    return;
  auto* next = a->mailbox().peek();
  if (next == nullptr
      || !next->content().match_elements<actors::query_atom, std::string>())
    return;
  auto& key = next->content().get_as<std::string>(1);
  auto* st = state_of(caf::actor_cast<actors::projector_actor>(a));
  if (st == nullptr || !st->model)
    return;
  auto* rec = recording_of(*st->model);
  if (rec == nullptr)
    return;
  auto& model = *rec;
  for (auto& q : journal_->queries)
    if (!q.reached && !q.answered && q.model == model.name() && q.key == key) {
      q.reached = true;
      q.applied = model.applied_order();
      return;
    }
}

} // namespace bus::sim
