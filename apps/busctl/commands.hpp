#pragma once

// busctl's commands, one function each. A command prints its answer on
// `out` (a table, or with --json the endpoint's JSON) and returns its exit
// code; a node's error answer is thrown as `refused` and no answer at all as
// `unreachable` (admin_client.hpp), which main() turns into exit codes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

#include <boost/json/object.hpp>

#include "admin_client.hpp"

namespace busctl {

/// busctl's exit codes, documented in docs/operations.md ("busctl").
enum class exit_code : int {
  /// Done.
  ok = 0,
  /// The node answered with an error (HTTP 4xx or 5xx); its message is shown.
  refused = 1,
  /// A bad command line.
  usage = 2,
  /// No answer from the admin endpoint.
  unreachable = 3,
  /// `health`: a model is not running, catching up or restoring.
  unhealthy = 4,
};

/// Thrown when the node answered with an error status, or with something
/// that is not the JSON object the API promises.
class refused : public std::runtime_error {
public:
  refused(std::string message, unsigned status, std::string body)
    : std::runtime_error(std::move(message)), status_(status), body_(std::move(body)) {
    // nop
  }

  unsigned status() const noexcept { return status_; }

  /// The answer as it came (the API's error object, for --json).
  const std::string& body() const noexcept { return body_; }

private:
  unsigned status_;
  std::string body_;
};

/// What every command works with.
struct context {
  const admin_client& client;
  bool json = false;
  /// Whether `out` is a terminal (progress bars, a redrawn watch).
  bool tty = false;
  std::ostream& out;
};

/// Returns the JSON object of a 2xx answer to `GET target`; throws
/// `refused` for any other answer.
boost::json::object get_json(const context& ctx, const std::string& target);

/// The same for `POST target` with an empty body.
boost::json::object post_json(const context& ctx, const std::string& target);

/// Returns "/models/{model}{suffix}", the name percent-encoded.
std::string model_path(const std::string& model, const std::string& suffix);

exit_code run_status(const context& ctx);
exit_code run_lag(const context& ctx);
exit_code run_health(const context& ctx);

/// `action` is "pause", "resume" or "restart" (rebuild: run_rebuild).
exit_code run_steer(const context& ctx, const std::string& model,
                    const std::string& action);

exit_code run_parked(const context& ctx, const std::string& model);

/// `action` is "retry" or "discard"; without `seq`, every parked event.
exit_code run_unpark(const context& ctx, const std::string& model,
                     const std::string& action, std::optional<std::int64_t> seq);

/// Payloads are cut to 80 characters unless `full`.
exit_code run_events(const context& ctx, std::int64_t from, std::int64_t limit,
                     bool full);

struct rebuild_options {
  /// Wait until the model has caught up again, showing progress.
  bool wait = true;
  /// How often to poll /status while waiting.
  std::chrono::milliseconds poll{200};
};

exit_code run_rebuild(const context& ctx, const std::string& model,
                      const rebuild_options& opts);

struct watch_options {
  std::chrono::milliseconds interval{1000};
  /// Refreshes before it ends by itself; 0: until SIGINT.
  std::int64_t count = 0;
};

exit_code run_watch(const context& ctx, const watch_options& opts);

} // namespace busctl
