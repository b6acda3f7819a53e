# A store whose directory the node may not write, though it holds the
# store's PATH.lock already (a store made there once, the directory then
# made read-only): bus-node and bus-projector refuse it at start, exit 2,
# naming the directory, as they refuse a store they cannot create. (The
# lock file opens, so the lock alone did not notice; the node then failed
# on its first write, the projector on each model's first snapshot.)
#   cmake -DNODE=bus-node -DPROJECTOR=bus-projector -DDIR=scratch-dir
#         -P readonly_store.cmake
# Root writes anywhere: as root, the apps run as the user nobody.

execute_process(COMMAND chmod -R u+w "${DIR}" ERROR_QUIET)
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}/lock-only" "${DIR}/whole")
# lock-only: PATH.lock and nothing else; whole: every file of a store, as a
# node that ran there left them.
file(TOUCH "${DIR}/lock-only/st.lock")
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(as_user)
if(uid STREQUAL "0")
  execute_process(COMMAND chown -R nobody "${DIR}" COMMAND_ERROR_IS_FATAL ANY)
  set(as_user setpriv --reuid=nobody --regid=nogroup --clear-groups --)
endif()
execute_process(COMMAND ${as_user} ${NODE} --store "${DIR}/whole/st"
                INPUT_FILE /dev/null RESULT_VARIABLE made ERROR_VARIABLE err TIMEOUT 60)
if(NOT made EQUAL 0)
  message(FATAL_ERROR "a first node could not make the store: ${err}")
endif()
execute_process(COMMAND chmod a-w "${DIR}/lock-only" "${DIR}/whole" COMMAND_ERROR_IS_FATAL ANY)

function(expect_refusal what)
  cmake_parse_arguments(arg "" "SAYS" "" ${ARGN})
  execute_process(COMMAND ${as_user} timeout 10 ${arg_UNPARSED_ARGUMENTS}
                  INPUT_FILE /dev/null RESULT_VARIABLE status OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 30)
  set(shown "${arg_UNPARSED_ARGUMENTS}\n-- exit: ${status}\n-- stdout:\n${out}\n-- stderr:\n${err}")
  if(NOT status EQUAL 2)
    message(SEND_ERROR "${what}: expected exit status 2: ${shown}")
  elseif(NOT err MATCHES "${arg_SAYS}")
    message(SEND_ERROR "${what}: the refusal does not say '${arg_SAYS}': ${shown}")
  endif()
endfunction()

foreach(store lock-only whole)
  expect_refusal("bus-node on ${store}" ${NODE} --store "${DIR}/${store}/st"
                 SAYS "cannot create files in ${DIR}/[a-z-]+ \\(Permission denied\\)")
  expect_refusal("bus-projector on ${store}"
                 ${PROJECTOR} --connect 127.0.0.1:1 --store "${DIR}/${store}/st"
                 SAYS "cannot create files in ${DIR}/[a-z-]+ \\(Permission denied\\)")
endforeach()

# A file beside the store that the node may not write, in a directory it
# may: SQLite opened it read-only without a word, and a pause kept there
# failed when asked. It is named at start instead.
file(MAKE_DIRECTORY "${DIR}/file")
execute_process(COMMAND chmod u+w "${DIR}/whole")
file(COPY "${DIR}/whole/" DESTINATION "${DIR}/file")
if(uid STREQUAL "0")
  execute_process(COMMAND chown -R nobody "${DIR}/file" COMMAND_ERROR_IS_FATAL ANY)
endif()
execute_process(COMMAND chmod a-w "${DIR}/file/st.lifecycle" COMMAND_ERROR_IS_FATAL ANY)
expect_refusal("bus-node with a read-only file" ${NODE} --store "${DIR}/file/st"
               SAYS "st.lifecycle cannot be written")
expect_refusal("bus-projector with a read-only file"
               ${PROJECTOR} --connect 127.0.0.1:1 --store "${DIR}/file/st"
               SAYS "st.lifecycle cannot be written")
execute_process(COMMAND chmod -R u+w "${DIR}")
file(REMOVE_RECURSE "${DIR}")
