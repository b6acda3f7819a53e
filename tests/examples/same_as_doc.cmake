# Checks that a doc shows an example as the tests build it: the first
# ```cpp block of DOC after the heading SECTION must equal SOURCE, less
# SOURCE's leading comment (its lines up to the first blank one).
#
#   cmake -DDOC=README.md -DSECTION="## Using it from C++" \
#         -DSOURCE=tests/examples/readme_example.cpp -P same_as_doc.cmake
foreach(var DOC SECTION SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "same_as_doc.cmake: pass -D${var}=...")
  endif()
endforeach()

# Sets `out` to where `needle` starts in `text`, or fails saying `why`.
function(find_or_fail text needle out why)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${why}")
  endif()
  set(${out} ${at} PARENT_SCOPE)
endfunction()

file(READ "${DOC}" doc)
find_or_fail("${doc}" "\n${SECTION}\n" at "${DOC} has no heading '${SECTION}'")
string(SUBSTRING "${doc}" ${at} -1 doc)
find_or_fail("${doc}" "\n```cpp\n" begin "${DOC}: no ```cpp block after '${SECTION}'")
math(EXPR begin "${begin} + 8")
string(SUBSTRING "${doc}" ${begin} -1 doc)
find_or_fail("${doc}" "\n```\n" end
             "${DOC}: the ```cpp block after '${SECTION}' does not end")
math(EXPR end "${end} + 1")
string(SUBSTRING "${doc}" 0 ${end} shown)

file(READ "${SOURCE}" source)
string(FIND "${source}" "\n\n" body)
if(body EQUAL -1)
  message(FATAL_ERROR "${SOURCE}: no blank line after its leading comment")
endif()
math(EXPR body "${body} + 2")
string(SUBSTRING "${source}" ${body} -1 source)

if(NOT shown STREQUAL source)
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/shown.cpp" "${shown}")
  file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/built.cpp" "${source}")
  message(FATAL_ERROR
    "${DOC} ('${SECTION}') does not show ${SOURCE} as the tests build it: "
    "compare ${CMAKE_CURRENT_BINARY_DIR}/shown.cpp with "
    "${CMAKE_CURRENT_BINARY_DIR}/built.cpp, and make them one")
endif()
message(STATUS "${DOC} ('${SECTION}') shows ${SOURCE} as built")
