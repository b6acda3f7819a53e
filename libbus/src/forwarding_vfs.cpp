#include "internal/forwarding_vfs.hpp"

#include <atomic>
#include <chrono>

#include "bus/event_log.hpp"

namespace bus::internal {

namespace {

// Our file: the default VFS's file lives right behind it, in the space
// SQLite allocates for us (szOsFile).
struct hooked_file {
  sqlite3_file base;
  sqlite3_file* real;
  forwarding_vfs* vfs;
  const char* path; // SQLite keeps the name alive until xClose
};

sqlite3_file* real_of(sqlite3_file* f) {
  return reinterpret_cast<hooked_file*>(f)->real;
}

const sqlite3_io_methods* methods_of(sqlite3_file* f) {
  return real_of(f)->pMethods;
}

sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) {
  return static_cast<forwarding_vfs*>(vfs->pAppData)->real();
}

// -- the file's methods: forwarded, xSync timed -------------------------------

int file_close(sqlite3_file* f) {
  return methods_of(f)->xClose(real_of(f));
}

int file_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 offset) {
  return methods_of(f)->xRead(real_of(f), buf, n, offset);
}

// Runs `forward` through the VFS's hook.
template <class F>
int hooked(sqlite3_file* f, file_call::kind_type kind, F forward) {
  auto* h = reinterpret_cast<hooked_file*>(f);
  return h->vfs->around(file_call{kind, h->path, h->real}, forward);
}

int file_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 offset) {
  return hooked(f, file_call::write,
                [&] { return methods_of(f)->xWrite(real_of(f), buf, n, offset); });
}

int file_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return hooked(f, file_call::truncate,
                [&] { return methods_of(f)->xTruncate(real_of(f), size); });
}

int file_sync(sqlite3_file* f, int flags) {
  return hooked(f, file_call::sync,
                [&] { return methods_of(f)->xSync(real_of(f), flags); });
}

int file_size(sqlite3_file* f, sqlite3_int64* out) {
  return methods_of(f)->xFileSize(real_of(f), out);
}

int file_lock(sqlite3_file* f, int level) {
  return methods_of(f)->xLock(real_of(f), level);
}

int file_unlock(sqlite3_file* f, int level) {
  return methods_of(f)->xUnlock(real_of(f), level);
}

int file_check_reserved(sqlite3_file* f, int* out) {
  return methods_of(f)->xCheckReservedLock(real_of(f), out);
}

int file_control(sqlite3_file* f, int op, void* arg) {
  return methods_of(f)->xFileControl(real_of(f), op, arg);
}

int file_sector_size(sqlite3_file* f) {
  return methods_of(f)->xSectorSize(real_of(f));
}

int file_device_characteristics(sqlite3_file* f) {
  return methods_of(f)->xDeviceCharacteristics(real_of(f));
}

// WAL mode needs the shared-memory methods (version 2).
int file_shm_map(sqlite3_file* f, int page, int page_size, int extend,
                 void volatile** out) {
  auto* m = methods_of(f);
  return m->iVersion >= 2 ? m->xShmMap(real_of(f), page, page_size, extend, out)
                          : SQLITE_IOERR;
}

int file_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  auto* m = methods_of(f);
  return m->iVersion >= 2 ? m->xShmLock(real_of(f), offset, n, flags) : SQLITE_IOERR;
}

void file_shm_barrier(sqlite3_file* f) {
  auto* m = methods_of(f);
  if (m->iVersion >= 2)
    m->xShmBarrier(real_of(f));
}

int file_shm_unmap(sqlite3_file* f, int delete_flag) {
  auto* m = methods_of(f);
  return m->iVersion >= 2 ? m->xShmUnmap(real_of(f), delete_flag) : SQLITE_OK;
}

int file_fetch(sqlite3_file* f, sqlite3_int64 offset, int n, void** out) {
  auto* m = methods_of(f);
  if (m->iVersion >= 3)
    return m->xFetch(real_of(f), offset, n, out);
  *out = nullptr; // not available: SQLite reads instead
  return SQLITE_OK;
}

int file_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  auto* m = methods_of(f);
  return m->iVersion >= 3 ? m->xUnfetch(real_of(f), offset, p) : SQLITE_OK;
}

const sqlite3_io_methods hooked_methods = {
  3,
  file_close,
  file_read,
  file_write,
  file_truncate,
  file_sync,
  file_size,
  file_lock,
  file_unlock,
  file_check_reserved,
  file_control,
  file_sector_size,
  file_device_characteristics,
  file_shm_map,
  file_shm_lock,
  file_shm_barrier,
  file_shm_unmap,
  file_fetch,
  file_unfetch,
};

// -- the VFS's methods: forwarded, xOpen wraps the file -----------------------

int vfs_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
             int* out_flags) {
  auto* self = static_cast<forwarding_vfs*>(vfs->pAppData);
  auto* f = reinterpret_cast<hooked_file*>(file);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file)
                                            + sizeof(hooked_file));
  f->real->pMethods = nullptr;
  f->vfs = self;
  f->path = name ? name : "";
  auto rc = self->real()->xOpen(self->real(), name, f->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set, even after a failure:
  // only then must ours forward it.
  f->base.pMethods = f->real->pMethods ? &hooked_methods : nullptr;
  return rc;
}

int vfs_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}

int vfs_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}

int vfs_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}

void* vfs_dl_open(sqlite3_vfs* vfs, const char* name) {
  return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name);
}

void vfs_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  real_vfs(vfs)->xDlError(real_vfs(vfs), n, out);
}

void (*vfs_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return real_vfs(vfs)->xDlSym(real_vfs(vfs), handle, symbol);
}

void vfs_dl_close(sqlite3_vfs* vfs, void* handle) {
  real_vfs(vfs)->xDlClose(real_vfs(vfs), handle);
}

int vfs_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}

int vfs_sleep(sqlite3_vfs* vfs, int micros) {
  return real_vfs(vfs)->xSleep(real_vfs(vfs), micros);
}

int vfs_current_time(sqlite3_vfs* vfs, double* out) {
  return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}

int vfs_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out);
}

int vfs_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}

// Distinct names: every instance is a VFS of its own.
std::atomic<unsigned> instances{0};

} // namespace

forwarding_vfs::forwarding_vfs(bool make_default) {
  real_ = sqlite3_vfs_find(nullptr);
  if (real_ == nullptr)
    throw storage_error("sqlite: no default VFS");
  name_ = "bus-vfs-" + std::to_string(++instances);
  vfs_ = sqlite3_vfs{};
  // Version 2 at most: the system-call hooks of version 3 are for tests of
  // SQLite itself, and a VFS may leave them out.
  vfs_.iVersion = real_->iVersion < 2 ? real_->iVersion : 2;
  vfs_.szOsFile = static_cast<int>(sizeof(hooked_file)) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = vfs_open;
  vfs_.xDelete = vfs_delete;
  vfs_.xAccess = vfs_access;
  vfs_.xFullPathname = vfs_full_pathname;
  vfs_.xDlOpen = vfs_dl_open;
  vfs_.xDlError = vfs_dl_error;
  vfs_.xDlSym = vfs_dl_sym;
  vfs_.xDlClose = vfs_dl_close;
  vfs_.xRandomness = vfs_randomness;
  vfs_.xSleep = vfs_sleep;
  vfs_.xCurrentTime = vfs_current_time;
  vfs_.xGetLastError = vfs_last_error;
  if (vfs_.iVersion >= 2)
    vfs_.xCurrentTimeInt64 = vfs_current_time_int64;
  if (sqlite3_vfs_register(&vfs_, make_default ? 1 : 0) != SQLITE_OK)
    throw storage_error("sqlite: cannot register a VFS");
}

forwarding_vfs::~forwarding_vfs() {
  // Unregistering the default makes another one the default: the one it
  // wrapped, unless that was unregistered meanwhile.
  bool was_default = sqlite3_vfs_find(nullptr) == &vfs_;
  sqlite3_vfs_unregister(&vfs_);
  if (was_default)
    sqlite3_vfs_register(real_, 1);
}

int forwarding_vfs::hook(const file_call&, int (*forward)(void*), void* state) {
  return forward(state);
}

int timed_vfs::hook(const file_call& call, int (*forward)(void*), void* state) {
  if (call.kind != file_call::sync)
    return forward(state);
  auto start = std::chrono::steady_clock::now();
  auto rc = forward(state);
  fsyncs_->observe(std::chrono::steady_clock::now() - start);
  return rc;
}

} // namespace bus::internal
