# The installed package: installs the build tree into a scratch prefix, then
# builds and runs against it what a user would:
# - the README's minimal project, as written, in C++17 and in C++20;
# - tests/package: the README's longer example (also in C++20), a read model
#   through the installed simulator, and a plugin that links the static
#   bus::actors, loaded with dlopen;
# and checks that the apps and their configs are installed, and that the
# installed headers hold no internals.
# Arguments: SOURCE_DIR, BINARY_DIR, CXX_COMPILER, LAUNCHER (may be empty).
include("${CMAKE_CURRENT_LIST_DIR}/readme_project.cmake")
set(prefix "${BINARY_DIR}/package-install")
set(work "${BINARY_DIR}/package-consumer")
file(REMOVE_RECURSE "${prefix}" "${work}")
run_checked("installing" ${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}")

set(configure_args "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=Release"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()

# Fails unless the compile commands of build `dir` use C++ `std`.
function(expect_standard dir std)
  file(READ "${dir}/compile_commands.json" commands)
  if(NOT commands MATCHES "-std=(c|gnu)\\+\\+${std}")
    message(FATAL_ERROR "${dir} was not built in C++${std}:\n${commands}")
  endif()
endfunction()

# The README's project as written: no standard set, so bus's cxx_std_17
# decides; then a C++20 project.
write_readme_project("${SOURCE_DIR}/README.md" "${work}/readme-src")
foreach(std 17 20)
  set(dir "${work}/readme-cxx${std}")
  set(args ${configure_args})
  if(std EQUAL 20)
    list(APPEND args "-DCMAKE_CXX_STANDARD=20")
  endif()
  run_checked("configuring the README project (C++${std})"
              ${CMAKE_COMMAND} -S "${work}/readme-src" -B "${dir}" ${args})
  run_checked("building the README project (C++${std})"
              ${CMAKE_COMMAND} --build "${dir}" -j 2)
  if(std EQUAL 20)
    expect_standard("${dir}" 20)
  endif()
  run_checked("running the README project (C++${std})" "${dir}/shop")
  if(NOT run_output MATCHES "order-1 is seq 1")
    message(FATAL_ERROR "the README project (C++${std}) said: ${run_output}")
  endif()
  message(STATUS "README project, C++${std}: ${run_output}")
endforeach()

# The other consumers, in C++17; the supervisor example in C++20 too.
set(dir "${work}/package-cxx17")
run_checked("configuring tests/package" ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/package"
            -B "${dir}" ${configure_args} "-DBUS_SOURCE_DIR=${SOURCE_DIR}")
run_checked("building tests/package" ${CMAKE_COMMAND} --build "${dir}" -j 2)
set(dir20 "${work}/package-cxx20")
run_checked("configuring tests/package (C++20)" ${CMAKE_COMMAND}
            -S "${SOURCE_DIR}/tests/package" -B "${dir20}" ${configure_args}
            "-DBUS_SOURCE_DIR=${SOURCE_DIR}" "-DCMAKE_CXX_STANDARD=20")
run_checked("building the README example (C++20)" ${CMAKE_COMMAND} --build "${dir20}"
            --target readme_example -j 2)
expect_standard("${dir20}" 20)

foreach(d "${dir}" "${dir20}")
  run_checked("running the README example" "${d}/readme_example")
  if(NOT run_output MATCHES "appended seq 1, duplicate: 1\nrevenue applied up to seq 1\nada: 4200\n")
    message(FATAL_ERROR "the README example said: ${run_output}")
  endif()
endforeach()
run_checked("running the simulator consumer" "${dir}/sim_consumer")
if(NOT run_output MATCHES "sim_consumer: 50 of 50 seeds passed")
  message(FATAL_ERROR "the simulator consumer said: ${run_output}")
endif()
run_checked("loading the plugin" "${dir}/plugin_host" "${dir}/libbus_plugin.so")
if(NOT run_output MATCHES "the plugin published up to seq 3")
  message(FATAL_ERROR "the plugin host said: ${run_output}")
endif()

# The apps and their configs.
run_checked("running the installed bus-node" "${prefix}/bin/bus-node" --version)
file(READ "${SOURCE_DIR}/CMakeLists.txt" top)
string(REGEX MATCH "project\\(bus VERSION ([0-9.]+)" _ "${top}")
if(NOT run_output MATCHES "${CMAKE_MATCH_1}")
  message(FATAL_ERROR "bus-node --version said: ${run_output}")
endif()
foreach(app bus-projector bus-demo bus-gen bus-bench busctl bus-sim)
  if(NOT EXISTS "${prefix}/bin/${app}")
    message(FATAL_ERROR "${app} was not installed")
  endif()
endforeach()
file(GLOB configs RELATIVE "${SOURCE_DIR}/config" "${SOURCE_DIR}/config/*.json")
foreach(c ${configs})
  if(NOT EXISTS "${prefix}/share/bus/${c}")
    message(FATAL_ERROR "config/${c} was not installed to share/bus")
  endif()
endforeach()

# The installed headers hold the public API only: no actor states, no
# internal helpers.
file(GLOB_RECURSE headers "${prefix}/include/bus/*")
foreach(h ${headers})
  file(READ "${h}" text)
  if(h MATCHES "(bus|projector|supervisor|connector)_state|string_map|/internal/"
     OR text MATCHES "struct [a-z_]+_state|outstanding_delivery|namespace (bus::)?internal \\{[^}]*\\(")
    message(FATAL_ERROR "an internal header or declaration is installed: ${h}")
  endif()
endforeach()
