// The stores' open and migrate paths on a corrupted file: the input is
// written as the SQLite file, then opened as each store a node opens on
// --store PATH (sqlite_log: the log; snapshot_store: PATH.snapshots;
// model_table: PATH.models; lifecycle_store: PATH.lifecycle), each on a
// fresh copy, and used as a node would: the log is read and appended to,
// snapshots and tables are loaded into the shipped read models and written
// back. Every failure must be an error (caf::expected, caf::error, or the
// log's storage_error, which the bus turns into an error reply); never a
// crash, a hang or an unbounded allocation.

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <boost/json/parse.hpp>

#include "bus/actors/messages.hpp"
#include "bus/config.hpp"
#include "bus/lifecycle_store.hpp"
#include "bus/model_table.hpp"
#include "bus/parking_lot.hpp"
#include "bus/processed_ids.hpp"
#include "bus/snapshot_rows.hpp"
#include "bus/snapshot_store.hpp"
#include "bus/sqlite_log.hpp"
#include "fuzz_support.hpp"

using namespace bus;
namespace fs = std::filesystem;

namespace {

// A private directory for this process's store file, on tmpfs when there
// is one (the stores write and sync a lot).
const std::string& store_path() {
  static const std::string path = [] {
    auto base = fs::exists("/dev/shm") ? fs::path{"/dev/shm"}
                                       : fs::temp_directory_path();
    auto pattern = (base / "bus-fuzz-store-XXXXXX").string();
    fuzz::require(::mkdtemp(pattern.data()) != nullptr, "a temporary directory");
    static std::string dir = pattern;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(dir, ec);
    });
    return dir + "/store.db";
  }();
  return path;
}

// Puts the input in place as the store file, without journal or WAL.
void write_file(std::string_view bytes) {
  auto& path = store_path();
  for (auto* suffix : {"-wal", "-shm", "-journal"})
    ::unlink((path + suffix).c_str());
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  fuzz::require(out.good(), "the store file is written");
}

const std::vector<model_spec>& shipped_models() {
  static auto config = parse_config(default_config_text());
  return config->read_models;
}

event sample_event() {
  event e;
  e.id = "fuzz-1";
  e.type = "UserCreated";
  e.payload = {{"id", "user-1"}, {"email", "a@b"}};
  return e;
}

void use_log(std::string_view bytes) {
  write_file(bytes);
  auto log = sqlite_log::open(store_path(), durability::os_buffered);
  if (!log)
    return;
  try {
    auto head = (*log)->head();
    for (std::uint64_t from = 1; from <= head;) {
      auto batch = (*log)->read(from, 256);
      fuzz::require(!batch.empty(), "every seq up to the head reads");
      for (auto& e : batch) {
        fuzz::require(e.seq == from++, "the log reads in seq order");
        auto found = (*log)->find(e.id); // a seq that holds the id
        fuzz::require(found && *found <= (*log)->head(), "each id is found");
      }
    }
    auto appended = (*log)->append({sample_event()});
    (void) appended;
    (void) (*log)->find("no such id");
  } catch (const storage_error&) {
    // nop: a corrupt store is reported so
  }
}

void use_snapshots(std::string_view bytes) {
  write_file(bytes);
  auto store = snapshot_store::open(store_path());
  if (!store)
    return;
  for (auto& spec : shipped_models()) {
    // As projector_snapshots.cpp claims and restores a snapshot.
    auto claimed = (*store)->claim(spec.name);
    if (!claimed || !claimed->stored)
      continue;
    auto& stored = *claimed->stored;
    auto model = spec.make();
    model->track_changes();
    boost::json::value state;
    bool decoded = false;
    if (stored.layout == snapshot_layout::rows) {
      if (auto rows = rows_state(stored.state)) {
        state = std::move(*rows);
        decoded = true;
      }
    } else {
      decoded = !bus::detail::parse_json_text(stored.state, state);
    }
    if (decoded && model->restore(state)) {
      processed_ids ids;
      ids.restore(stored.checkpoint, stored.above);
      parking_lot lot;
      lot.restore(stored.parked);
    }
    // Written back both ways: a whole snapshot, then a rows base and a
    // delta on top of it, and the fold of the two.
    snapshot whole;
    whole.checkpoint = stored.checkpoint + 1;
    whole.state = bus::detail::json_text(model->snapshot());
    (void) (*store)->save(spec.name, whole, claimed->generation);
    snapshot rows;
    rows.checkpoint = stored.checkpoint + 2;
    rows.layout = snapshot_layout::rows;
    auto current = model->snapshot();
    if (auto* obj = current.if_object())
      append_rows(rows.state, *obj);
    (void) (*store)->save(spec.name, rows, claimed->generation, rows_write::base);
    rows.checkpoint += 1;
    (void) (*store)->save(spec.name, rows, claimed->generation, rows_write::delta);
    (void) (*store)->compact(spec.name, claimed->generation);
  }
}

void use_tables(std::string_view bytes) {
  for (auto& spec : shipped_models()) {
    write_file(bytes);
    auto model = spec.make();
    model->track_changes();
    auto table = model_table::open(store_path(), spec.name, model->definition());
    if (!table)
      continue;
    auto loaded = (*table)->load();
    if (!loaded)
      continue;
    // As projector_store.cpp opens a table model.
    parking_lot lot;
    lot.track_changes();
    if (!model->restore(loaded->rows)) {
      model->reset();
      (void) (*table)->clear();
      continue;
    }
    lot.restore(std::move(loaded->parked));
    try {
      model->apply(sample_event());
    } catch (const std::exception&) {
      // nop: a model may refuse an event; only the store is under test
    }
    (void) (*table)->commit(*model, loaded->checkpoint + 1, loaded->above, &lot);
  }
}

void use_lifecycle(std::string_view bytes) {
  write_file(bytes);
  auto store = lifecycle_store::open(store_path());
  if (!store)
    return;
  (void) (*store)->paused();
  (void) (*store)->set_paused("user_listing", true);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto bytes = fuzz::text_of(data, size);
  use_log(bytes);
  use_snapshots(bytes);
  use_tables(bytes);
  use_lifecycle(bytes);
  return 0;
}
