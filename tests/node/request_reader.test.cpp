// The payloads of a chunk of input share an arena, and the chunk's requests
// then go to readers on other threads: projectors that upcast them (a copy
// of the event), the command handler that keeps them in a stream's tail.
// Copying a Boost.JSON value allocates from the copied value's resource, so
// copies made on two threads at once must not both take memory from the
// chunk's arena. Threads have a hard time limit (the suite's CTest timeout).

#include "request_reader.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

constexpr std::size_t input_events = 2000;

// A file of event lines whose payloads need allocations (keys and strings
// longer than Boost.JSON keeps inline), read back by a request_reader.
struct input_file {
  std::filesystem::path path = std::filesystem::temp_directory_path()
                               / ("bus-request-reader-" + std::to_string(::getpid()));
  int fd = -1;

  input_file() {
    std::ofstream out{path};
    for (std::size_t i = 0; i < input_events; ++i)
      out << R"({"src": "gen", "dest": "node", "body": {"type": "event", "msg_id": )"
          << i << R"(, "event": {"id": "e)" << i
          << R"(", "type": "UserCreated", "payload": {"user_identifier": "user-)" << i
          << R"(-with-a-long-name", "display_name_of_the_user": "somebody called )" << i
          << R"(", "tags": ["first-tag-of-the-user", "second-tag-of-the-user"]}}}})"
          << '\n';
    out.close();
    fd = ::open(path.c_str(), O_RDONLY);
  }

  ~input_file() {
    ::close(fd);
    std::filesystem::remove(path);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(request_reader_multithread)

BOOST_AUTO_TEST_CASE(payloads_copied_on_two_threads_at_once_come_out_whole) {
  input_file file;
  bus::node::request_reader reader{file.fd, 1 << 20};
  std::vector<bus::node::request_chunk> chunks;
  std::vector<const bus::node::request*> requests;
  for (bool more = true; more;) {
    chunks.push_back(reader.read_chunk(more));
    for (auto& req : *chunks.back())
      requests.push_back(&req);
  }
  BOOST_REQUIRE_EQUAL(requests.size(), input_events);
  std::vector<std::string> expected;
  for (auto* req : requests)
    expected.push_back(boost::json::serialize(req->ev.payload));
  // Each thread copies every payload (as an upcaster copies its event) and
  // keeps the copies, several rounds, both at once.
  auto copy_all = [&](std::vector<boost::json::object>& out) {
    for (int round = 0; round < 20; ++round)
      for (auto* req : requests)
        out.push_back(req->ev.payload);
  };
  std::vector<boost::json::object> left;
  std::vector<boost::json::object> right;
  left.reserve(20 * input_events);
  right.reserve(20 * input_events);
  std::thread a{[&] { copy_all(left); }};
  std::thread b{[&] { copy_all(right); }};
  a.join();
  b.join();
  std::size_t wrong = 0;
  for (auto* copies : {&left, &right})
    for (std::size_t i = 0; i < copies->size(); ++i)
      if (boost::json::serialize((*copies)[i]) != expected[i % input_events])
        ++wrong;
  BOOST_TEST(wrong == 0u, wrong << " of " << left.size() + right.size()
                                << " copies came out different from their payload");
  // The chunk's own payloads are unharmed too.
  for (std::size_t i = 0; i < requests.size(); ++i)
    BOOST_TEST(boost::json::serialize(requests[i]->ev.payload) == expected[i]);
}

BOOST_AUTO_TEST_SUITE_END()
