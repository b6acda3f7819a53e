#define BOOST_TEST_MODULE bus admin
#include <boost/test/unit_test.hpp>
