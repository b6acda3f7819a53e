#define BOOST_TEST_MODULE bus core
#include <boost/test/unit_test.hpp>
