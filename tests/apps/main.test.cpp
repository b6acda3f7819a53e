#define BOOST_TEST_MODULE bus apps
#include <boost/test/unit_test.hpp>
