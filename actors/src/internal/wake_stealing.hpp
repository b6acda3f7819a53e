#pragma once

// A work-stealing scheduler policy for CAF 0.17 whose idle workers can be
// woken when another worker has work to share.
//
// CAF's own policy queues an actor made runnable by a worker on that same
// worker and tells nobody. An idle peer finds it only by polling: it naps
// 50 us (more with the kernel's timer slack) between polls and steals only on
// every fifth. So the four projectors a batch fans out to mostly run one
// after another on the bus actor's core while the other core naps.
//
// Here a napping worker waits on its condition variable instead of sleeping,
// and a worker that queues a second actor on itself while a peer naps pokes
// that peer, which wakes and steals it. The check is one relaxed atomic load
// per enqueue; a poke is one futex wake, sent at most once per nap. Idle
// workers nap as long as CAF's do, so an idle node costs no more CPU.
//
// `external_enqueue` (any thread) and `resume_job_later` are CAF's: an
// external enqueue already wakes a napping worker through its condition
// variable. Threading: `internal_enqueue` runs on its own worker. A worker's `napping`
// flag and `poked` field change under its wait lock; pokers read `napping` without the
// lock, as a hint only.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/resumable.hpp>
#include <caf/timespan.hpp>

namespace bus::internal {

class wake_stealing : public caf::policy::work_stealing {
public:
  using super = caf::policy::work_stealing;

  struct coordinator_data : super::coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator* parent)
      : super::coordinator_data(parent) {
      // nop
    }

    /// How many workers nap right now; pokers skip the scan when none do.
    std::atomic<std::size_t> napping{0};
  };

  struct worker_data : super::worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator* parent)
      : super::worker_data(parent) {
      // nop
    }

    worker_data(const worker_data& other) : super::worker_data(other) {
      // nop: a copy starts awake
    }

    /// Set while the worker waits in `nap`.
    std::atomic<bool> napping{false};

    /// Set by a peer that queued work while this worker napped: it steals
    /// from that peer on waking.
    bool poked = false;

    /// The worker that poked, when `poked`.
    std::size_t poker = 0;
  };

  // From a thread outside the scheduler (the clock, a socket's multiplexer,
  // a client's thread): to a napping worker if one naps, else round robin.
  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    auto n = self->num_workers();
    auto start = d(self).next_worker++;
    if (d(self).napping.load(std::memory_order_relaxed) > 0)
      for (std::size_t k = 0; k < n; ++k) {
        auto w = self->worker_by_id((start + k) % n);
        if (d(w).napping.load(std::memory_order_relaxed)) {
          w->external_enqueue(job);
          return;
        }
      }
    self->worker_by_id(start % n)->external_enqueue(job);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    // The first actor queued here runs next here anyway, and an actor that
    // answers one message with one (a request and its reply) keeps its
    // work on one core. A second one could run on a napping peer meanwhile.
    auto second = !d(self).queue.empty();
    d(self).queue.prepend(job);
    if (second && d(self->parent()).napping.load(std::memory_order_relaxed) > 0)
      poke_a_peer(self);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& strategies = d(self).strategies;
    // Busy polling first, as CAF does: work usually comes back within
    // microseconds.
    auto& aggressive = strategies[0];
    for (std::size_t i = 0; i < aggressive.attempts; i += aggressive.step_size) {
      if (auto job = d(self).queue.take_head())
        return job;
      if (i % aggressive.steal_interval == 0)
        if (auto job = try_steal(self))
          return job;
    }
    // Then naps a poke or an external enqueue can cut short, first the
    // moderate ones and then the relaxed ones, forever.
    for (std::size_t k = 1;; k = 2) {
      auto& strategy = strategies[k];
      for (std::size_t i = 0; k == 2 || i < strategy.attempts;
           i += strategy.step_size) {
        if (auto job = d(self).queue.take_head())
          return job;
        if (i % strategy.steal_interval == 0)
          if (auto job = try_steal(self))
            return job;
        if (auto poker = nap(self, strategy.sleep_duration))
          if (auto job = d(self->parent()->worker_by_id(*poker)).queue.take_tail())
            return job;
      }
    }
  }

private:
  // Waits until the worker's queue has work, a peer pokes it or `length`
  // passes; returns the peer that poked it, if one did.
  template <class Worker>
  std::optional<std::size_t> nap(Worker* self, caf::timespan length) {
    auto& data = d(self);
    auto& wait = data.waitdata;
    auto& napping = d(self->parent()).napping;
    std::unique_lock<std::mutex> guard{wait.lock};
    wait.sleeping = true;
    data.napping.store(true, std::memory_order_relaxed);
    napping.fetch_add(1, std::memory_order_relaxed);
    wait.cv.wait_for(guard, length, [&] { return data.poked || !data.queue.empty(); });
    napping.fetch_sub(1, std::memory_order_relaxed);
    data.napping.store(false, std::memory_order_relaxed);
    wait.sleeping = false;
    if (!data.poked)
      return std::nullopt;
    data.poked = false;
    return data.poker;
  }

  // Wakes one napping peer, if any still naps.
  template <class Worker>
  void poke_a_peer(Worker* self) {
    auto parent = self->parent();
    auto n = parent->num_workers();
    for (std::size_t k = 1; k < n; ++k) {
      auto peer = parent->worker_by_id((self->id() + k) % n);
      auto& data = d(peer);
      if (!data.napping.load(std::memory_order_relaxed))
        continue;
      std::lock_guard<std::mutex> guard{data.waitdata.lock};
      if (!data.waitdata.sleeping || data.poked)
        continue;
      data.poked = true;
      data.poker = self->id();
      data.waitdata.cv.notify_one();
      return;
    }
  }
};

} // namespace bus::internal
