#include "internal/write_turns.hpp"

#include <filesystem>
#include <iterator>
#include <map>
#include <system_error>

namespace bus::internal {

std::shared_ptr<std::mutex> write_turn_for(const std::string& path) {
  // Keyed by the file, not by its spelling; weak, so that the entry of a
  // file no connection has open any more makes room for a new mutex.
  static std::mutex guard;
  static std::map<std::string, std::weak_ptr<std::mutex>> turns;
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  auto key = ec ? path : canonical.string();
  std::lock_guard<std::mutex> lock{guard};
  for (auto i = turns.begin(); i != turns.end();)
    i = i->second.expired() ? turns.erase(i) : std::next(i);
  auto& entry = turns[key];
  auto turn = entry.lock();
  if (!turn) {
    turn = std::make_shared<std::mutex>();
    entry = turn;
  }
  return turn;
}

} // namespace bus::internal
