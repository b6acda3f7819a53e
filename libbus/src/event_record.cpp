#include "internal/event_record.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "bus/event_log.hpp"
#include "bus/string_keys.hpp"
#include "internal/record_reader.hpp"
#include "internal/record_tags.hpp"

namespace bus::internal {

namespace {

// -- encoding -----------------------------------------------------------------

std::uint64_t zigzag(std::int64_t x) {
  return (static_cast<std::uint64_t>(x) << 1) ^ static_cast<std::uint64_t>(x >> 63);
}

// Writes through a raw pointer into `out`, grown ahead a few hundred bytes
// at a time and cut to what was written at the end: an append per field
// (checking capacity and terminating the string each time) made encoding
// twice as slow. (The string's capacity still grows geometrically.)
class writer {
public:
  explicit writer(std::string& out) : out_(out), pos_(out.size()) {
    // nop
  }

  ~writer() { out_.resize(pos_); }

  std::size_t size() const noexcept { return pos_; }

  void byte(unsigned char b) {
    room(1);
    out_[pos_++] = static_cast<char>(b);
  }

  void varint(std::uint64_t x) {
    room(max_varint_size);
    pos_ += write_varint(&out_[pos_], x);
  }

  void str(std::string_view s) {
    varint(s.size());
    room(s.size());
    if (!s.empty())
      std::memcpy(&out_[pos_], s.data(), s.size());
    pos_ += s.size();
  }

  void bytes(const unsigned char* data, std::size_t n) {
    room(n);
    std::memcpy(&out_[pos_], data, n);
    pos_ += n;
  }

  /// Stores the length of the body written since `start` (where one byte
  /// was left for it), shifting the body if the length takes more.
  void close_body(std::size_t start) {
    auto body = pos_ - start - 1;
    if (body < 0x80) {
      out_[start] = static_cast<char>(body);
      return;
    }
    char prefix[max_varint_size];
    auto n = write_varint(prefix, body);
    room(n - 1);
    std::memmove(&out_[start + n], &out_[start + 1], body);
    std::memcpy(&out_[start], prefix, n);
    pos_ += n - 1;
  }

private:
  void room(std::size_t n) {
    if (out_.size() - pos_ >= n)
      return;
    out_.resize(pos_ + std::max<std::size_t>(n, 256));
  }

  std::string& out_;
  std::size_t pos_;
};

void put_value(writer& out, const boost::json::value& v);

void put_object(writer& out, const boost::json::object& obj) {
  out.varint(obj.size());
  for (auto& kv : obj) {
    out.str(kv.key());
    put_value(out, kv.value());
  }
}

void put_value(writer& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out.byte(tag_null);
      break;
    case boost::json::kind::bool_:
      out.byte(v.get_bool() ? tag_true : tag_false);
      break;
    case boost::json::kind::int64:
      out.byte(tag_int64);
      out.varint(zigzag(v.get_int64()));
      break;
    case boost::json::kind::uint64:
      out.byte(tag_uint64);
      out.varint(v.get_uint64());
      break;
    case boost::json::kind::double_: {
      out.byte(tag_double);
      std::uint64_t bits;
      auto d = v.get_double();
      std::memcpy(&bits, &d, sizeof(bits));
      unsigned char le[8];
      for (int i = 0; i < 8; ++i)
        le[i] = static_cast<unsigned char>(bits >> (8 * i));
      out.bytes(le, 8);
      break;
    }
    case boost::json::kind::string:
      out.byte(tag_string);
      out.str(v.get_string());
      break;
    case boost::json::kind::array:
      out.byte(tag_array);
      out.varint(v.get_array().size());
      for (auto& x : v.get_array())
        put_value(out, x);
      break;
    case boost::json::kind::object:
      out.byte(tag_object);
      put_object(out, v.get_object());
      break;
  }
}

} // namespace

void put_varint(std::string& out, std::uint64_t x) {
  char buf[max_varint_size];
  out.append(buf, write_varint(buf, x));
}

std::uint64_t take_varint(std::string_view& in) {
  record_reader r{in};
  auto x = r.varint();
  in.remove_prefix(static_cast<std::size_t>(
    r.pos - reinterpret_cast<const unsigned char*>(in.data())));
  return x;
}

void encode_event(const event& e, std::string& out) {
  // The body is built after a one-byte placeholder for its length, which
  // fits bodies under 128 bytes; a longer body is shifted to make room.
  writer w{out};
  auto start = w.size();
  w.byte(0);
  w.str(e.id);
  w.str(e.type);
  w.varint(zigzag(e.timestamp));
  w.varint(e.schema_version);
  w.byte(e.id_derived ? 1 : 0);
  // A payload still as read from a record goes back as it came.
  if (auto raw = e.payload.encoded_bytes(); !raw.empty())
    w.bytes(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  else
    put_object(w, e.payload.object());
  put_object(w, e.metadata);
  w.close_body(start);
}

void encode_object(const boost::json::object& obj, std::string& out) {
  writer w{out};
  put_object(w, obj);
}

std::string_view record_cursor::next() {
  record_reader r{std::string_view{reinterpret_cast<const char*>(pos_),
                                   static_cast<std::size_t>(end_ - pos_)}};
  auto body = r.str();
  pos_ = r.pos;
  return body;
}

std::string_view record_id(std::string_view body) {
  record_reader r{body};
  return r.str();
}

std::size_t check_object(std::string_view bytes) {
  record_reader r{bytes};
  r.skip_object(0);
  return static_cast<std::size_t>(
    r.pos - reinterpret_cast<const unsigned char*>(bytes.data()));
}

bool finite_object(std::string_view bytes) {
  auto finite = [](double x) { return std::isfinite(x); };
  auto any = [](std::string_view) { return true; };
  record_reader r{bytes};
  for (auto n = r.count(); n > 0; --n) {
    r.str();
    if (!r.skip_value_checking(1, finite, any))
      return false;
  }
  return true;
}

void decode_object(std::string_view bytes, boost::json::object& out) {
  record_reader r{bytes};
  r.object(out, 0);
}

std::size_t object_size(std::string_view bytes) {
  record_reader r{bytes};
  return static_cast<std::size_t>(r.varint());
}

payload_field find_field(std::string_view bytes, std::string_view key) {
  record_reader r{bytes};
  for (auto n = r.count(); n > 0; --n) {
    // Keys are short: compared in place, where a call to memcmp per field
    // cost more than the walk.
    if (string_equal{}(r.str(), key))
      return r.field();
    r.skip_member(0);
  }
  return {};
}

field_walker::field_walker(std::string_view bytes) {
  record_reader r{bytes};
  left_ = r.count();
  pos_ = reinterpret_cast<const char*>(r.pos);
  end_ = reinterpret_cast<const char*>(r.end);
}

bool field_walker::next(std::string_view& key, payload_field& value) {
  if (left_ == 0)
    return false;
  record_reader r{std::string_view{pos_, static_cast<std::size_t>(end_ - pos_)}};
  key = r.str();
  auto at = r.pos;
  value = r.field();
  if (value.kind() == field_kind::array || value.kind() == field_kind::object) {
    r.pos = at;
    r.skip_member(0);
  }
  pos_ = reinterpret_cast<const char*>(r.pos);
  --left_;
  return true;
}

bool field_walker::next_raw(std::string_view& key, std::string_view& value) {
  if (left_ == 0)
    return false;
  record_reader r{std::string_view{pos_, static_cast<std::size_t>(end_ - pos_)}};
  key = r.str();
  auto at = r.pos;
  r.skip_member(0);
  value = std::string_view{reinterpret_cast<const char*>(at),
                           static_cast<std::size_t>(r.pos - at)};
  pos_ = reinterpret_cast<const char*>(r.pos);
  --left_;
  return true;
}

namespace {

enum class payload_form { decoded, encoded };

// One record into `e`, its payload decoded or left in `body` (checked).
void decode_record(std::string_view body, std::uint64_t seq, event& e,
                   payload_form form) {
  try {
    record_reader r{body};
    e.seq = seq;
    e.id = r.str();
    e.type = r.str();
    e.timestamp = r.zigzag();
    e.schema_version = static_cast<std::uint32_t>(r.varint());
    e.id_derived = (r.byte() & 1) != 0;
    if (form == payload_form::decoded) {
      r.object(e.payload.mutate(), 0);
    } else {
      auto rest = std::string_view{reinterpret_cast<const char*>(r.pos),
                                   static_cast<std::size_t>(r.end - r.pos)};
      auto n = check_object(rest);
      e.payload.assign_encoded(rest.substr(0, n));
      r.pos += n;
    }
    r.object(e.metadata, 0);
    if (r.pos != r.end)
      corrupt_record();
  } catch (const storage_error&) {
    throw storage_error("event seq " + std::to_string(seq) + " has a corrupt record");
  }
}

} // namespace

void decode_event_lazy(std::string_view body, std::uint64_t seq, event& e) {
  decode_record(body, seq, e, payload_form::encoded);
}

void decode_event(std::string_view body, std::uint64_t seq, event& e) {
  decode_record(body, seq, e, payload_form::decoded);
}

lazy_records::lazy_records(std::size_t n) : bytes_(std::make_shared<std::string>()) {
  bytes_->reserve(n * 96);
  seqs_.reserve(n);
  ends_.reserve(n);
}

void lazy_records::add(std::string_view body, std::uint64_t seq) {
  bytes_->append(body);
  seqs_.push_back(seq);
  ends_.push_back(bytes_->size());
}

shared_events lazy_records::finish() {
  // The buffer no longer grows: the events may view it now.
  std::vector<event> events(seqs_.size());
  std::string_view all{*bytes_};
  std::size_t begin = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    decode_event_lazy(all.substr(begin, ends_[i] - begin), seqs_[i], events[i]);
    begin = ends_[i];
  }
  return share_events(std::move(events),
                      std::shared_ptr<const void>{std::move(bytes_)});
}

} // namespace bus::internal
