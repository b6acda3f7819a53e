// The records of one stored row (internal/event_record.hpp), as sqlite_log
// reads them: walk the records, take each one's id (the id index's check),
// decode each event. Corrupt records throw storage_error, nothing else. A
// decoded event re-encodes to a record that decodes to an event with the
// same encoding (bytes are compared, not events: a corrupt double may be
// NaN, and a duplicate key is dropped on decoding). A record decoded lazily
// (its payload left in the record) is refused exactly when it is refused
// decoded, reads every field as the decoded payload has it, and decodes to
// the same event.

#include "bus/event_log.hpp"
#include "fuzz_support.hpp"
#include "internal/event_record.hpp"

#include <cstring>

using namespace bus;

namespace {

bool decodes_lazily(std::string_view body, std::uint64_t seq, event& out) {
  try {
    internal::decode_event_lazy(body, seq, out);
    return true;
  } catch (const storage_error&) {
    return false;
  }
}

bool same_field(const boost::json::value& v, const payload_field& f) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return f.kind() == field_kind::null;
    case boost::json::kind::bool_:
      return f.kind() == field_kind::boolean && f.as_bool() == v.get_bool();
    case boost::json::kind::int64:
      return f.kind() == field_kind::int64 && f.as_int64() == v.get_int64();
    case boost::json::kind::uint64:
      return f.kind() == field_kind::uint64 && f.as_uint64() == v.get_uint64();
    case boost::json::kind::double_: {
      if (f.kind() != field_kind::number)
        return false;
      auto x = f.as_double();
      auto y = v.get_double();
      return std::memcmp(&x, &y, sizeof(x)) == 0; // NaN is NaN
    }
    case boost::json::kind::string:
      return f.kind() == field_kind::string
             && f.as_string() == std::string_view{v.get_string()};
    case boost::json::kind::array:
      return f.kind() == field_kind::array;
    case boost::json::kind::object:
      return f.kind() == field_kind::object;
  }
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  internal::record_cursor cursor{data, size};
  try {
    for (std::uint64_t seq = 1; !cursor.at_end(); ++seq) {
      auto body = cursor.next();
      auto id = internal::record_id(body);
      event lazy;
      auto lazy_ok = decodes_lazily(body, seq, lazy);
      event e;
      try {
        internal::decode_event(body, seq, e);
      } catch (const storage_error&) {
        fuzz::require(!lazy_ok, "a record refused decoded is refused lazily");
        throw;
      }
      fuzz::require(lazy_ok, "a record decoded is decoded lazily");
      fuzz::require(e.id == id, "record_id is the decoded id");
      for (auto& kv : e.payload.object())
        fuzz::require(same_field(kv.value(), lazy.payload.field(kv.key())),
                      "a field read from the record is the decoded field");
      std::string record;
      internal::encode_event(e, record);
      internal::record_cursor back{record.data(), record.size()};
      event f;
      internal::decode_event(back.next(), seq, f);
      fuzz::require(back.at_end(), "one record");
      std::string again;
      internal::encode_event(f, again);
      fuzz::require(again == record, "a decoded record re-encodes to itself");
      // A lazy payload is written back as it came (not in canonical form:
      // a duplicate key or an overlong varint stays), so what is compared
      // is the event it decodes to.
      std::string from_lazy;
      internal::encode_event(lazy, from_lazy);
      internal::record_cursor lazy_back{from_lazy.data(), from_lazy.size()};
      event g;
      internal::decode_event(lazy_back.next(), seq, g);
      fuzz::require(lazy_back.at_end(), "one lazy record");
      std::string canonical;
      internal::encode_event(g, canonical);
      fuzz::require(canonical == record, "a lazy record decodes as the eager one");
    }
  } catch (const storage_error&) {
    // nop: corrupt, as it should be reported
  }
  return 0;
}
