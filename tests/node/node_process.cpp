#include "node_process.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace bus::node::test {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error{errno, std::generic_category(), what};
}

// Owns one file descriptor; -1 when closed.
class file_descriptor {
public:
  file_descriptor() = default;
  explicit file_descriptor(int fd) : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() { reset(); }

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }

  void reset(int fd = -1) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

struct pipe_ends {
  file_descriptor read;
  file_descriptor write;
};

void make_pipe(pipe_ends& ends) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw_errno("pipe2");
  ends.read.reset(fds[0]);
  ends.write.reset(fds[1]);
}

void set_nonblocking(int fd) {
  auto flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw_errno("fcntl");
}

// A descriptor that becomes readable when `pid` exits, or -1 where the
// kernel has no pidfd_open (then the exit is awaited after both outputs
// reach end of file).
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void) pid;
  return -1;
#endif
}

// Reads what is available on `fd` into `sink`; closes `fd` at end of file.
void drain(file_descriptor& fd, std::string& sink) {
  char buffer[65536];
  auto n = ::read(fd.get(), buffer, sizeof(buffer));
  if (n > 0)
    sink.append(buffer, static_cast<std::size_t>(n));
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    fd.reset();
}

void record_status(process_result& result, int status) {
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.term_signal = WTERMSIG(status);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw_errno("waitpid");
  return status;
}

} // namespace

std::vector<std::string> process_result::out_lines() const {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < out.size()) {
    auto end = out.find('\n', begin);
    if (end == std::string::npos)
      end = out.size();
    lines.emplace_back(out, begin, end - begin);
    begin = end + 1;
  }
  return lines;
}

std::chrono::milliseconds scaled(std::chrono::milliseconds limit) {
  static const long factor = [] {
    const char* text = std::getenv("BUS_TEST_TIME_SCALE");
    long n = text ? std::strtol(text, nullptr, 10) : 1;
    return n >= 1 && n <= 100 ? n : 1L;
  }();
  return limit * factor;
}

process_result run_process(const std::string& path,
                           const std::vector<std::string>& args, std::string_view input,
                           std::chrono::milliseconds limit,
                           std::size_t kill_after_lines) {
  limit = scaled(limit);
  // Once per test process: writing to a pipe whose reader is gone must fail
  // with EPIPE rather than kill the test.
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void) sigpipe_ignored;
  auto deadline = std::chrono::steady_clock::now() + limit;
  pipe_ends in, out, err;
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  // Built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> argv_text{path};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto pid = ::fork();
  if (pid < 0)
    throw_errno("fork");
  if (pid == 0) {
    // The ignored SIGPIPE would survive exec.
    std::signal(SIGPIPE, SIG_DFL);
    if (::dup2(in.read.get(), 0) < 0 || ::dup2(out.write.get(), 1) < 0
        || ::dup2(err.write.get(), 2) < 0)
      ::_exit(126);
    ::execv(argv[0], argv.data()); // the pipes' originals close on exec
    ::_exit(127);
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();
  set_nonblocking(in.write.get());
  set_nonblocking(out.read.get());
  set_nonblocking(err.read.get());
  file_descriptor exit_fd{open_pidfd(pid)};
  process_result result;
  bool exited = false;
  std::size_t written = 0;
  if (input.empty())
    in.write.reset();
  while (out.read.is_open() || err.read.is_open() || (exit_fd.is_open() && !exited)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      record_status(result, wait_for(pid));
      result.timed_out = true;
      return result;
    }
    pollfd fds[4];
    nfds_t count = 0;
    auto watch = [&](const file_descriptor& fd, short events) -> pollfd* {
      if (!fd.is_open())
        return nullptr;
      fds[count] = pollfd{fd.get(), events, 0};
      return &fds[count++];
    };
    auto* stdin_poll = watch(in.write, POLLOUT);
    auto* stdout_poll = watch(out.read, POLLIN);
    auto* stderr_poll = watch(err.read, POLLIN);
    auto* exit_poll = exited ? nullptr : watch(exit_fd, POLLIN);
    if (::poll(fds, count, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR)
        continue;
      throw_errno("poll");
    }
    if (stdin_poll && stdin_poll->revents != 0) {
      auto chunk = std::min<std::size_t>(input.size() - written, 65536);
      auto n = ::write(in.write.get(), input.data() + written, chunk);
      if (n > 0)
        written += static_cast<std::size_t>(n);
      else if (errno != EAGAIN && errno != EINTR)
        written = input.size(); // EPIPE: the child stopped reading
      if (written == input.size())
        in.write.reset(); // end of input for the child
    }
    if (stdout_poll && stdout_poll->revents != 0) {
      drain(out.read, result.out);
      if (kill_after_lines > 0 && !result.killed
          && static_cast<std::size_t>(
               std::count(result.out.begin(), result.out.end(), '\n'))
               >= kill_after_lines) {
        ::kill(pid, SIGKILL);
        result.killed = true;
      }
    }
    if (stderr_poll && stderr_poll->revents != 0)
      drain(err.read, result.err);
    if (exit_poll && exit_poll->revents != 0) {
      record_status(result, wait_for(pid));
      exited = true;
    }
  }
  if (!exited)
    record_status(result, wait_for(pid));
  return result;
}

process_result run_node(std::string_view input, const std::vector<std::string>& args,
                        std::chrono::milliseconds limit) {
  auto result = run_process(BUS_NODE_PATH, args, input, limit);
  BOOST_REQUIRE_MESSAGE(!result.timed_out,
                        "bus-node did not finish within "
                          << scaled(limit).count()
                          << " ms and was killed; stderr: " << result.err);
  return result;
}

} // namespace bus::node::test
