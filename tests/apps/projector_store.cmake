# bus-projector --store is one node's, as bus-node's is: a second projector
# on the store of a running one is refused at start, exit 2, "in use" and
# naming the holder (not told its files are damaged):
#   cmake -DPROJECTOR=bus-projector -DDIR=scratch-dir -P projector_store.cmake
# No bus listens at --connect: a projector retries it until stopped, and
# refuses a store before it dials.

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
set(store "${DIR}/st")
set(connect --connect 127.0.0.1:1 --name one --store "${store}")

# The first runs 6 s (SIGTERM then stops it, exit 0); the second starts
# once the first wrote its pid into PATH.lock (or after 3 s without one).
execute_process(
  COMMAND timeout --preserve-status 6 ${PROJECTOR} ${connect}
  COMMAND sh -c "for i in $(seq 30); do [ -s \"$1.lock\" ] && break; sleep 0.1; done; \
exec timeout --preserve-status 6 \"$0\" --connect 127.0.0.1:1 --name one --store \"$1\""
          ${PROJECTOR} "${store}"
  RESULTS_VARIABLE statuses ERROR_VARIABLE err TIMEOUT 60)
set(shown "exits: ${statuses}\n-- stderr of both:\n${err}")
if(NOT statuses STREQUAL "0;2")
  message(FATAL_ERROR "expected the first to run (0) and the second to be refused (2): ${shown}")
endif()
file(READ "${store}.lock" holder)
string(STRIP "${holder}" holder)
if(NOT err MATCHES "${store}: the store is in use by another process \\(pid ${holder}\\): it holds ${store}.lock")
  message(FATAL_ERROR "the refusal does not name the store and its holder (pid ${holder}): ${shown}")
endif()
if(err MATCHES "move it aside")
  message(FATAL_ERROR "a store in use is called damaged: ${shown}")
endif()
file(REMOVE_RECURSE "${DIR}")
