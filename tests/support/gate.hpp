#pragma once

// A gate for tests on real threads: model code that reaches it waits until
// the test opens it (at most 30 s, so that a broken build fails rather
// than hangs), and the test can see how many wait.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace bus::test {

struct gate {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;
  /// How many reached it (and wait, until it opens).
  std::atomic<int> waiting{0};

  void wait() {
    ++waiting;
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, std::chrono::seconds{30}, [this] { return open; });
  }

  void release() {
    {
      std::lock_guard<std::mutex> lock{mtx};
      open = true;
    }
    cv.notify_all();
  }
};

} // namespace bus::test
