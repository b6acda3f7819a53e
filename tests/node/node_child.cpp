#include "node_child.hpp"
#include "node_process.hpp"

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace bus::node::test {

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error{errno, std::generic_category(), what};
}

int millis_left(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - clock_type::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

} // namespace

node_child::node_child(const std::string& path, const std::vector<std::string>& args,
                       bool talk) {
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void) sigpipe_ignored;
  char err_template[] = "/tmp/bus-child-err-XXXXXX";
  int err_fd = ::mkstemp(err_template);
  if (err_fd < 0)
    throw_errno("mkstemp");
  err_path_ = err_template;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (talk && (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0))
    throw_errno("pipe2");
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  std::vector<std::string> argv_text{path};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0)
    throw_errno("fork");
  if (pid_ == 0) {
    std::signal(SIGPIPE, SIG_DFL);
    if (::dup2(talk ? in[0] : null_fd, 0) < 0 || ::dup2(talk ? out[1] : null_fd, 1) < 0
        || ::dup2(err_fd, 2) < 0)
      ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(err_fd);
  ::close(null_fd);
  if (talk) {
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_fd_ = out[0];
    ::fcntl(out_fd_, F_SETFL, ::fcntl(out_fd_, F_GETFL) | O_NONBLOCK);
  }
}

node_child::~node_child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (in_ >= 0)
    ::close(in_);
  if (out_fd_ >= 0)
    ::close(out_fd_);
  ::unlink(err_path_.c_str());
}

bool node_child::pump(int timeout_ms) {
  pollfd fd{out_fd_, POLLIN, 0};
  if (::poll(&fd, 1, timeout_ms) <= 0)
    return true;
  char buffer[65536];
  auto n = ::read(out_fd_, buffer, sizeof(buffer));
  if (n > 0) {
    out_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  return n < 0 && (errno == EAGAIN || errno == EINTR);
}

void node_child::send(std::string_view text, std::chrono::milliseconds limit) {
  BOOST_REQUIRE_MESSAGE(in_ >= 0, "this child has no stdin");
  auto deadline = clock_type::now() + scaled(limit);
  ::fcntl(in_, F_SETFL, ::fcntl(in_, F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  while (written < text.size()) {
    BOOST_REQUIRE_MESSAGE(millis_left(deadline) > 0, "writing to the child timed out");
    pollfd fds[2] = {{in_, POLLOUT, 0}, {out_fd_, POLLIN, 0}};
    ::poll(fds, 2, std::min(100, millis_left(deadline)));
    if (fds[1].revents != 0)
      pump(0);
    if (fds[0].revents & (POLLERR | POLLHUP))
      BOOST_FAIL("the child closed its stdin: " + err());
    if (fds[0].revents & POLLOUT) {
      auto n = ::write(in_, text.data() + written, text.size() - written);
      if (n > 0)
        written += static_cast<std::size_t>(n);
    }
  }
}

std::string node_child::read_line(std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + scaled(limit);
  while (true) {
    auto end = out_.find('\n');
    if (end != std::string::npos) {
      auto line = out_.substr(0, end);
      out_.erase(0, end + 1);
      return line;
    }
    BOOST_REQUIRE_MESSAGE(millis_left(deadline) > 0,
                          "no reply line within the time limit; stderr: " << err());
    BOOST_REQUIRE_MESSAGE(pump(std::min(100, millis_left(deadline))),
                          "the child closed its stdout; stderr: " << err());
  }
}

std::string node_child::err() const {
  std::ifstream in{err_path_};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string node_child::wait_for_err(std::string_view text,
                                     std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + scaled(limit);
  while (true) {
    auto all = err();
    if (all.find(text) != std::string::npos)
      return all;
    BOOST_REQUIRE_MESSAGE(running(), "the child exited; stderr: " << all);
    BOOST_REQUIRE_MESSAGE(millis_left(deadline) > 0,
                          "stderr never said '" << text << "': " << all);
    if (out_fd_ >= 0)
      pump(20);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

int node_child::stop(int signal, std::chrono::milliseconds limit) {
  if (reaped_)
    return 0;
  ::kill(pid_, signal);
  auto deadline = clock_type::now() + scaled(limit);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (millis_left(deadline) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  reaped_ = true;
  return status;
}

bool node_child::running() {
  if (reaped_)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

int node_child::wait_exit(std::chrono::milliseconds limit) {
  auto deadline = clock_type::now() + scaled(limit);
  while (running()) {
    if (millis_left(deadline) == 0) {
      stop(SIGKILL);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

} // namespace bus::node::test
