#define BOOST_TEST_MODULE bus parking crash
#include <boost/test/unit_test.hpp>
