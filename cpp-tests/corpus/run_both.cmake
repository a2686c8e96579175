# ctest corpus.<program>.<standard>: runs the program built against
# isoprobe's include/ (ISO) and the one built against the course's own
# std::string headers (COURSE). Both must pass their checks and print the
# same transcript.
# usage: cmake -DISO=<binary> -DCOURSE=<binary> -P run_both.cmake
foreach(variant ISO COURSE)
  execute_process(COMMAND "${${variant}}" RESULT_VARIABLE rc OUTPUT_VARIABLE out_${variant} ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${${variant}} failed (${rc}):\n${err}${out_${variant}}")
  endif()
endforeach()
if(NOT out_ISO STREQUAL out_COURSE)
  message(FATAL_ERROR "the transcripts differ.\n--- course headers:\n${out_COURSE}\n--- isoprobe include/:\n${out_ISO}")
endif()
string(REGEX MATCHALL "\n" lines "${out_ISO}")
list(LENGTH lines n)
message(STATUS "same ${n}-line transcript with both headers")
