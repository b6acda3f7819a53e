// The records of one stored row (internal/event_record.hpp), as sqlite_log
// reads them: walk the records, take each one's id (the id index's check),
// decode each event. Corrupt records throw storage_error, nothing else. A
// decoded event re-encodes to a record that decodes to an event with the
// same encoding (bytes are compared, not events: a corrupt double may be
// NaN, and a duplicate key is dropped on decoding).

#include "bus/event_log.hpp"
#include "fuzz_support.hpp"
#include "internal/event_record.hpp"

using namespace bus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  internal::record_cursor cursor{data, size};
  try {
    for (std::uint64_t seq = 1; !cursor.at_end(); ++seq) {
      auto body = cursor.next();
      auto id = internal::record_id(body);
      event e;
      internal::decode_event(body, seq, e);
      fuzz::require(e.id == id, "record_id is the decoded id");
      std::string record;
      internal::encode_event(e, record);
      internal::record_cursor back{record.data(), record.size()};
      event f;
      internal::decode_event(back.next(), seq, f);
      fuzz::require(back.at_end(), "one record");
      std::string again;
      internal::encode_event(f, again);
      fuzz::require(again == record, "a decoded record re-encodes to itself");
    }
  } catch (const storage_error&) {
    // nop: corrupt, as it should be reported
  }
  return 0;
}
