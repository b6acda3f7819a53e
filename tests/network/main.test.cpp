#define BOOST_TEST_MODULE bus network
#include <boost/test/unit_test.hpp>
