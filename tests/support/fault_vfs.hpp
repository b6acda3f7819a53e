#pragma once

// Storage faults on demand: a VFS that becomes SQLite's default while it
// lives (so every store of the process opens its files through it) and
// fails the calls a test arms, as a failing disk or a full one would.
// Thread-safe: a snapshot writer may run on its own thread.

#include <cstdint>
#include <mutex>
#include <string>

#include "internal/forwarding_vfs.hpp"

namespace bus::test {

enum class fault_kind : std::uint8_t {
  /// A write fails with EIO (SQLITE_IOERR_WRITE).
  write_error,
  /// An fsync fails (SQLITE_IOERR_FSYNC).
  sync_error,
  /// A write finds the disk full (SQLITE_FULL, what ENOSPC becomes).
  disk_full,
};

class fault_vfs final : public bus::internal::forwarding_vfs {
public:
  fault_vfs() : forwarding_vfs(true) {}

  /// Fails every call of `kind` to a file whose path ends in `suffix`
  /// (e.g. "-wal"), after `after` such calls that succeed, until disarm().
  void arm(fault_kind kind, std::string suffix, std::uint64_t after = 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    armed_ = true;
    kind_ = kind;
    suffix_ = std::move(suffix);
    left_ = after;
  }

  void disarm() {
    std::lock_guard<std::mutex> guard{mtx_};
    armed_ = false;
  }

  /// Calls failed so far: a test checks that its fault really happened.
  std::uint64_t failed() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return failed_;
  }

protected:
  int hook(const bus::internal::file_call& call, int (*forward)(void*),
           void* state) override {
    if (auto rc = injected(call); rc != SQLITE_OK)
      return rc;
    return forward(state);
  }

private:
  int injected(const bus::internal::file_call& call) {
    using bus::internal::file_call;
    std::lock_guard<std::mutex> guard{mtx_};
    if (!armed_ || !ends_with(call.path, suffix_))
      return SQLITE_OK;
    auto kind = call.kind == file_call::sync ? fault_kind::sync_error
                                             : fault_kind::write_error;
    if (call.kind == file_call::write && kind_ == fault_kind::disk_full)
      kind = fault_kind::disk_full;
    if (kind != kind_)
      return SQLITE_OK;
    if (left_ > 0) {
      --left_;
      return SQLITE_OK;
    }
    ++failed_;
    switch (kind_) {
      case fault_kind::write_error:
        return SQLITE_IOERR_WRITE;
      case fault_kind::sync_error:
        return SQLITE_IOERR_FSYNC;
      case fault_kind::disk_full:
        return SQLITE_FULL;
    }
    return SQLITE_OK;
  }

  static bool ends_with(const std::string& path, const std::string& suffix) {
    return path.size() >= suffix.size()
           && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  mutable std::mutex mtx_;
  bool armed_ = false;
  fault_kind kind_ = fault_kind::write_error;
  std::string suffix_;
  std::uint64_t left_ = 0;
  std::uint64_t failed_ = 0;
};

} // namespace bus::test
