#include "bus/admin/embedded_files.hpp"

#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

using namespace bus::admin;

BOOST_AUTO_TEST_SUITE(embedded_files_suite)

BOOST_AUTO_TEST_CASE(every_file_of_web_is_embedded_byte_for_byte) {
  auto* index = find_embedded("index.html");
  BOOST_REQUIRE(index != nullptr);
  std::ifstream in{std::string{BUS_ADMIN_WEB_DIR} + "/index.html", std::ios::binary};
  std::stringstream disk;
  disk << in.rdbuf();
  BOOST_TEST(index->bytes == disk.str());
  BOOST_TEST(find_embedded("nosuch.html") == nullptr);
}

BOOST_AUTO_TEST_CASE(content_types_follow_the_extension) {
  BOOST_TEST(content_type_of("index.html") == "text/html; charset=utf-8");
  BOOST_TEST(content_type_of("js/app.JS") == "text/javascript; charset=utf-8");
  BOOST_TEST(content_type_of("style.css") == "text/css; charset=utf-8");
  BOOST_TEST(content_type_of("logo.svg") == "image/svg+xml");
  BOOST_TEST(content_type_of("data.json") == "application/json");
  BOOST_TEST(content_type_of("README") == "application/octet-stream");
  BOOST_TEST(content_type_of("dir.d/file") == "application/octet-stream");
}

BOOST_AUTO_TEST_SUITE_END()
