# bus_embed_files(OUTPUT file.cpp BASE dir FILES f1 f2 ...)
# Generates, at build time, a C++ source that holds the bytes of FILES (paths
# under BASE) and defines `bus::admin::embedded_files()`
# (bus/admin/embedded_files.hpp), each file under its path relative to BASE
# (with '/'), in the order given. The source is regenerated when a file changes;
# list the files with file(GLOB ... CONFIGURE_DEPENDS) so that a new file
# is picked up too. The declaration lives in bus/admin/embedded_files.hpp.
set(BUS_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/bus_embed_script.cmake")

function(bus_embed_files)
  cmake_parse_arguments(arg "" "OUTPUT;BASE" "FILES" ${ARGN})
  set(relative)
  foreach(f IN LISTS arg_FILES)
    file(RELATIVE_PATH rel "${arg_BASE}" "${f}")
    list(APPEND relative "${rel}")
  endforeach()
  # Lists travel to the script joined by '|' (';' would split the argument).
  string(REPLACE ";" "|" joined "${relative}")
  add_custom_command(
    OUTPUT "${arg_OUTPUT}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${arg_OUTPUT}" "-DBASE=${arg_BASE}"
            "-DFILES=${joined}"
            -P "${BUS_EMBED_SCRIPT}"
    DEPENDS ${arg_FILES} "${BUS_EMBED_SCRIPT}"
    COMMENT "Embedding ${arg_BASE} into ${arg_OUTPUT}"
    VERBATIM)
endfunction()
