// The text a projector restores from its snapshot or its model table
// (snapshot_store.hpp, model_table.hpp), as it restores it. Byte 0 chooses
// the decoder; the rest is the stored text:
//   0: the parked events (a JSON array), restored into a parking lot under
//      either key order, then retried and discarded as an operator would;
//   1: the seqs processed above a checkpoint ("17 19 23"), restored into a
//      processed-id set;
//   2, 3: a model's state (JSON text, parsed as the projector does), restored
//      into the document model and the index model of config/node.json;
//   4, 5: the same models' state as rows (the layout of periodic snapshots,
//      snapshot_rows.hpp: JSON lines and record rows), folded and restored
//      as the projector does.
// Text that does not decode gives an error or a refused restore, never a
// crash; what decodes survives a save and a restore unchanged.

#include <algorithm>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bus/actors/messages.hpp"
#include "bus/config.hpp"
#include "bus/parked_event.hpp"
#include "bus/parking_lot.hpp"
#include "bus/processed_ids.hpp"
#include "bus/snapshot_rows.hpp"
#include "fuzz_support.hpp"
#include "internal/seq_list.hpp"

using namespace bus;

namespace {

// Equal JSON, but doubles only to within a few ulps: Boost 1.81 parses a
// number past the 64-bit integers to the nearest double or one next to it,
// so such a number may move in its last digit across a save (documented in
// docs/protocol.md, the "event" request).
bool near_equal(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    auto x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-15 * std::max(std::fabs(x), std::fabs(y));
  }
  // An int64 and a uint64 of one value are one JSON number (a record row
  // may hold either kind; its JSON line reads back as an int64).
  if (a.is_int64() || a.is_uint64())
    return a == b;
  if (a.kind() != b.kind())
    return false;
  if (auto* xs = a.if_array()) {
    auto& ys = b.get_array();
    if (xs->size() != ys.size())
      return false;
    for (std::size_t i = 0; i < xs->size(); ++i)
      if (!near_equal((*xs)[i], ys[i]))
        return false;
    return true;
  }
  if (auto* xs = a.if_object()) {
    auto& ys = b.get_object();
    if (xs->size() != ys.size())
      return false;
    for (auto& kv : *xs) {
      auto* y = ys.if_contains(kv.key());
      if (y == nullptr || !near_equal(kv.value(), *y))
        return false;
    }
    return true;
  }
  return a == b;
}

void parked_text(std::string_view text) {
  auto parked = parked_events_from_text(text);
  if (!parked)
    return;
  auto saved = parked_events_text(*parked);
  auto again = parked_events_from_text(saved);
  fuzz::require(again
                  && near_equal(boost::json::parse(parked_events_text(*again)),
                                boost::json::parse(saved)),
                "parked events survive a save");
  for (auto order : {key_order::per_key, key_order::none}) {
    parking_lot lot{order};
    lot.restore(*parked);
    for (auto& x : lot.list()) {
      if (lot.find(x.seq()) == nullptr)
        continue; // taken with an earlier one of its key
      auto taken = lot.take(x.seq());
      if (!taken)
        (void) lot.discard(x.seq());
    }
    fuzz::require(lot.empty(), "every parked event can be retried or discarded");
  }
}

void seq_text(std::string_view text) {
  auto seqs = internal::split_seqs(std::string{text});
  fuzz::require(internal::split_seqs(internal::join_seqs(seqs)) == seqs,
                "seqs survive a save");
  processed_ids ids;
  ids.restore(seqs.empty() ? 0 : seqs.front(), seqs);
  auto sparse = ids.sparse();
  for (auto seq : sparse)
    fuzz::require(seq > ids.watermark() && ids.contains(seq),
                  "the sparse seqs lie above the watermark");
}

void model_text(std::string_view text, const model_spec& spec) {
  boost::json::value state;
  if (bus::detail::parse_json_text(std::string{text}, state))
    return;
  auto model = spec.make();
  if (!model->restore(state))
    return;
  auto saved = model->snapshot();
  auto fresh = spec.make();
  fuzz::require(fresh->restore(saved) && fresh->snapshot() == saved,
                "a restored state survives a snapshot");
  if (auto* obj = saved.if_object())
    for (auto& kv : *obj)
      fuzz::require(static_cast<bool>(fresh->query(kv.key())),
                    "every restored key answers a query");
}

// Rows text: what decodes folds to the same state however it is split in
// deltas, and restores like its JSON form.
void rows_text(std::string_view text, const model_spec& spec) {
  // A fold reads only each line's key, so it may pass a line whose value
  // does not decode (the restore then refuses it); rows that restore must
  // fold.
  auto state = rows_state(text);
  if (!state)
    return;
  auto folded = compact_rows({text}, removed_rows::drop);
  fuzz::require(static_cast<bool>(folded), "rows that restore also fold");
  auto again = rows_state(*folded);
  fuzz::require(again && *again == *state, "folded rows describe the same state");
  // Record rows (a byte 0 starts one) read as their JSON lines do. Those
  // of the fold: a row a later one replaced is never read, so it may not
  // decode (as a JSON line that a later one replaced may not parse).
  auto lines = rows_as_json(*folded);
  fuzz::require(static_cast<bool>(lines), "rows that restore also read as JSON");
  auto from_lines = rows_state(*lines);
  fuzz::require(from_lines
                  && near_equal(boost::json::value(*from_lines),
                                boost::json::value(*state)),
                "rows as JSON lines describe the same state");
  auto model = spec.make();
  if (!model->restore(boost::json::value(*state)))
    return;
  auto fresh = spec.make();
  auto saved = model->snapshot();
  fuzz::require(fresh->restore(saved) && fresh->snapshot() == saved,
                "a restored state survives a snapshot");
  // Restored as a restart does, row by row: the same state.
  auto by_row = spec.make();
  auto restored = restore_rows(*by_row, std::string{text});
  fuzz::require(restored && *restored && by_row->snapshot() == saved,
                "rows restore row by row to the state they describe");
}

const std::vector<model_spec>& shipped_models() {
  static auto config = parse_config(default_config_text());
  return config->read_models;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  auto text = fuzz::text_of(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      parked_text(text);
      break;
    case 1:
      seq_text(text);
      break;
    case 2:
    case 3:
      model_text(text, shipped_models().at(data[0] % 6 - 2));
      break;
    default:
      rows_text(text, shipped_models().at(data[0] % 6 - 4));
  }
  return 0;
}
