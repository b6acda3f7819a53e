#define BOOST_TEST_MODULE bus actors
#include <boost/test/unit_test.hpp>
