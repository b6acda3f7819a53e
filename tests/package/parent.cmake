# Embedding: builds tests/package/parent, which adds bus with
# add_subdirectory as shared libraries (BUILD_SHARED_LIBS=ON), then runs the
# README's minimal program linked to them and checks that the shared objects
# are versioned. Only the libraries the program needs are built, without
# optimization and as a unity build (CMAKE_UNITY_BUILD=ON, as a parent may
# set for everything it builds; the libraries fix their batch size), in
# half the time of file by file, to keep the test short.
# Arguments: SOURCE_DIR, BINARY_DIR, CXX_COMPILER, LAUNCHER (may be empty).
include("${CMAKE_CURRENT_LIST_DIR}/readme_project.cmake")
set(work "${BINARY_DIR}/package-parent")
file(REMOVE_RECURSE "${work}")
write_readme_project("${SOURCE_DIR}/README.md" "${work}/readme-src")
set(args "-DBUS_SOURCE_DIR=${SOURCE_DIR}" "-DSHOP_SOURCE=${work}/readme-src/main.cpp"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_UNITY_BUILD=ON")
if(LAUNCHER)
  list(APPEND args "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
run_checked("configuring the parent project" ${CMAKE_COMMAND}
            -S "${SOURCE_DIR}/tests/package/parent" -B "${work}/build" ${args})
run_checked("building the parent project" ${CMAKE_COMMAND} --build "${work}/build"
            --target shop -j 2)
run_checked("running the parent's program" "${work}/build/shop")
if(NOT run_output MATCHES "order-1 is seq 1")
  message(FATAL_ERROR "the parent's program said: ${run_output}")
endif()

# Versioned shared objects: the file, the soname link, and the program
# loading them by soname.
file(READ "${SOURCE_DIR}/CMakeLists.txt" top)
string(REGEX MATCH "project\\(bus VERSION (([0-9]+)\\.([0-9]+)\\.[0-9]+)" _ "${top}")
set(version "${CMAKE_MATCH_1}")
set(soversion "${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
foreach(lib libbus/libbus actors/libbus_actors)
  if(NOT EXISTS "${work}/build/bus/${lib}.so.${version}"
     OR NOT IS_SYMLINK "${work}/build/bus/${lib}.so.${soversion}")
    message(FATAL_ERROR "no versioned ${lib}.so.${version} with its soname link")
  endif()
endforeach()
run_checked("listing the program's libraries" ldd "${work}/build/shop")
if(NOT run_output MATCHES "libbus_actors\\.so\\.${soversion} => [^\n]*/package-parent/"
   OR NOT run_output MATCHES "libbus\\.so\\.${soversion} => [^\n]*/package-parent/")
  message(FATAL_ERROR "the program does not load bus's shared objects:\n${run_output}")
endif()
message(STATUS "${run_output}")
