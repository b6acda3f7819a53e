#include "internal/page_warmer.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace bus::internal {

namespace {

std::size_t page_bytes() {
  static const auto bytes = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

// Bytes of a transparent huge page on x86-64: smaller mappings would get
// none, so they are not advised.
constexpr std::size_t huge_page_bytes = 2u << 20;

} // namespace

std::shared_ptr<anonymous_mapping> anonymous_mapping::create(std::size_t bytes,
                                                             pages kind) {
  // A page with no access at each end: no other mapping is ever merged with
  // this one, so a mapping made while the warmer faults this one in does
  // not wait for the warmer's lock on it (seen: 4.5 ms for an mmap of the
  // record store's).
  auto guard = page_bytes();
  auto* raw = ::mmap(nullptr, bytes + 2 * guard, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
  if (raw == MAP_FAILED)
    throw std::bad_alloc{};
  auto* p = static_cast<char*>(raw) + guard;
  if (::mprotect(p, bytes, PROT_READ | PROT_WRITE) != 0) {
    ::munmap(raw, bytes + 2 * guard);
    throw std::bad_alloc{};
  }
  if (kind == pages::huge && bytes >= huge_page_bytes)
    ::madvise(p, bytes, MADV_HUGEPAGE);
  return std::shared_ptr<anonymous_mapping>{new anonymous_mapping{p, bytes}};
}

anonymous_mapping::~anonymous_mapping() {
  auto guard = page_bytes();
  auto* end = static_cast<char*>(base_) + bytes_ + guard;
  auto* from = static_cast<char*>(base_) - guard + unmapped_;
  ::munmap(from, static_cast<std::size_t>(end - from));
}

void anonymous_mapping::release_below(std::size_t end) noexcept {
  // Counted from the front guard page, which goes with the first piece.
  end = std::min(end, bytes_);
  end -= end % page_bytes();
  end += page_bytes();
  if (end <= unmapped_)
    return;
  ::munmap(static_cast<char*>(base_) - page_bytes() + unmapped_, end - unmapped_);
  unmapped_ = end;
}

// One thread for the process, started on first use, never stopped: it may
// be touching pages while the process exits, and has nothing to release.
class page_warmer {
public:
  static page_warmer& instance() {
    static auto* warmer = new page_warmer;
    return *warmer;
  }

  bool post(std::shared_ptr<anonymous_mapping> m) {
    if (!running_)
      return false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      todo_.push_back(std::move(m));
    }
    wake_.notify_one();
    return true;
  }

  void wait_idle() {
    std::unique_lock<std::mutex> guard{mtx_};
    idle_.wait(guard, [this] { return todo_.empty() && !busy_; });
  }

private:
  page_warmer() {
    try {
      std::thread{[this] { run(); }}.detach();
      running_ = true;
    } catch (const std::system_error&) {
      running_ = false; // owners fault their pages in themselves
    }
  }

  // Touches one byte per page: a write fault maps it (a huge page at once
  // where the mapping has them). Nobody else writes to the mapping before
  // warm() is set, so the zeros written are the zeros it had.
  static void touch(anonymous_mapping& m) {
    auto* p = static_cast<volatile char*>(m.data());
    for (std::size_t at = 0; at < m.size(); at += page_bytes())
      p[at] = 0;
  }

  void run() {
    // The lowest priority: the warmer takes what the actors leave of the
    // cores. An owner that needs a mapping before it is warm does not wait
    // for it (see anonymous_mapping::warm).
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
    std::unique_lock<std::mutex> guard{mtx_};
    while (true) {
      wake_.wait(guard, [this] { return !todo_.empty(); });
      auto m = std::move(todo_.front());
      todo_.pop_front();
      busy_ = true;
      guard.unlock();
      // A mapping its owner has dropped already is not worth the faults.
      if (m.use_count() > 1) {
        touch(*m);
        m->warm_.store(true, std::memory_order_release);
      }
      m.reset();
      guard.lock();
      busy_ = false;
      if (todo_.empty())
        idle_.notify_all();
    }
  }

  bool running_ = false;
  std::mutex mtx_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::shared_ptr<anonymous_mapping>> todo_;
  bool busy_ = false;
};

bool warm_in_background(std::shared_ptr<anonymous_mapping> m) {
  return page_warmer::instance().post(std::move(m));
}

void wait_for_warm_pages() {
  page_warmer::instance().wait_idle();
}

} // namespace bus::internal
