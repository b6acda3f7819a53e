# bus-bench keeps its files in a directory of the run's own and leaves
# --store-dir as it found it, so two benches may share one (ctest -j2 runs
# bench-smoke and bench-json-smoke side by side in one directory):
#   cmake -DBENCH=bus-bench -DDIR=scratch-dir -P bench_scratch.cmake
# Another run's files stand in --store-dir under the names the scenarios
# use: directories, so that a run writing there could not proceed.

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
set(others bus-bench-node.jsonl bus-bench-node.log bus-bench-node-0.db
           bus-bench-rebuild.db bus-bench-memory.db bus-bench-append-0.db)
foreach(name IN LISTS others)
  file(MAKE_DIRECTORY "${DIR}/${name}")
endforeach()

execute_process(COMMAND ${BENCH} --events 2000 --runs 1 --json --reference-node ""
                        --only node,rebuild,memory,append --store-dir "${DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status
                TIMEOUT 120)
if(NOT status EQUAL 0 OR out MATCHES "skipped" OR NOT out MATCHES "\"id\":\"node_store\",\"name\"")
  message(FATAL_ERROR "bus-bench beside another run's files: exit ${status}\n${out}\n${err}")
endif()
file(GLOB left RELATIVE "${DIR}" "${DIR}/*")
list(SORT left)
set(expected ${others})
list(SORT expected)
if(NOT left STREQUAL expected)
  message(FATAL_ERROR "bus-bench left ${DIR} holding: ${left}")
endif()

# A --store-dir that does not exist is named, not created.
execute_process(COMMAND ${BENCH} --events 10 --runs 1 --only append
                        --store-dir "${DIR}/missing"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status
                TIMEOUT 60)
if(NOT status EQUAL 2 OR NOT err MATCHES "cannot create .*missing.* under --store-dir")
  message(FATAL_ERROR "bus-bench --store-dir missing: exit ${status}\n${err}")
endif()
file(REMOVE_RECURSE "${DIR}")
