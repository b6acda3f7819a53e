#pragma once

// A stream of user events for the store tests, its request lines, and the
// read-model states expected from it, folded here without the framework.
// Also a scratch directory for stores.

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "node_protocol.hpp"

namespace bus::node::test {

/// A scratch directory removed at the end of the test case.
struct scratch_dir {
  std::filesystem::path path;
  scratch_dir();
  ~scratch_dir();
  /// Returns the path of the store file in it.
  std::string store() const;
  /// Writes `text` to the file `name` in it and returns the file's path.
  std::string write(const std::string& name, const std::string& text) const;
};

/// One event of a user stream.
struct user_event {
  std::string id;
  std::string type;
  boost::json::object payload;
};

/// A stream of `n` user events with explicit ids over `users` users;
/// `redeliver_percent` of the deliveries repeat an earlier event (same id
/// and content).
std::vector<user_event> make_stream(std::size_t n, std::size_t users,
                                    unsigned redeliver_percent);

/// The request lines for `stream`, msg_id = index + 1, then queries of every
/// user's listing (msg_id from 1,000,000 on).
std::string requests(const std::vector<user_event>& stream, std::size_t users);

/// The user_listing state expected from the distinct events in stream
/// order: merge on create/update, drop on delete.
std::map<std::string, boost::json::object>
fold_listing(const std::vector<user_event>& stream);

/// The user_by_email state expected from the distinct events in stream
/// order: email -> user id; a user's new email replaces its old one, an
/// email taken by another user moves to it, a deleted user's email goes.
std::map<std::string, std::string> fold_emails(const std::vector<user_event>& stream);

/// Up to `n` distinct emails of `stream`, in order of first appearance.
std::vector<std::string> some_emails(const std::vector<user_event>& stream,
                                     std::size_t n);

/// Queries of user_by_email for `emails` (msg_id from 2,000,000 on).
std::string email_queries(const std::vector<std::string>& emails);

/// Checks replies [first, first + users) against the listing fold and the
/// next emails.size() against the email fold.
void check_queries(const std::vector<reply>& replies, std::size_t first,
                   const std::vector<user_event>& stream, std::size_t users,
                   const std::vector<std::string>& emails);

/// Complete reply lines only: a crash may cut the last one.
std::vector<reply> complete_replies(process_result result);

/// Runs bus-node with `args` on `input` once per entry of `kill_at`, each
/// time killed with SIGKILL after that many reply lines (a crash there), and
/// checks that every event acknowledged by an earlier run is answered
/// event_skipped. Returns the ids acknowledged in all.
std::set<std::string> crash_repeatedly(const std::vector<std::string>& args,
                                       const std::string& input,
                                       const std::vector<user_event>& stream,
                                       std::initializer_list<std::size_t> kill_at);

/// Checks that `replies` (a complete run on `stream` after crashes) answer
/// event_skipped to every event in `acknowledged` and to every redelivery.
void check_acknowledged_skipped(const std::vector<reply>& replies,
                                const std::vector<user_event>& stream,
                                const std::set<std::string>& acknowledged);

} // namespace bus::node::test
