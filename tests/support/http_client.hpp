#pragma once

// A plain HTTP client over a blocking socket, for tests of the admin
// endpoint: the request is written as given, and every read gives up after
// a few seconds, so a server that never answers fails the test instead of
// hanging it.

#include <cstdint>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>

namespace bus::test {

struct client {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket{ioc};

  explicit client(std::uint16_t port) {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::string& text) {
    boost::asio::write(socket, boost::asio::buffer(text));
  }

  // Reads until the server closes the connection (or the read times out).
  std::string read_all() {
    std::string result;
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      auto n = socket.read_some(boost::asio::buffer(buf), ec);
      result.append(buf, n);
      if (ec)
        return result;
    }
  }

  // Reads one response of a kept-alive connection (its Content-Length).
  std::string read_response() {
    std::string result;
    char buf[4096];
    for (;;) {
      auto end = result.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto at = result.find("Content-Length: ");
        auto length = std::stoul(result.substr(at + 16));
        if (result.size() >= end + 4 + length)
          return result;
      }
      boost::system::error_code ec;
      auto n = socket.read_some(boost::asio::buffer(buf), ec);
      result.append(buf, n);
      if (ec)
        return result;
    }
  }
};

/// GET `path` from 127.0.0.1:`port` on a connection of its own: the whole
/// response, status line, headers and body.
inline std::string http_get(std::uint16_t port, const std::string& path) {
  client c{port};
  c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  return c.read_all();
}

} // namespace bus::test
