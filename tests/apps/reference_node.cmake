# The Python reference node answers bus-gen's input as bus-node does, byte
# for byte, so that bus-bench's ratio between them compares the same work:
#   cmake -DGEN=bus-gen -DNODE=bus-node -DREFERENCE=reference_node.py
#         -DCASES=reference_node_cases.jsonl -DDIR=scratch-dir
#         -P reference_node.cmake
# Two inputs from bus-gen: users created, updated and deleted with
# redeliveries, and every user created first (issue 11's input); each is
# followed by a query of every user on user_listing and of every email it
# names on user_by_email, so that the state both end in is compared too.
# Then CASES: what bus-gen never writes (partial updates, an email taken
# over, unknown keys and types, events without the key).

# Writes bus-gen's input with `args` and the queries after it to `input`;
# sets `requests` to its number of lines.
function(generate_input input args)
  execute_process(COMMAND ${GEN} --events 20000 --users 2000 ${args}
                  OUTPUT_FILE "${input}" RESULT_VARIABLE status TIMEOUT 60)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "bus-gen ${args}: exit ${status}")
  endif()
  file(READ "${input}" events)
  string(REGEX MATCHALL "\"email\":\"[^\"]+\"" emails "${events}")
  list(REMOVE_DUPLICATES emails)
  set(queries "")
  set(msg_id 100000)
  foreach(user RANGE 1999)
    math(EXPR msg_id "${msg_id} + 1")
    string(APPEND queries "{\"src\":\"c\",\"dest\":\"node\",\"body\":{\"type\":\"query\",\"msg_id\":${msg_id},\"model\":\"user_listing\",\"key\":\"user-${user}\"}}\n")
  endforeach()
  foreach(email IN LISTS emails)
    string(REGEX REPLACE "^\"email\":" "" email "${email}")
    math(EXPR msg_id "${msg_id} + 1")
    string(APPEND queries "{\"src\":\"c\",\"dest\":\"node\",\"body\":{\"type\":\"query\",\"msg_id\":${msg_id},\"model\":\"user_by_email\",\"key\":${email}}}\n")
  endforeach()
  file(APPEND "${input}" "${queries}")
  math(EXPR lines "${msg_id} - 100000 + 20000")
  set(requests ${lines} PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY "${DIR}")
foreach(variant "mixed|--redeliveries|10" "first|--users-first|--seed|7" "cases")
  string(REPLACE "|" ";" args "${variant}")
  list(POP_FRONT args name)
  set(input "${DIR}/${name}.jsonl")
  if(name STREQUAL "cases")
    configure_file("${CASES}" "${input}" COPYONLY)
    file(STRINGS "${input}" lines)
    list(LENGTH lines requests)
  else()
    generate_input("${input}" "${args}")
  endif()
  execute_process(COMMAND ${REFERENCE} INPUT_FILE "${input}"
                  OUTPUT_FILE "${DIR}/${name}.reference" RESULT_VARIABLE status
                  ERROR_VARIABLE err TIMEOUT 120)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "the reference node on ${name}: exit ${status}\n${err}")
  endif()
  execute_process(COMMAND ${NODE} --log-level error INPUT_FILE "${input}"
                  OUTPUT_FILE "${DIR}/${name}.node" RESULT_VARIABLE status
                  ERROR_VARIABLE err TIMEOUT 120)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "bus-node on ${name}: exit ${status}\n${err}")
  endif()
  file(STRINGS "${DIR}/${name}.node" node_lines)
  list(LENGTH node_lines count)
  if(NOT count EQUAL requests)
    message(FATAL_ERROR "bus-node answered ${count} of ${requests} requests on ${name}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${DIR}/${name}.reference"
                          "${DIR}/${name}.node" RESULT_VARIABLE differ)
  if(differ)
    execute_process(COMMAND diff "${DIR}/${name}.reference" "${DIR}/${name}.node"
                    OUTPUT_VARIABLE shown)
    string(SUBSTRING "${shown}" 0 2000 shown)
    message(FATAL_ERROR "the reference node and bus-node answer ${name} differently:\n${shown}")
  endif()
endforeach()
