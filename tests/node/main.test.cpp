#define BOOST_TEST_MODULE bus node
#include <boost/test/unit_test.hpp>
