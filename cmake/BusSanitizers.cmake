# Sanitizer and fuzzing builds (docs/testing.md, "Sanitizers" and "Fuzzing").
#
#   -DBUS_SANITIZE=address,undefined   the whole project and its tests under
#                                      ASan and UBSan (gcc or clang)
#   -DBUS_SANITIZE=thread              under ThreadSanitizer
#   -DBUS_FUZZ=ON                      (clang only) the fuzz targets of
#                                      tests/fuzz link libFuzzer; implies
#                                      address,undefined
#
# These flags are global, unlike the warnings: a sanitizer must see every
# object file of the process (a library built without it reports false
# positives or misses what happens inside it). A finding aborts: UBSan
# does not recover (but for the two checks suppressed in CAF's headers),
# so a test or a fuzz run cannot pass over one.

set(BUS_SANITIZE "" CACHE STRING
    "Sanitizers for the whole build, as -fsanitize= takes them (address,undefined or thread)")
option(BUS_FUZZ "Build the fuzz targets with libFuzzer (clang only)" OFF)

if(BUS_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BUS_FUZZ=ON needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (Debian packages clang, "
                        "libclang-rt-14-dev)")
  endif()
  if(BUS_SANITIZE STREQUAL "")
    set(BUS_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
endif()

if(NOT BUS_SANITIZE STREQUAL "")
  if(BUS_SANITIZE MATCHES "thread" AND BUS_SANITIZE MATCHES "address")
    message(FATAL_ERROR "BUS_SANITIZE: thread and address cannot be combined")
  endif()
  # Two checks recover, so that tests/sanitizers/ubsan.supp can pass over
  # what they report inside CAF's headers; halt_on_error=1 (.ci/sanitize)
  # still stops at any report not suppressed.
  add_compile_options(-fsanitize=${BUS_SANITIZE} -fno-sanitize-recover=all
                      -fsanitize-recover=null,vptr -fno-omit-frame-pointer)
  # Line tables for readable reports, unless the build type already asks
  # for debug information (a plain -g here would override .ci/sanitize's
  # -g1 and cost a tenth more compile time).
  string(TOUPPER "${CMAKE_BUILD_TYPE}" bus_build_type)
  if(NOT " ${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${bus_build_type}} " MATCHES " -g")
    add_compile_options(-g1)
  endif()
  add_link_options(-fsanitize=${BUS_SANITIZE})
  if(BUS_SANITIZE MATCHES "thread")
    # TSan does not model standalone fences (gcc warns -Wtsan at each of
    # Asio's); Asio's queues take a mutex, which TSan does see.
    add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  endif()
  message(STATUS "bus: sanitizers ${BUS_SANITIZE}")
endif()

# bus_fuzz_coverage(target ...): with BUS_FUZZ, coverage feedback from every
# library the fuzz targets link, not only from the targets themselves (they
# add -fsanitize=fuzzer, the driver). Only those libraries: the test
# executables of the same tree (.ci/test runs the in-process suite there
# under ASan and UBSan) compile a third faster without it, and the
# sanitizers' runtime takes the coverage calls of the libraries they link.
function(bus_fuzz_coverage)
  if(BUS_FUZZ)
    foreach(target IN LISTS ARGN)
      if(TARGET ${target})
        target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
      endif()
    endforeach()
  endif()
endfunction()

# A static library built with sanitizers needs their runtimes in whatever
# links it: the installed targets ask for them (tests/package builds a
# consumer of the sanitized build that way).
function(bus_sanitize_exports)
  if(NOT BUS_SANITIZE STREQUAL "")
    foreach(target IN LISTS ARGN)
      target_link_options(${target} INTERFACE
                          $<INSTALL_INTERFACE:-fsanitize=${BUS_SANITIZE}>)
    endforeach()
  endif()
endfunction()
