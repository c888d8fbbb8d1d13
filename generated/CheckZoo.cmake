# Runs `netc --print-keys` on every zoo entry; fails the build on the first
# entry that does not elaborate. Invoked with -DNETC= -DZOO= -DSTAMP=.
execute_process(COMMAND ${NETC} --zoo ${ZOO} --list
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "netc --list failed")
endif()
string(REGEX MATCHALL "(^|\n)[^ \n]+" names "${listing}")
set(count 0)
foreach(name IN LISTS names)
  string(STRIP "${name}" name)
  execute_process(COMMAND ${NETC} --zoo ${ZOO} --entry ${name} --print-keys
                  OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
  # A net with required parameters is reached through its aliases.
  if(NOT rc EQUAL 0 AND NOT err MATCHES "missing argument")
    message(FATAL_ERROR "zoo entry '${name}' does not elaborate:\n${err}")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
file(WRITE ${STAMP} "${count} entries\n")
