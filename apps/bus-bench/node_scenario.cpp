#include "node_scenario.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/config.hpp"
#include "request_reader.hpp"

extern char** environ;

namespace bench {

namespace {

struct child_result {
  int exit_code = -1;
  /// Why the child did not exit normally ("" when it did).
  std::string abnormal;
  double seconds = 0;
  /// User plus system time of the child: steadier than wall time on a
  /// shared machine.
  double cpu_seconds = 0;
  std::size_t max_rss_bytes = 0;
};

// Returns the high-water mark of the resident set (VmHWM) in a
// /proc/PID/status file, or 0.
std::size_t peak_rss_of(const std::string& status_file) {
  std::ifstream in{status_file};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;
  return 0;
}

// Runs `argv` with stdin, stdout and stderr on the given files and waits
// for it.
child_result run_child(const std::vector<std::string>& argv, const std::string& in,
                       const std::string& out, const std::string& err) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  child_result result;
  pid_t pid;
  auto t0 = clock_type::now();
  auto spawned = posix_spawn(&pid, args[0], &files, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (spawned != 0) {
    result.abnormal = "cannot start " + argv[0] + ": " + std::strerror(spawned);
    return result;
  }
  // The peak RSS comes from /proc, sampled while the child runs: wait4's
  // ru_maxrss would report this process's size, inherited across exec.
  int status = 0;
  rusage usage{};
  auto status_file = "/proc/" + std::to_string(pid) + "/status";
  while (true) {
    auto done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid || (done < 0 && errno != EINTR))
      break;
    result.max_rss_bytes = std::max(result.max_rss_bytes, peak_rss_of(status_file));
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  result.seconds = seconds_since(t0);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  result.cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.abnormal = "killed by signal " + std::to_string(WTERMSIG(status));
  else
    result.abnormal = "lost (wait4 failed)";
  return result;
}

std::string first_line_of(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

// The node's work in one thread: parse each line with the node's parser,
// drop a redelivered id, apply the event to the default configuration's
// read models and render the node's reply, written to /dev/null.
struct loop_result {
  double rate = 0;
  double cpu_seconds = 0;
};

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

loop_result plain_loop(const std::string& input, std::size_t events) {
  auto config = bus::parse_config(bus::default_config_text());
  std::vector<bus::read_model_ptr> models;
  std::vector<std::string> quoted;
  for (auto& spec : config->read_models) {
    models.push_back(spec.make());
    bus::node::render_string(quoted.emplace_back(), spec.name);
  }
  std::unordered_set<std::string> ids; // as the log dedups
  ids.reserve(events);
  int in_fd = ::open(input.c_str(), O_RDONLY);
  int out_fd = ::open("/dev/null", O_WRONLY);
  bus::node::request_reader reader{in_fd, config->node.max_line_bytes};
  std::string out;
  std::string updated;
  std::uint64_t seq = 0;
  auto t0 = clock_type::now();
  auto cpu0 = thread_cpu_seconds();
  for (bool more = true; more;) {
    auto chunk = reader.read_chunk(more);
    for (auto& req : *chunk) {
      if (req.kind != bus::node::request_kind::event) {
        bus::node::render_error(out, req, req.code, req.text);
        continue;
      }
      if (!ids.insert(req.ev.id).second) {
        bus::node::render_event_reply(out, req, req.ev.id, true, {});
        continue;
      }
      req.ev.seq = ++seq;
      updated.clear();
      for (std::size_t m = 0; m < models.size(); ++m) {
        if (models[m]->handles(req.ev.type) && models[m]->apply(req.ev)) {
          if (!updated.empty())
            updated += ", ";
          updated += quoted[m];
        }
      }
      bus::node::render_event_reply(out, req, req.ev.id, false, updated);
    }
    if (::write(out_fd, out.data(), out.size()) < 0) {
      // nop: /dev/null takes everything
    }
    out.clear();
  }
  loop_result result{per_second(events, seconds_since(t0)),
                     thread_cpu_seconds() - cpu0};
  ::close(in_fd);
  ::close(out_fd);
  return result;
}

// One bus-node configuration, run opt.runs times.
struct node_runs {
  std::vector<double> rates;
  std::vector<double> cpu_seconds;
  std::vector<double> rss;
  std::string failure;

  // Adds the run `r` of a child that logged to `log`, or its failure.
  void add(const child_result& r, std::size_t events, const std::string& log) {
    if (!r.abnormal.empty()) {
      failure = r.abnormal;
      return;
    }
    if (r.exit_code != 0) {
      failure = "exit " + std::to_string(r.exit_code) + ": " + first_line_of(log);
      return;
    }
    rates.push_back(per_second(events, r.seconds));
    cpu_seconds.push_back(r.cpu_seconds);
    rss.push_back(static_cast<double>(r.max_rss_bytes));
  }
};

void remove_store(const std::filesystem::path& path) {
  for (auto suffix :
       {"", "-wal", "-shm", ".snapshots", ".snapshots-wal", ".snapshots-shm", ".models",
        ".models-wal", ".models-shm", ".lifecycle", ".lifecycle-wal", ".lifecycle-shm"})
    std::filesystem::remove(path.string() + suffix);
}

// Runs the Python reference node once on `input` into `runs`.
void run_reference(const std::string& script, const std::string& input,
                   const std::string& log, std::size_t events, node_runs& runs) {
  if (!runs.failure.empty())
    return; // failed once: its other runs would too
  if (::access(script.c_str(), X_OK) != 0) {
    runs.failure = script + " is not an executable (--reference-node)";
    return;
  }
  runs.add(run_child({script}, input, "/dev/null", log), events, log);
}

// The memory node beside the Python reference node of the same runs: the
// row's "loop" is the reference, so its ratio is how many times faster
// bus-node is (issue 11 asks for 12x).
void report_reference(const options& opt, const node_runs& memory,
                      const node_runs& reference, report& out) {
  static constexpr auto id = "node_reference";
  if (opt.reference_node.empty())
    return;
  if (memory.rates.empty()) {
    out.skipped(id, "bus-node failed: " + memory.failure);
    return;
  }
  if (reference.rates.empty()) {
    out.skipped(id, "the Python reference node did not run: " + reference.failure);
    return;
  }
  std::ostringstream note;
  note.precision(3);
  note << "reference: cpu " << median(reference.cpu_seconds) << " s, max RSS "
       << static_cast<long>(median(reference.rss) / (1 << 20)) << " MB";
  out.rate(id, "bus-node over the Python reference node", median(memory.rates),
           median(reference.rates),
           "the Python reference node: json.loads, dicts, a set; same input",
           {{"reference_cpu_seconds", median(reference.cpu_seconds)},
            {"reference_max_rss_bytes", median(reference.rss)}},
           note.str());
}

} // namespace

void node_end_to_end(const options& opt, report& out) {
  for (auto* binary : {&opt.node_binary, &opt.gen_binary}) {
    if (::access(binary->c_str(), X_OK) != 0) {
      out.skipped("node", *binary + " is not an executable (--node, --gen)");
      return;
    }
  }
  auto dir = opt.store_dir;
  auto input = (dir / "bus-bench-node.jsonl").string();
  auto log = (dir / "bus-bench-node.log").string();
  auto users = std::max<std::size_t>(1, opt.events / 10);
  auto gen = run_child({opt.gen_binary, "--events", std::to_string(opt.events),
                        "--users", std::to_string(users), "--redeliveries", "10"},
                       "/dev/null", input, log);
  if (gen.exit_code != 0) {
    out.skipped("node", "bus-gen failed: "
                          + (gen.abnormal.empty() ? first_line_of(log) : gen.abnormal));
    return;
  }
  node_runs memory, store, reference;
  std::vector<double> loop_rates;
  std::vector<double> loop_cpu;
  for (std::size_t run = 0; run < opt.runs; ++run) {
    auto db = dir / ("bus-bench-node-" + std::to_string(run) + ".db");
    remove_store(db);
    struct variant {
      node_runs* runs;
      std::vector<std::string> argv;
    };
    for (auto& [runs, argv] :
         {variant{&memory, {opt.node_binary}},
          variant{&store, {opt.node_binary, "--store", db.string()}}})
      runs->add(run_child(argv, input, "/dev/null", log), opt.events, log);
    remove_store(db);
    if (!opt.reference_node.empty())
      run_reference(opt.reference_node, input, log, opt.events, reference);
    auto loop = plain_loop(input, opt.events);
    loop_rates.push_back(loop.rate);
    loop_cpu.push_back(loop.cpu_seconds);
  }
  std::filesystem::remove(input);
  std::filesystem::remove(log);
  auto loop = median(loop_rates);
  auto users_text = std::to_string(users / 1000) + " k users";
  for (auto& [id, name, runs] :
       {std::tuple{"node_memory", "bus-node end to end (memory log)", &memory},
        std::tuple{"node_store", "bus-node --store end to end (defaults)", &store}}) {
    if (runs->rates.empty()) {
      out.skipped(id, "bus-node failed: " + runs->failure);
      continue;
    }
    auto rss = median(runs->rss);
    std::ostringstream note;
    note.precision(3);
    note << "cpu " << median(runs->cpu_seconds) << " s (loop " << median(loop_cpu)
         << " s), max RSS " << static_cast<long>(rss / (1 << 20)) << " MB ("
         << static_cast<long>(rss / static_cast<double>(opt.events)) << " B/event), "
         << users_text << ", 10 % redeliveries";
    out.rate(id, name, median(runs->rates), loop,
             "parse + dedup + 2 models + replies, 1 thread",
             {{"cpu_seconds", median(runs->cpu_seconds)},
              {"loop_cpu_seconds", median(loop_cpu)},
              {"max_rss_bytes", rss},
              {"rss_bytes_per_event", rss / static_cast<double>(opt.events)},
              {"users", users}},
             note.str());
  }
  report_reference(opt, memory, reference, out);
}

} // namespace bench
