#pragma once

// The parameters of a statement in binary format, as the snapshot store and
// the model tables on PostgreSQL send them: text as its bytes, integers
// big-endian, arrays in PostgreSQL's binary array format; and the statement
// that runs with them. Results come back as text.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pg_wire.hpp"

namespace bus::internal {

constexpr Oid pg_text_oid = 25;
constexpr Oid pg_text_array_oid = 1009;
constexpr Oid pg_int8_array_oid = 1016;

struct binary_params {
  std::vector<std::string> values;
  std::vector<Oid> types;

  binary_params& text(std::string_view x) {
    values.emplace_back(x);
    types.push_back(pg_text_oid);
    return *this;
  }

  binary_params& int8(std::uint64_t x) {
    values.emplace_back();
    put_be64(values.back(), x);
    types.push_back(pg_int8_oid);
    return *this;
  }

  /// A text[] of `xs` (one dimension, no NULLs).
  binary_params& texts(const std::vector<std::string_view>& xs) {
    auto& out = array_header(xs.size(), pg_text_oid, pg_text_array_oid);
    for (auto x : xs) {
      put_be32(out, static_cast<std::uint32_t>(x.size()));
      out.append(x);
    }
    return *this;
  }

  /// A bigint[] of `xs` (one dimension, no NULLs).
  binary_params& int8s(const std::vector<std::uint64_t>& xs) {
    auto& out = array_header(xs.size(), pg_int8_oid, pg_int8_array_oid);
    for (auto x : xs) {
      put_be32(out, 8);
      put_be64(out, x);
    }
    return *this;
  }

private:
  std::string& array_header(std::size_t size, Oid element, Oid type) {
    auto& out = values.emplace_back();
    put_be32(out, 1); // dimensions
    put_be32(out, 0); // no NULLs
    put_be32(out, element);
    put_be32(out, static_cast<std::uint32_t>(size));
    put_be32(out, 1); // lower bound
    types.push_back(type);
    return out;
  }
};

/// Runs `sql` with `ps` on `conn`; throws pg_error unless its status is
/// `expected`.
inline pg_result run_params(PGconn* conn, const char* sql, const binary_params& ps,
                            const char* what,
                            ExecStatusType expected = PGRES_COMMAND_OK) {
  std::vector<const char*> data;
  std::vector<int> lengths;
  std::vector<int> formats(ps.values.size(), 1);
  for (auto& v : ps.values) {
    data.push_back(v.data());
    lengths.push_back(static_cast<int>(v.size()));
  }
  return checked(conn,
                 PQexecParams(conn, sql, static_cast<int>(ps.values.size()),
                              ps.types.data(), data.data(), lengths.data(),
                              formats.data(), 0),
                 expected, what);
}

} // namespace bus::internal
