#pragma once

// What postgres_log's sources share: the owner of a libpq result, the
// error that carries the server's SQLSTATE, and the big-endian integers of
// PostgreSQL's binary formats (COPY BINARY, binary parameters and results).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <libpq-fe.h>

#include "bus/event_log.hpp"

namespace bus::internal {

// A row of bus_events holds at most this many events or about this many
// bytes: TOAST compresses and moves out larger values, which would cost a
// second lookup per read.
constexpr std::uint32_t pg_row_max_events = 512;
constexpr std::size_t pg_row_max_bytes = 48 << 10;

// Type oids of the binary parameters (pg_type.h; stable across releases).
constexpr Oid pg_int8_oid = 20;
constexpr Oid pg_bytea_oid = 17;
constexpr Oid pg_bytea_array_oid = 1001;

// Taken (transaction-scoped) around creating tables: a node creating the
// log's and its projectors creating their models' would otherwise collide
// in the catalog.
constexpr const char* pg_schema_lock = "SELECT pg_advisory_xact_lock(4775315722)";

// SQLSTATEs the log reacts to.
constexpr const char* pg_unique_violation = "23505";

/// A storage_error from the server, with its SQLSTATE ("" when the
/// connection failed before the server answered).
class pg_error : public storage_error {
public:
  pg_error(const std::string& what, std::string sqlstate)
    : storage_error(what), sqlstate_(std::move(sqlstate)) {
    // nop
  }

  const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
  std::string sqlstate_;
};

/// Owns a PGresult.
class pg_result {
public:
  explicit pg_result(PGresult* res = nullptr) noexcept : res_(res) {
    // nop
  }

  pg_result(pg_result&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {
    // nop
  }

  pg_result& operator=(pg_result&& other) noexcept {
    std::swap(res_, other.res_);
    return *this;
  }

  ~pg_result() { PQclear(res_); }

  PGresult* get() const noexcept { return res_; }

  PGresult* release() noexcept { return std::exchange(res_, nullptr); }

  int rows() const noexcept { return PQntuples(res_); }

  std::string_view value(int row, int col) const noexcept {
    return {PQgetvalue(res_, row, col),
            static_cast<std::size_t>(PQgetlength(res_, row, col))};
  }

private:
  PGresult* res_;
};

/// Returns `res` when its status is `expected`, else throws pg_error with
/// `what`, the server's message and its SQLSTATE.
inline pg_result checked(PGconn* conn, PGresult* res, ExecStatusType expected,
                         const std::string& what) {
  pg_result owner{res};
  if (res != nullptr && PQresultStatus(res) == expected)
    return owner;
  std::string message = res != nullptr ? PQresultErrorMessage(res) : "";
  if (message.empty())
    message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                     : nullptr;
  throw pg_error(what + ": " + message, state != nullptr ? state : "");
}

/// libpq's last message on `conn`, without its trailing newline.
inline std::string pg_message(const PGconn* conn) {
  std::string text = PQerrorMessage(conn);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

/// Opens a session on the database at `uri`, waiting at most `timeout`
/// (libpq's connect_timeout; the URI's own wins; 0: libpq's default).
/// Throws storage_error "cannot connect: " and libpq's reason.
inline PGconn* pg_connect(const std::string& uri,
                          std::chrono::seconds timeout = std::chrono::seconds{0}) {
  PGconn* conn = nullptr;
  if (timeout.count() > 0) {
    // The URI goes in as dbname, expanded: its own parameters override the
    // connect_timeout given before it.
    auto seconds = std::to_string(timeout.count());
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {seconds.c_str(), uri.c_str(), nullptr};
    conn = PQconnectdbParams(keys, values, 1);
  } else {
    conn = PQconnectdb(uri.c_str());
  }
  if (conn == nullptr)
    throw storage_error("cannot connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    auto why = pg_message(conn);
    PQfinish(conn);
    throw storage_error("cannot connect: " + why);
  }
  return conn;
}

inline void put_be16(std::string& out, std::uint16_t x) {
  out.push_back(static_cast<char>(x >> 8));
  out.push_back(static_cast<char>(x & 0xff));
}

inline void put_be32(std::string& out, std::uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xff));
}

inline void put_be64(std::string& out, std::uint64_t x) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xff));
}

/// Reads a big-endian integer of `size` bytes (a binary int4 or int8).
inline std::uint64_t get_be(std::string_view bytes) {
  std::uint64_t x = 0;
  for (char c : bytes)
    x = (x << 8) | static_cast<unsigned char>(c);
  return x;
}

} // namespace bus::internal
