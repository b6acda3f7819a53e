#include "internal/snapshot_writer.hpp"

#include <mutex>

#ifdef __GLIBC__
#  include <malloc.h>
#endif
#ifdef __linux__
#  include <sys/resource.h>
#  include <unistd.h>
#endif

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "bus/actors/messages.hpp"
#include "bus/snapshot_rows.hpp"

namespace bus::actors {

namespace {

using writer_ptr = snapshot_writer_actor::stateful_pointer<snapshot_writer_state>;

// A delta is folded only if it holds at least this share of the base
// (1/n), and only if the fold would leave at most two thirds of its lines
// (the recorder counted the keys as it recorded them). Either way every
// delta is folded once more, with the base, when the deltas outgrow it
// (snapshot_store::compact): folding it first too is a second pass over
// every change, which pays only where keys repeat a lot (a hot key changed
// thousands of times between two snapshots), not for changes spread over
// many keys, where it saved a sixth of the lines for a pass over all of
// them. What a delta repeats costs at most its own size until then.
constexpr std::uint64_t fold_deltas_from = 4;
constexpr std::size_t fold_leaves_at_most = 2; // thirds of the lines

// Serializes the JSON the projector left to the writer, and folds the rows
// it recorded to the last change of each key when that pays (above): the
// work that is proportional to the whole state, or to every change rather
// than every key changed, stays off the projector's thread.
caf::error fill_state(snapshot_write& w, snapshot_store& store,
                      const std::string& model) {
  if (w.x.layout == snapshot_layout::whole) {
    w.x.state = bus::detail::json_text(w.document);
  } else if (auto* state = w.document.if_object()) {
    append_rows(w.x.state, *state);
  } else {
    if (w.how == rows_write::delta) {
      auto base = store.base_bytes(model);
      if (!base)
        return std::move(base.error());
      if (w.x.state.size() * fold_deltas_from < *base)
        return caf::none;
      if (w.counted.keys * 3 > w.counted.lines * fold_leaves_at_most)
        return caf::none;
    }
    auto folded = compact_rows({w.x.state}, w.how == rows_write::delta
                                              ? removed_rows::keep
                                              : removed_rows::drop);
    if (!folded)
      return std::move(folded.error());
    w.x.state = std::move(*folded);
  }
  w.document = nullptr;
  return caf::none;
}

// One fold at a time in a process: a fold holds its model's base and
// deltas in memory (up to three times the state), and two at once would
// double the peak.
std::mutex compacting;

// Folds the deltas into a new base once they outgrew it. After the answer:
// the projector's next snapshot need not wait for the fold.
void compact_if_due(writer_ptr self) {
  auto& st = self->state;
  auto due = st.store->compaction_due(st.model);
  if (!due) {
    st.failure = std::move(due.error());
    return;
  }
  if (!*due)
    return;
  std::lock_guard<std::mutex> guard{compacting};
  if (auto done = st.store->compact(st.model, st.generation, st.owner_stopping.get());
      !done)
    st.failure = std::move(done.error());
#ifdef __GLIBC__
  // The fold's buffers were freed in this thread's arena, which would keep
  // them: hand the pages back, or the fold's peak stays resident.
  malloc_trim(0);
#endif
}

} // namespace

// Lowers the priority of the calling thread (Linux: nice applies per
// thread). Failing is harmless: the writer then competes as an equal.
void lower_priority() {
#ifdef __linux__
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
#endif
}

snapshot_writer_actor::behavior_type
snapshot_writer_impl(writer_ptr self, std::string path, std::string model,
                     std::uint64_t generation, caf::actor owner,
                     stop_flag owner_stopping, writer_thread thread) {
  auto& st = self->state;
  st.owner_stopping = std::move(owner_stopping);
  st.path = std::move(path);
  st.model = std::move(model);
  st.generation = generation;
  st.thread = thread;
  // Whatever the projector handed over before it went is in the mailbox
  // ahead of its down message, and is written first.
  self->monitor(owner);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  return {
    [self](write_atom, snapshot_write& w) -> caf::result<save_outcome, std::string> {
      auto& state = self->state;
      if (state.failure && w.how == rows_write::delta)
        return state.failure;
      state.failure = caf::none;
      if (!state.store) {
        // The first message runs on the writer's own thread, if it has one.
        if (state.thread == writer_thread::own)
          lower_priority();
        auto store = snapshot_store::open(state.path);
        if (!store) {
          state.failure = std::move(store.error());
          return state.failure;
        }
        state.store = std::move(*store);
      }
      if (auto err = fill_state(w, *state.store, state.model)) {
        state.failure = std::move(err);
        return state.failure;
      }
      auto saved = state.store->save(state.model, w.x, state.generation, w.how);
      if (!saved) {
        state.failure = std::move(saved.error());
        return state.failure;
      }
      // The written buffer goes back to the projector: its pages are
      // mapped, where a buffer freed here would come back to the projector
      // as fresh memory that the kernel zeroes page by page.
      auto spent = std::move(w.x.state);
      spent.clear();
      if (*saved == save_outcome::superseded || w.x.layout == snapshot_layout::whole
          || w.turn == write_turn::last)
        return {*saved, std::move(spent)};
      auto rp = self->make_response_promise<save_outcome, std::string>();
      rp.deliver(save_outcome::saved, std::move(spent));
      compact_if_due(self);
      return rp;
    },
  };
}

snapshot_writer_actor spawn_snapshot_writer(caf::actor_system& sys, std::string path,
                                            std::string model, std::uint64_t generation,
                                            caf::actor owner,
                                            stop_flag owner_stopping) {
  // A detached actor gets a thread of its own even under the test
  // scheduler, out of the test's reach: there it is scheduled instead.
  if (dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler()) != nullptr)
    return sys.spawn(snapshot_writer_impl, std::move(path), std::move(model),
                     generation, std::move(owner), std::move(owner_stopping),
                     writer_thread::shared);
  return sys.spawn<caf::detached>(snapshot_writer_impl, std::move(path),
                                  std::move(model), generation, std::move(owner),
                                  std::move(owner_stopping), writer_thread::own);
}

} // namespace bus::actors
