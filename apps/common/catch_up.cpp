#include "catch_up.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "bus/log.hpp"

namespace bus::app {

namespace {

using namespace actors;
using clock_type = std::chrono::steady_clock;

// Caught up as far as start-up goes: applying live events (parked events
// aside), or down for good or paused by an operator, which waiting would
// not change.
bool settled(model_state s) {
  return s == model_state::running || s == model_state::parked
         || s == model_state::failed || s == model_state::paused;
}

bool all_at_head(const std::vector<projector_status>& xs, std::uint64_t head) {
  return !xs.empty() && std::all_of(xs.begin(), xs.end(), [head](auto& x) {
    return x.state == model_state::failed || x.state == model_state::paused
           || (x.state == model_state::running && x.checkpoint == head);
  });
}

// True when some model changed state or checkpoint between two looks.
bool moved(const std::vector<projector_status>& before,
           const std::vector<projector_status>& now) {
  if (before.size() != now.size())
    return true;
  for (std::size_t i = 0; i < now.size(); ++i)
    if (before[i].state != now[i].state || before[i].checkpoint != now[i].checkpoint)
      return true;
  return false;
}

// The restore counters as one look saw them.
struct restore_counts {
  std::uint32_t models = 0;
  std::uint64_t rows = 0;
  bool operator!=(const restore_counts& x) const noexcept {
    return models != x.models || rows != x.rows;
  }
};

restore_counts read_restores(const restore_progress* progress) {
  if (progress == nullptr)
    return {};
  return {progress->models.load(std::memory_order_relaxed),
          progress->rows.load(std::memory_order_relaxed)};
}

// ", restoring 2 read models (1,200,000 rows so far)", or nothing.
std::string describe_restores(const restore_counts& x) {
  if (x.models == 0)
    return {};
  return ", restoring " + std::to_string(x.models) + " read model"
         + (x.models == 1 ? "" : "s") + " (" + with_commas(x.rows) + " rows so far)";
}

std::uint64_t checkpoint_sum(const std::vector<projector_status>& xs) {
  std::uint64_t sum = 0;
  for (auto& x : xs)
    sum += x.checkpoint;
  return sum;
}

} // namespace

std::string with_commas(std::uint64_t n) {
  auto s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string describe_progress(const std::vector<projector_status>& models,
                              std::uint64_t head, double rate) {
  std::size_t done = 0;
  const projector_status* slowest = nullptr;
  std::uint64_t highest = 0;
  for (auto& m : models) {
    if (settled(m.state))
      ++done;
    else if (slowest == nullptr || m.checkpoint < slowest->checkpoint)
      slowest = &m;
    highest = std::max(highest, m.checkpoint);
  }
  auto text = std::to_string(done) + "/" + std::to_string(models.size())
              + " read models caught up";
  if (slowest != nullptr)
    text += ", checkpoints " + with_commas(slowest->checkpoint) + " to "
            + with_commas(highest) + " of head " + with_commas(head)
            + " (slowest: " + slowest->model + ", " + to_string(slowest->state) + ")";
  else
    text += ", head " + with_commas(head);
  if (rate > 0)
    text += ", " + with_commas(static_cast<std::uint64_t>(rate)) + " events/s";
  return text;
}

catch_up_result wait_for_catch_up(caf::scoped_actor& self, const supervisor_actor& sup,
                                  const bus_actor& bus, const catch_up_options& opts) {
  using namespace std::chrono;
  catch_up_result result;
  // Whether the supervisor ever answered: a "0/0" before would mislead.
  bool heard = false;
  auto look = [&](milliseconds limit) {
    self->request(sup, limit, status_atom::value)
      .receive(
        [&](std::vector<projector_status>& xs) {
          result.models = std::move(xs);
          heard = true;
        },
        [](caf::error&) {
          // nop: busy projectors; the next look will tell
        });
    self->request(bus, limit, head_atom::value)
      .receive([&](std::uint64_t head) { result.head = head; }, [](caf::error&) {});
  };
  auto start = clock_type::now();
  auto last_progress = start;
  auto last_report = start;
  auto last_look = clock_type::time_point{};
  std::optional<std::uint64_t> reported_sum; // at the last report
  bool reported = false;
  std::vector<projector_status> before;
  restore_counts restored_before;
  bool restoring_since_report = false;
  auto progress_text = [&](double rate) {
    auto text = heard ? describe_progress(result.models, result.head, rate)
                      : std::string{"no answer from the supervisor yet"};
    return text + describe_restores(read_restores(opts.restores.get()));
  };
  while (true) {
    // While a model restores, its checkpoint stands still and a ready
    // would wait for the restore: the restores' counters tell the progress
    // then, and short looks the models' states (a busy supervisor is not
    // waited for).
    auto restored = read_restores(opts.restores.get());
    if (restored != restored_before) {
      last_progress = clock_type::now();
      restored_before = restored;
    }
    restoring_since_report = restoring_since_report || restored.models > 0;
    auto now = clock_type::now();
    if (restored.models > 0) {
      if (now - last_look >= milliseconds{250}) {
        look(milliseconds{100});
        last_look = clock_type::now();
      }
      std::this_thread::sleep_for(milliseconds{50});
      now = clock_type::now();
    } else {
      if (opts.goal == catch_up_goal::ready) {
        // `ready` answers once every projector has caught up: wait up to a
        // second for it, then look at the progress.
        bool ready = false;
        bool answered = false;
        self->request(sup, seconds{1}, ready_atom::value)
          .receive(
            [&](std::vector<projector_status>& xs) {
              answered = true;
              ready = std::all_of(xs.begin(), xs.end(),
                                  [](auto& x) { return settled(x.state); });
            },
            [](caf::error&) {});
        if (ready) {
          look(seconds{5});
          break;
        }
        if (answered) // a restart's backoff: ask again soon
          std::this_thread::sleep_for(milliseconds{10});
      }
      now = clock_type::now();
      if (opts.goal == catch_up_goal::head || now - last_look >= milliseconds{250}) {
        look(seconds{5});
        now = clock_type::now(); // a look waits for busy projectors
        last_look = now;
        if (opts.goal == catch_up_goal::head && all_at_head(result.models, result.head))
          break;
        if (!reported_sum)
          reported_sum = checkpoint_sum(result.models);
        if (moved(before, result.models)) {
          last_progress = now;
          before = result.models;
        }
      }
    }
    if (now - last_report >= opts.report_every) {
      auto sum = checkpoint_sum(result.models);
      auto secs = duration<double>(now - last_report).count();
      // A restore moves a checkpoint at once, by what its snapshot held:
      // no rate of events for that interval.
      auto rate = reported_sum && sum > *reported_sum && !restoring_since_report
                    ? static_cast<double>(sum - *reported_sum) / secs
                    : 0.0;
      restoring_since_report = restored.models > 0;
      BUS_LOG(log_level::info, opts.source, "catching up: " << progress_text(rate));
      reported_sum = sum;
      reported = true;
      last_report = now;
    }
    if (opts.patience.count() > 0 && now - last_progress >= opts.patience) {
      result.outcome = catch_up_outcome::no_progress;
      result.progress = progress_text(0);
      return result;
    }
    if (opts.goal == catch_up_goal::head)
      std::this_thread::sleep_for(milliseconds{5});
  }
  if (reported) {
    auto secs = duration<double>(clock_type::now() - start).count();
    BUS_LOG(
      log_level::info, opts.source,
      "caught up: " << describe_progress(result.models, result.head, 0) << " after "
                    << static_cast<double>(static_cast<std::uint64_t>(secs * 10)) / 10.0
                    << " s");
  }
  return result;
}

} // namespace bus::app
