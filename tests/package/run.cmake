# Installs the build tree into a scratch prefix, then configures, builds and
# runs the downstream project against it.
set(prefix "${BINARY_DIR}/package-install")
set(work "${BINARY_DIR}/package-consumer")
file(REMOVE_RECURSE "${prefix}" "${work}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BINARY_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/package" -B "${work}"
                        "-DCMAKE_PREFIX_PATH=${prefix}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${work}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed")
endif()
execute_process(COMMAND "${work}/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "${out}")
if(rc OR NOT out MATCHES "consumer: seq 1")
  message(FATAL_ERROR "the consumer did not run: ${out}")
endif()

execute_process(COMMAND "${work}/sim_consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message(STATUS "${out}")
if(rc OR NOT out MATCHES "sim_consumer: 50 of 50 seeds passed")
  message(FATAL_ERROR "the simulator consumer failed: ${out} ${err}")
endif()
