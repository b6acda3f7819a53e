// busctl watch: the status table, refreshed every --interval, with each
// model's throughput (applied events per second since the last refresh),
// until SIGINT or --count refreshes. On a terminal the screen is redrawn;
// otherwise the frames follow each other, so that a log keeps them all.

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

#include <boost/json/serialize.hpp>

#include "commands.hpp"
#include "render.hpp"
#include "table.hpp"

namespace busctl {

namespace json = boost::json;

namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_sigint(int) {
  interrupted = 1;
}

using clock = std::chrono::steady_clock;

// Applied events per second of each model between two answers.
rates applied_rates(const json::object& before, const json::object& now,
                    double seconds) {
  rates out;
  if (seconds <= 0)
    return out;
  auto applied = [](const json::object& status) {
    std::map<std::string, std::int64_t> xs;
    if (auto i = status.find("read_models"); i != status.end() && i->value().is_array())
      for (auto& m : i->value().get_array())
        if (auto* obj = m.if_object())
          xs[string_of(*obj, "model")] = int_of(*obj, "applied");
    return xs;
  };
  auto was = applied(before);
  for (auto& [model, count] : applied(now))
    if (auto i = was.find(model); i != was.end())
      // A restart or rebuild resets the count: its first interval says nothing.
      out[model] = count >= i->second ? static_cast<double>(count - i->second) / seconds
                                      : 0;
  return out;
}

std::string header(const context& ctx, const watch_options& opts) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              now.time_since_epoch())
              .count();
  return "busctl watch " + ctx.client.address() + ", every "
         + duration_text(opts.interval.count()) + ", " + utc_time(ms).substr(0, 19)
         + " UTC" + (opts.count == 0 ? " (Ctrl-C to stop)" : "") + "\n\n";
}

// A failed refresh, as text or (--json) as a line of JSON.
std::string error_text(const context& ctx, const char* code, const char* what) {
  if (!ctx.json)
    return std::string{"error: "} + what + "\n";
  json::object err{{"code", code}, {"message", what}};
  return json::serialize(json::object{{"error", std::move(err)}}) + "\n";
}

// Sleeps `d`, waking early on SIGINT.
void nap(std::chrono::milliseconds d) {
  auto until = clock::now() + d;
  while (!interrupted && clock::now() < until)
    std::this_thread::sleep_for(
      std::min<clock::duration>(std::chrono::milliseconds{50}, until - clock::now()));
}

} // namespace

exit_code run_watch(const context& ctx, const watch_options& opts) {
  interrupted = 0;
  auto previous_handler = std::signal(SIGINT, on_sigint);
  json::object previous;
  auto previous_at = clock::now();
  auto code = exit_code::ok;
  for (std::int64_t frame = 0; !interrupted;) {
    std::string text;
    try {
      auto status = get_json(ctx, "/status");
      auto at = clock::now();
      auto per_s = previous.empty()
                     ? rates{}
                     : applied_rates(
                       previous, status,
                       std::chrono::duration<double>(at - previous_at).count());
      text = ctx.json ? json::serialize(status) + "\n" : render_status(status, &per_s);
      previous = std::move(status);
      previous_at = at;
      code = exit_code::ok;
    } catch (const unreachable& ex) {
      // The node may come back: say so and keep trying.
      text = error_text(ctx, "unreachable", ex.what());
      code = exit_code::unreachable;
      previous.clear();
    } catch (const refused& ex) {
      text = error_text(ctx, "refused", ex.what());
      code = exit_code::refused;
    }
    if (ctx.json)
      ctx.out << text;
    else if (ctx.tty)
      ctx.out << "\x1b[H\x1b[2J" << header(ctx, opts) << text; // home, clear
    else
      ctx.out << header(ctx, opts) << text << "\n";
    ctx.out << std::flush;
    if (opts.count > 0 && ++frame >= opts.count)
      break;
    nap(opts.interval);
  }
  std::signal(SIGINT, previous_handler);
  return code;
}

} // namespace busctl
