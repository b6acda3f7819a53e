// The projector's restore at start, run by a helper off the CAF workers
// (restore_job.hpp). Until the helper is done, the projector is restoring:
// status and queries are answered, every other request is skipped (kept in
// the mailbox, in order, until the next message handled after the restore),
// and the model is the job's.

#include "internal/projector_parts.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "internal/restore_job.hpp"

namespace bus::internal {

using namespace actors;

namespace {

// Restores run on helpers of their own, at most as many at a time as the
// machine has cores: as many as ran when each held a CAF worker. More
// would not be faster, only hold more snapshots in memory at once.
class restore_slots {
public:
  static restore_slots& instance() {
    static restore_slots slots;
    return slots;
  }

  // Waits for a free slot; false when `stop` is set meanwhile.
  bool acquire(const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [&] { return free_ > 0 || stop.load(); });
    if (stop.load())
      return false;
    --free_;
    return true;
  }

  void release() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ++free_;
    }
    cv_.notify_all();
  }

  // Wakes the waiting helpers to look at their stop flags.
  void wake() {
    { std::lock_guard<std::mutex> guard{mtx_}; }
    cv_.notify_all();
  }

private:
  restore_slots() : free_(std::max(1u, std::thread::hardware_concurrency())) {
    // nop
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  unsigned free_;
};

// Holds a slot until it goes, however the restore ends: a slot kept is one
// restore fewer, for good, for every projector of the process.
class held_slot {
public:
  explicit held_slot(restore_slots& slots) noexcept : slots_(slots) {
    // nop
  }
  held_slot(const held_slot&) = delete;
  held_slot& operator=(const held_slot&) = delete;
  ~held_slot() { slots_.release(); }

private:
  restore_slots& slots_;
};

// The helper's name (restore_job.hpp), which tests find its job by.
struct restore_helper_state {
  static inline const char* name = restore_helper_name;
};

using restore_helper = caf::stateful_actor<restore_helper_state>;

// Under the deterministic test scheduler the helper is one of its jobs:
// tests and the simulator choose when it runs. A thread of its own would
// run whenever it liked, and a blocking wait for a slot would hang.
bool deterministic(caf::actor_system& sys) {
  return dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler()) != nullptr;
}

// True once the projector is gone: a helper that had not begun when its
// projector quit would otherwise claim the model's snapshots from the
// projector that replaced it.
bool gone(const caf::actor& projector) {
  auto* ptr = caf::actor_cast<caf::abstract_actor*>(projector);
  return ptr->getf(caf::abstract_actor::is_terminated_flag);
}

} // namespace

void start_restore(projector_ptr self, restore_source from) {
  auto& st = self->state;
  auto job = std::make_shared<restore_job>();
  job->from = from;
  job->path = from == restore_source::snapshots ? st.options.snapshot_path
                                                : st.options.models_path;
  job->name = st.model->name();
  job->definition = stored_definition(st, *st.model);
  job->model = std::move(st.model);
  job->total = st.options.restores;
  job->progress.total = job->total.get();
  st.restore = job;
  st.phase = projector_phase::restoring;
  auto projector = caf::actor_cast<caf::actor>(self);
  auto& sys = self->system();
  // run_restore throws nothing (what the model throws is the job's
  // outcome): the helper always tells the projector, which would otherwise
  // stay restoring for good.
  if (deterministic(sys)) {
    sys.spawn([job, projector](restore_helper* helper) {
      if (!gone(projector))
        run_restore(*job);
      helper->send(projector, restored_atom::value);
    });
    return;
  }
  // Not hidden: a shutdown waits for the helper, which stops early once its
  // projector is gone (abandon_restore), rather than free what it uses.
  sys.spawn<caf::detached>([job, projector](restore_helper* helper) {
    auto& slots = restore_slots::instance();
    if (slots.acquire(job->progress.stop)) {
      held_slot held{slots};
      if (!gone(projector))
        run_restore(*job);
    }
    helper->send(projector, restored_atom::value);
  });
}

void finish_restore(projector_ptr self) {
  auto& st = self->state;
  if (!restoring(st.phase) || !st.restore)
    return;
  auto job = std::move(st.restore);
  st.restore = nullptr;
  st.model = std::move(job->model);
  st.restored_rows = job->progress.rows.load();
  if (job->failure) {
    fail(self, std::move(job->failure));
    return;
  }
  if (job->from == restore_source::snapshots)
    start_snapshots(self, job->generation, job->restored ? &*job->restored : nullptr);
  else
    adopt_table(self, std::move(job->table), job->contents ? &*job->contents : nullptr);
  subscribe(self); // then pulls from the checkpoint to the head
}

} // namespace bus::internal

namespace bus::actors {

projector_state::~projector_state() {
  internal::abandon_restore(*this);
}

} // namespace bus::actors

namespace bus::internal {

void abandon_restore(projector_state& st) {
  if (!st.restore)
    return;
  // The job keeps the model until its helper is done with it.
  st.restore->progress.stop.store(true);
  st.restore = nullptr;
  restore_slots::instance().wake();
}

} // namespace bus::internal
