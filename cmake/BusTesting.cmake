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

# bus_unity_tests(TARGET exe [ALONE file ...]): compiles a test executable's
# sources a few to a translation unit. The actor tests each instantiate much
# the same CAF templates (the test DSL, the typed behaviours): one TU of four
# compiles in about a third of the time of the four apart, which CI's time
# budget needs (docs/testing.md, "Build time"). ALONE files keep a TU of
# their own: main.test.cpp (BOOST_TEST_MODULE must come before any other
# include of Boost.Test), and files whose names clash with another's (a
# suite is a namespace: suite `event` makes `event` ambiguous in the next
# file). -DBUS_UNITY_TESTS=OFF compiles every file on its own.
option(BUS_UNITY_TESTS "Compile the test executables a few files to a translation unit" ON)
function(bus_unity_tests)
  cmake_parse_arguments(arg "" "TARGET" "ALONE" ${ARGN})
  if(NOT BUS_UNITY_TESTS)
    return()
  endif()
  set_target_properties(${arg_TARGET} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 6)
  set_source_files_properties(main.test.cpp ${arg_ALONE} TARGET_DIRECTORY ${arg_TARGET}
                              PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  # gcc warns of a test's fixture (anonymous namespace) as the base of a
  # Boost.Test case once the file is not the main file of its TU.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${arg_TARGET} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()

# bus_light_optimize(target ...): compiles the tests' own code at
# BUS_TEST_OPTIMIZE (-O1) in the optimized builds. Tests drive the
# libraries, which keep the build type's optimization; most of a test
# file's compile time is the compiler optimizing CAF's test DSL and typed
# behaviours (a unit of six actor test files: 51 s with gcc at -O3, 33 s at
# -O1; with clang's ASan and UBSan, 60 s at -O1 against 21 s at -O0, which
# .ci/sanitize asks for). CI's time budget needs that back
# (docs/testing.md, "Build time").
set(BUS_TEST_OPTIMIZE "-O1" CACHE STRING
    "Optimization of the tests' own code in Release, RelWithDebInfo and MinSizeRel builds")
function(bus_light_optimize)
  foreach(target IN LISTS ARGN)
    target_compile_options(${target} PRIVATE
      $<$<OR:$<CONFIG:Release>,$<CONFIG:RelWithDebInfo>,$<CONFIG:MinSizeRel>>:${BUS_TEST_OPTIMIZE}>)
  endforeach()
endfunction()
