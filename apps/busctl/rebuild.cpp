// busctl rebuild: asks for a rebuild, then polls /status until the model
// has caught up again, with a progress bar and an ETA on a terminal and
// plain progress lines (at most one a second) otherwise.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <thread>

#include <boost/json/serialize.hpp>

#include "commands.hpp"
#include "render.hpp"
#include "table.hpp"

namespace busctl {

namespace json = boost::json;

namespace {

using clock = std::chrono::steady_clock;

const json::object* find_model(const json::object& status, const std::string& model) {
  if (auto i = status.find("read_models"); i != status.end() && i->value().is_array())
    for (auto& m : i->value().get_array())
      if (auto* obj = m.if_object();
          obj != nullptr && string_of(*obj, "model") == model)
        return obj;
  return nullptr;
}

// A model's entry in a status answer; refused if it is not there.
json::object model_entry(const json::object& status, const std::string& model) {
  if (auto* obj = find_model(status, model))
    return *obj;
  throw refused("the node's status does not list the model '" + model + "'", 200,
                json::serialize(status));
}

// How fast the checkpoint moves, over the last few seconds of samples.
class rate_meter {
public:
  void add(clock::time_point at, std::int64_t checkpoint) {
    if (!samples_.empty() && checkpoint < samples_.back().second)
      samples_.clear(); // the rebuild reset the checkpoint: start over
    samples_.emplace_back(at, checkpoint);
    while (samples_.size() > 2 && at - samples_.front().first > std::chrono::seconds{5})
      samples_.pop_front();
  }

  /// Whether two samples measure a rate.
  bool measured() const noexcept { return samples_.size() >= 2; }

  /// Events per second; 0 until the checkpoint has moved.
  double per_second() const {
    if (samples_.size() < 2)
      return 0;
    auto dt = std::chrono::duration<double>(samples_.back().first
                                            - samples_.front().first)
                .count();
    auto dx = samples_.back().second - samples_.front().second;
    return dt > 0 ? static_cast<double>(dx) / dt : 0;
  }

private:
  std::deque<std::pair<clock::time_point, std::int64_t>> samples_;
};

struct progress {
  std::string model;
  std::string state;
  std::int64_t checkpoint = 0;
  std::int64_t head = 0;
  double per_second = 0;
};

std::string eta_text(const progress& p) {
  if (p.checkpoint >= p.head)
    return "0 ms";
  if (p.per_second <= 0)
    return "?";
  // In double: at a crawl the milliseconds left may not fit an int64.
  auto ms = static_cast<double>(p.head - p.checkpoint) * 1000 / p.per_second;
  if (!(ms < static_cast<double>(std::numeric_limits<std::int64_t>::max())))
    return "?";
  return duration_text(static_cast<std::int64_t>(ms));
}

int percent(const progress& p) {
  if (p.head <= 0 || p.checkpoint >= p.head)
    return 100;
  return static_cast<int>(p.checkpoint * 100 / p.head);
}

std::string bar(const progress& p, int width) {
  int filled = percent(p) * width / 100;
  return "[" + std::string(static_cast<std::size_t>(filled), '#')
         + std::string(static_cast<std::size_t>(width - filled), '.') + "]";
}

// Events per second of `events` in `took`, rounded up: a rebuild that
// took a few milliseconds did not run at 0 events/s.
double average_rate(std::int64_t events, clock::duration took) {
  auto seconds = std::chrono::duration<double>(took).count();
  if (events <= 0 || seconds <= 0)
    return 0;
  return std::ceil(static_cast<double>(events) / seconds);
}

std::string events_per_second_text(double per_s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s events/s",
                with_commas(static_cast<std::int64_t>(per_s)).c_str());
  return buf;
}

void draw(const context& ctx, const progress& p) {
  ctx.out << "\r" << p.model << " " << bar(p, 30) << " " << percent(p) << "%  "
          << with_commas(p.checkpoint) << "/" << with_commas(p.head) << "  "
          << events_per_second_text(p.per_second) << "  ETA " << eta_text(p) << "  "
          << p.state << "\x1b[K" << std::flush; // erase what a longer line left
}

void print_line(const context& ctx, const progress& p) {
  ctx.out << p.model << ": " << p.state << " " << with_commas(p.checkpoint) << "/"
          << with_commas(p.head) << " (" << percent(p) << "%), "
          << events_per_second_text(p.per_second) << ", ETA " << eta_text(p) << "\n"
          << std::flush;
}

// States in which a rebuild does not finish by itself.
bool stuck(const std::string& state) {
  return state == "failed" || state == "stopped" || state == "paused";
}

} // namespace

exit_code run_rebuild(const context& ctx, const std::string& model,
                      const rebuild_options& opts) {
  // The rebuild counter tells a status from after the request from one
  // before it, whatever the node's timing.
  std::int64_t rebuilds_before = 0;
  std::int64_t restarts_before = 0;
  if (opts.wait) {
    // An unknown model is left to the rebuild request to name.
    auto status = get_json(ctx, "/status");
    if (auto* obj = find_model(status, model)) {
      rebuilds_before = int_of(*obj, "rebuilds");
      restarts_before = int_of(*obj, "restarts");
    }
  }
  auto reply = post_json(ctx, model_path(model, "/rebuild"));
  if (ctx.json)
    ctx.out << json::serialize(reply) << "\n";
  else if (!opts.wait || !ctx.tty)
    ctx.out << render_steered(reply) << std::flush;
  if (!opts.wait)
    return exit_code::ok;
  auto start = clock::now();
  auto last_line = start - std::chrono::hours{1};
  rate_meter meter;
  for (;;) {
    auto status = get_json(ctx, "/status");
    auto entry = model_entry(status, model);
    auto now = clock::now();
    progress p{model, string_of(entry, "state"), int_of(entry, "checkpoint"),
               int_of(status, "head"), 0};
    // A projector that replaced the rebuilding one (a restart, its node
    // back) counts its own rebuilds from 0: it is past the request too.
    auto rebuilds = int_of(entry, "rebuilds");
    bool counted = rebuilds != rebuilds_before
                   || int_of(entry, "restarts") != restarts_before;
    meter.add(now, p.checkpoint);
    p.per_second = meter.per_second();
    // Before two samples (a rebuild done within the first poll), the rate
    // since the request: the rebuild replayed the model from seq 0.
    if (!meter.measured() && counted)
      p.per_second = average_rate(p.checkpoint, now - start);
    bool done = counted && int_of(entry, "lag_events") == 0
                && (p.state == "running" || p.state == "parked");
    if (ctx.tty && !ctx.json) {
      draw(ctx, p);
    } else if (!ctx.json && (done || now - last_line >= std::chrono::seconds{1})) {
      print_line(ctx, p);
      last_line = now;
    }
    // Away: its node is gone, and with it the rebuild's progress.
    if (done || (counted && stuck(p.state)) || p.state == "away") {
      if (ctx.tty && !ctx.json)
        ctx.out << "\n";
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
      if (ctx.json)
        ctx.out << json::serialize(entry) << "\n";
      if (!done)
        throw refused("the rebuild of '" + model + "' stopped: the model is " + p.state
                        + (p.state == "paused" ? " (resume it to go on)"
                           : p.state == "away"
                             ? " (its node is not connected; the rebuild goes on there "
                               "once it is back, if it got the request)"
                             : ": " + printable(string_of(entry, "last_error"))),
                      200, json::serialize(entry));
      if (!ctx.json)
        ctx.out << model << ": caught up at checkpoint " << with_commas(p.checkpoint)
                << " in " << duration_text(took.count())
                << (p.state == "parked"
                      ? ", " + std::to_string(int_of(entry, "parked")) + " parked"
                      : std::string{})
                << " ("
                << events_per_second_text(average_rate(p.checkpoint, now - start))
                << ")\n";
      return exit_code::ok;
    }
    std::this_thread::sleep_for(opts.poll);
  }
}

} // namespace busctl
