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

  struct item {
    // Set warm once touched; null for a heap block.
    anonymous_mapping* mapping;
    // Keeps the bytes allocated while the warmer works.
    std::shared_ptr<void> keep;
    char* data;
    std::size_t bytes;
  };

  bool post(item x) {
    if (!running_)
      return false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      todo_.push_back(std::move(x));
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

  // Faults the pages in writable, one page at a time. An atomic or with
  // zero writes back the value it read, so the owner may write to the
  // bytes meanwhile. madvise(MADV_POPULATE_WRITE) does the same without
  // writing, but takes the process's mmap lock through each piece, where a
  // fault takes only its mapping's: tried, bus-bench's half-load p99 after
  // the first 100 k events went from 1.4 to 2.9 ms to 20 and 71 ms.
  static void touch(char* p, std::size_t bytes) {
    for (std::size_t at = 0; at < bytes; at += page_bytes())
      __atomic_fetch_or(p + at, char{0}, __ATOMIC_RELAXED);
  }

  void run() {
    // The lowest priority: the warmer takes what the actors leave of the
    // cores. An owner that needs a mapping before it is warm does not wait
    // for it (see anonymous_mapping::warm).
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
    std::unique_lock<std::mutex> guard{mtx_};
    while (true) {
      wake_.wait(guard, [this] { return !todo_.empty(); });
      // The smallest first: a read model's next table, which its owner
      // needs soon, does not wait behind the id index's tens of MB.
      auto first = std::min_element(todo_.begin(), todo_.end(),
                                    [](const auto& x, const auto& y) {
                                      return x.bytes < y.bytes;
                                    });
      auto x = std::move(*first);
      todo_.erase(first);
      busy_ = true;
      guard.unlock();
      // Memory its owner has dropped already is not worth the faults.
      if (x.keep.use_count() > 1) {
        touch(x.data, x.bytes);
        if (x.mapping)
          x.mapping->warm_.store(true, std::memory_order_release);
      }
      x = item{};
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
  std::deque<item> todo_;
  bool busy_ = false;
};

bool warm_in_background(std::shared_ptr<anonymous_mapping> m) {
  auto* raw = m.get();
  return page_warmer::instance().post({raw, std::shared_ptr<void>{std::move(m)},
                                       static_cast<char*>(raw->data()), raw->size()});
}

bool warm_in_background(std::shared_ptr<void> keep, void* data, std::size_t bytes) {
  return page_warmer::instance().post(
    {nullptr, std::move(keep), static_cast<char*>(data), bytes});
}

void wait_for_warm_pages() {
  page_warmer::instance().wait_idle();
}

} // namespace bus::internal
