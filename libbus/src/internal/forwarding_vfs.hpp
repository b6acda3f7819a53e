#pragma once

// SQLite VFSs that forward everything to the VFS that was the default when
// they were made, with a hook on the calls that put data on disk: writes,
// truncations and syncs. timed_vfs times the fsyncs SQLite asks of the file
// system (the only place that sees an fsync by itself: a commit's time
// mixes the writes with it); the tests' fault_vfs fails chosen calls, as a
// failing disk or a full one would.

#include <cstdint>
#include <string>

#include <sqlite3.h>

#include "bus/latency_histogram.hpp"

namespace bus::internal {

/// The file behind a hooked call, and the call's arguments.
struct file_call {
  enum kind_type : std::uint8_t { write, truncate, sync };
  kind_type kind;
  /// The file's path, as SQLite opened it ("" for a temporary file).
  const char* path;
  /// The file SQLite's call goes to when the hook forwards it.
  sqlite3_file* real;
};

class forwarding_vfs {
public:
  /// Registers the VFS under a unique name (as the default one, when
  /// `make_default`: connections opened without a VFS name then use it).
  /// Throws storage_error when SQLite refuses it.
  explicit forwarding_vfs(bool make_default = false);

  /// Unregisters the VFS: close every connection that uses it first.
  virtual ~forwarding_vfs();

  forwarding_vfs(const forwarding_vfs&) = delete;
  forwarding_vfs& operator=(const forwarding_vfs&) = delete;

  /// The name to open a connection with (sqlite3_open_v2's zVfs).
  const char* name() const noexcept { return name_.c_str(); }

  /// The VFS every call is forwarded to.
  sqlite3_vfs* real() const noexcept { return real_; }

  /// Runs a write, truncation or sync: `forward()` makes the real call and
  /// returns its result. Called on the thread of the connection that makes
  /// the call. By default forwards it.
  template <class F>
  int around(const file_call& call, F& forward) {
    return hook(
      call, [](void* f) { return (*static_cast<F*>(f))(); }, &forward);
  }

protected:
  /// Override to act around a call; `forward(state)` makes the real one.
  virtual int hook(const file_call& call, int (*forward)(void*), void* state);

private:
  std::string name_;
  sqlite3_vfs* real_;
  sqlite3_vfs vfs_;
};

/// Times every xSync into a histogram. Each owner registers its own
/// instance, so that its histogram gets only its own files' syncs; the
/// histogram is written from the thread that uses the connection, as every
/// other member of its owner.
class timed_vfs final : public forwarding_vfs {
public:
  /// Syncs go into `fsyncs`, which must outlive the VFS.
  explicit timed_vfs(latency_histogram& fsyncs) : fsyncs_(&fsyncs) {}

protected:
  int hook(const file_call& call, int (*forward)(void*), void* state) override;

private:
  latency_histogram* fsyncs_;
};

} // namespace bus::internal
