# bus_add_test_suites(TARGET exe TIMEOUT seconds SUITES a b ...)
# Registers one CTest entry per Boost.Test suite of `exe`, each with a hard
# time limit, so that a hanging suite fails on its own.
function(bus_add_test_suites)
  cmake_parse_arguments(arg "" "TARGET;TIMEOUT" "SUITES" ${ARGN})
  foreach(suite IN LISTS arg_SUITES)
    add_test(NAME ${arg_TARGET}.${suite}
             COMMAND ${arg_TARGET} --run_test=${suite} --log_level=message)
    set_tests_properties(${arg_TARGET}.${suite} PROPERTIES TIMEOUT ${arg_TIMEOUT})
  endforeach()
endfunction()
