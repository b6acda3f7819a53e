#include "kernel_threads.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace bench {

namespace {

struct candidate {
  std::string pid;
  std::string name;
  unsigned long long ticks = 0;
};

// Parses /proc/PID/stat: "pid (comm) state ppid ... utime stime ..." (the
// comm may hold spaces and parentheses, so fields count from the last ')').
bool read_stat(const std::string& pid, candidate& out, long& ppid) {
  std::ifstream in{"/proc/" + pid + "/stat"};
  std::string line;
  if (!std::getline(in, line))
    return false;
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return false;
  out.pid = pid;
  out.name = line.substr(open + 1, close - open - 1);
  std::istringstream rest{line.substr(close + 2)};
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field)
    fields.push_back(field);
  // After the comm: state(0) ppid(1) ... utime(11) stime(12).
  if (fields.size() < 13)
    return false;
  ppid = std::strtol(fields[1].c_str(), nullptr, 10);
  out.ticks = std::strtoull(fields[11].c_str(), nullptr, 10)
              + std::strtoull(fields[12].c_str(), nullptr, 10);
  return true;
}

} // namespace

unsigned long long read_first_number(const char* path) {
  auto fd = ::open(path, O_RDONLY);
  if (fd < 0)
    return 0;
  char text[64];
  auto n = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (n <= 0)
    return 0;
  text[n] = '\0';
  return std::strtoull(text, nullptr, 10);
}

kernel_thread_watch::kernel_thread_watch(std::size_t n) {
  std::vector<candidate> found;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{"/proc", ec}) {
    auto pid = entry.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit))
      continue;
    candidate c;
    long ppid = -1;
    // Kernel threads are kthreadd's (pid 2) children.
    if (read_stat(pid, c, ppid) && ppid == 2)
      found.push_back(std::move(c));
  }
  // DAMON's samplers first, whatever they ran so far (one restarted has
  // a fresh count), then the busiest since boot.
  auto is_damon = [](const candidate& c) { return c.name.rfind("kdamond", 0) == 0; };
  std::sort(found.begin(), found.end(), [&](const candidate& x, const candidate& y) {
    if (is_damon(x) != is_damon(y))
      return is_damon(x);
    return x.ticks > y.ticks;
  });
  auto damon = static_cast<std::size_t>(
    std::count_if(found.begin(), found.end(), is_damon));
  found.resize(std::min(n + damon, found.size()));
  for (auto& c : found) {
    watched w;
    w.name = c.name;
    w.schedstat_path = "/proc/" + c.pid + "/schedstat";
    w.ran_ns = w.first_ns = read_first_number(w.schedstat_path.c_str());
    threads_.push_back(std::move(w));
  }
}

double kernel_thread_watch::poll() {
  unsigned long long sum = 0;
  for (auto& w : threads_) {
    auto now = read_first_number(w.schedstat_path.c_str());
    if (now > w.ran_ns) {
      sum += now - w.ran_ns;
      w.ran_ns = now;
    }
  }
  return static_cast<double>(sum) / 1e3;
}

std::vector<kernel_thread_watch::usage> kernel_thread_watch::usages() const {
  std::vector<usage> result;
  for (auto& w : threads_)
    result.push_back({w.name, static_cast<double>(w.ran_ns - w.first_ns) / 1e3});
  return result;
}

} // namespace bench
