#include "bus/admin/routes.hpp"

#include <charconv>

namespace bus::admin {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

answer bad(std::string message) {
  return error_answer(error_code::bad_request, message);
}

// A positive integer of at most `max`, digits only.
std::optional<std::uint64_t> parse_positive(std::string_view text, std::uint64_t max) {
  std::uint64_t x = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc{} || end != text.data() + text.size() || x == 0 || x > max)
    return std::nullopt;
  return x;
}

// Splits "/a/b/c" into its segments, decoded; nothing on a bad escape.
std::optional<std::vector<std::string>> segments_of(std::string_view path) {
  std::vector<std::string> result;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    auto decoded = percent_decode(path.substr(start, end - start));
    if (!decoded)
      return std::nullopt;
    result.push_back(std::move(*decoded));
    start = end + 1;
  }
  return result;
}

answer wrong_method(std::string_view method, std::string_view path, std::string allow) {
  return error_answer(error_code::method_not_allowed,
                      std::string{method} + " is not allowed on " + std::string{path}
                        + "; use " + allow,
                      allow);
}

// Checks that `params` holds nothing but `allowed` names.
std::optional<answer> only(const query_params& params,
                           std::initializer_list<std::string_view> allowed) {
  for (auto& [name, value] : params) {
    bool known = false;
    for (auto a : allowed)
      known = known || name == a;
    if (!known) {
      std::string list;
      for (auto a : allowed)
        list += (list.empty() ? "" : ", ") + std::string{a};
      return bad("unknown parameter '" + name + "'"
                 + (list.empty() ? " (this path takes none)"
                                 : " (this path takes " + list + ")"));
    }
  }
  return std::nullopt;
}

const std::string* param(const query_params& params, std::string_view name) {
  for (auto& [k, v] : params)
    if (k == name)
      return &v;
  return nullptr;
}

// Routes /models/{name}/...; `segments` starts with "models".
std::variant<route, answer> route_model(std::string_view method, std::string_view path,
                                        const std::vector<std::string>& segments,
                                        const query_params& params) {
  auto not_found = [&] {
    return error_answer(error_code::not_found, "no such path: " + std::string{path});
  };
  if (segments.size() < 3 || segments[1].empty())
    return not_found();
  route r;
  r.model = segments[1];
  auto& action = segments[2];
  if (segments.size() == 3) {
    if (action == "parked") {
      if (method != "GET")
        return wrong_method(method, path, "GET");
      if (auto err = only(params, {}))
        return *err;
      r.kind = route_kind::parked;
      return r;
    }
    static constexpr std::pair<std::string_view, lifecycle_kind> actions[] = {
      {"pause", lifecycle_kind::pause},
      {"resume", lifecycle_kind::resume},
      {"rebuild", lifecycle_kind::rebuild},
      {"restart", lifecycle_kind::restart},
    };
    for (auto& [name, kind] : actions) {
      if (action != name)
        continue;
      if (method != "POST")
        return wrong_method(method, path, "POST");
      if (auto err = only(params, {}))
        return *err;
      r.kind = route_kind::lifecycle;
      r.lifecycle = kind;
      return r;
    }
    return not_found();
  }
  if (segments.size() == 4 && action == "parked"
      && (segments[3] == "retry" || segments[3] == "discard")) {
    if (method != "POST")
      return wrong_method(method, path, "POST");
    if (auto err = only(params, {"seq"}))
      return *err;
    r.kind = segments[3] == "retry" ? route_kind::retry_parked
                                    : route_kind::discard_parked;
    if (auto* seq = param(params, "seq")) {
      auto x = parse_positive(*seq, UINT64_MAX);
      if (!x)
        return bad("seq must be a positive integer, not '" + *seq + "'");
      r.seq = *x;
    }
    return r;
  }
  return not_found();
}

} // namespace

const char* to_string(lifecycle_kind x) noexcept {
  switch (x) {
    case lifecycle_kind::pause:
      return "pause";
    case lifecycle_kind::resume:
      return "resume";
    case lifecycle_kind::rebuild:
      return "rebuild";
    case lifecycle_kind::restart:
      return "restart";
  }
  return "pause";
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt; // fewer than two hex digits follow
      auto hi = hex_value(text[i + 1]);
      auto lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      result += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      result += ' ';
    } else {
      result += c;
    }
  }
  return result;
}

std::variant<query_params, answer> parse_query(std::string_view query) {
  query_params result;
  std::size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos)
      end = query.size();
    auto part = query.substr(start, end - start);
    start = end + 1;
    if (part.empty())
      continue; // "a=1&&b=2"
    auto eq = part.find('=');
    auto name = percent_decode(part.substr(0, eq), true);
    auto value = percent_decode(
      eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
    if (!name || !value)
      return bad("malformed %-escape in the query string: '" + std::string{part} + "'");
    if (name->empty())
      return bad("a query parameter without a name: '" + std::string{part} + "'");
    if (param(result, *name) != nullptr)
      return bad("parameter '" + *name + "' given twice");
    result.emplace_back(std::move(*name), std::move(*value));
  }
  return result;
}

std::variant<route, answer> route_request(std::string_view method,
                                          std::string_view target) {
  auto question = target.find('?');
  auto path = target.substr(0, question);
  auto query = question == std::string_view::npos ? std::string_view{}
                                                  : target.substr(question + 1);
  if (path.empty() || path.front() != '/')
    return bad("the request target must be a path starting with '/'");
  auto parsed = parse_query(query);
  if (auto* err = std::get_if<answer>(&parsed))
    return std::move(*err);
  auto& params = std::get<query_params>(parsed);
  auto segments = segments_of(path);
  if (!segments)
    return bad("malformed %-escape in the path " + std::string{path});
  auto& seg = *segments;
  auto get_only = [&](route_kind kind) -> std::variant<route, answer> {
    if (method != "GET")
      return wrong_method(method, path, "GET");
    route r;
    r.kind = kind;
    return r;
  };
  if (seg.size() == 1) {
    if (seg[0] == "status" || seg[0] == "health" || seg[0] == "metrics") {
      auto kind = seg[0] == "status"   ? route_kind::status
                  : seg[0] == "health" ? route_kind::health
                                       : route_kind::metrics;
      if (auto err = only(params, {}); err && method == "GET")
        return *err;
      return get_only(kind);
    }
    if (seg[0] == "events") {
      auto result = get_only(route_kind::events);
      if (auto* r = std::get_if<route>(&result)) {
        if (auto err = only(params, {"from", "limit"}))
          return *err;
        if (auto* from = param(params, "from")) {
          auto x = parse_positive(*from, UINT64_MAX);
          if (!x)
            return bad("from must be a positive integer (a seq), not '" + *from + "'");
          r->from = *x;
        }
        if (auto* limit = param(params, "limit")) {
          auto x = parse_positive(*limit, max_events_limit);
          if (!x)
            return bad("limit must be an integer from 1 to "
                       + std::to_string(max_events_limit) + ", not '" + *limit + "'");
          r->limit = static_cast<std::uint32_t>(*x);
        }
      }
      return result;
    }
  }
  if (!seg.empty() && seg[0] == "models")
    return route_model(method, path, seg, params);
  // Anything else is an embedded file, or nothing.
  auto file_path = path == "/" ? std::optional<std::string>{"index.html"}
                               : percent_decode(path.substr(1));
  if (auto* file = file_path ? find_embedded(*file_path) : nullptr) {
    if (method != "GET")
      return wrong_method(method, path, "GET");
    route r;
    r.kind = route_kind::file;
    r.file = file;
    return r;
  }
  return error_answer(error_code::not_found, "no such path: " + std::string{path});
}

} // namespace bus::admin
