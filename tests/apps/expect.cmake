# Runs one app and checks what a user would see:
#   cmake -DPROGRAM=exe "-DARGS=a|b" -DSTATUS=N [-DSTDOUT=regex]
#         [-DSTDERR=regex] [-DSTDOUT_NOT=regex] [-DIN_STDOUT=x|y|...]
#         -P expect.cmake
# (lists are joined with '|': CTest would split a ';' into two arguments;
# "<empty>" stands for an empty argument, which a list would drop, and a
# blank one must not come last, where -D would trim it).
# STATUS is the exit status; the regexes must (not) match; every entry of
# IN_STDOUT must appear in stdout as it is (e.g. each option in --help).
string(REPLACE "|" ";" ARGS "${ARGS}")
string(REPLACE "|" ";" IN_STDOUT "${IN_STDOUT}")
set(run ${PROGRAM})
list(FIND ARGS "<empty>" empty_at)
if(NOT empty_at EQUAL -1) # the shell turns each back into ""
  set(run sh -c [[
for a in "$@"
do
  shift
  if [ "$a" = "<empty>" ]
  then
    a=
  fi
  set -- "$@" "$a"
done
exec "$0" "$@"]] ${PROGRAM}) # (no ';': it would split the list)
endif()
execute_process(COMMAND ${run} ${ARGS}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 60)
set(shown "${PROGRAM} ${ARGS}\n-- exit: ${status}\n-- stdout:\n${out}\n-- stderr:\n${err}")
if(NOT status STREQUAL STATUS)
  message(FATAL_ERROR "expected exit status ${STATUS}: ${shown}")
endif()
if(DEFINED STDOUT AND NOT out MATCHES "${STDOUT}")
  message(FATAL_ERROR "stdout does not match '${STDOUT}': ${shown}")
endif()
if(DEFINED STDOUT_NOT AND out MATCHES "${STDOUT_NOT}")
  message(FATAL_ERROR "stdout matches '${STDOUT_NOT}': ${shown}")
endif()
if(DEFINED STDERR AND NOT err MATCHES "${STDERR}")
  message(FATAL_ERROR "stderr does not match '${STDERR}': ${shown}")
endif()
foreach(text IN LISTS IN_STDOUT)
  string(FIND "${out}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "stdout does not mention '${text}': ${shown}")
  endif()
endforeach()
