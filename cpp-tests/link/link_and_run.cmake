# ctest link.*: a program written against the course headers compiles
# unchanged and links with the course's flags only (-L<dir> -lserver and/or
# -lclient, in the given order), against copies of the Rust archive named
# libserver.a / libclient.a as `make` leaves them. Then it runs.
#
# usage: cmake -DCXX=<compiler> -DCXXFLAGS="<flags>" -DINCLUDE_DIR=<include/> -DRUST_LIB=<libisoprobe.a>
#              -DSOURCE=<main.cpp> -DLIBS="server;client" -DWORK=<scratch dir> -DCHECK=<server|client|both>
#              -P link_and_run.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/lib" "${WORK}/run")
foreach(name server client)
  execute_process(COMMAND ${CMAKE_COMMAND} -E copy "${RUST_LIB}" "${WORK}/lib/lib${name}.a" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "cannot copy ${RUST_LIB}")
  endif()
endforeach()

set(link_flags "-L${WORK}/lib")
foreach(lib IN LISTS LIBS)
  list(APPEND link_flags "-l${lib}")
endforeach()
separate_arguments(flags UNIX_COMMAND "${CXXFLAGS}")
set(program "${WORK}/program")
execute_process(COMMAND "${CXX}" ${flags} "-I${INCLUDE_DIR}" "${SOURCE}" -o "${program}" ${link_flags}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REPLACE ";" " " shown "${CXX} ${flags} -I${INCLUDE_DIR} ${SOURCE} -o ${program} ${link_flags}")
if(rc)
  message(FATAL_ERROR "compiling/linking failed:\n${shown}\n${out}")
endif()
message(STATUS "built: ${shown}")

# Runs the program; sets rc, out, err.
macro(run_program)
  execute_process(COMMAND "${program}" ${ARGN} TIMEOUT 30
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endmacro()
macro(expect what actual expected)
  if(NOT "${actual}" STREQUAL "${expected}")
    message(FATAL_ERROR "${what}: expected [${expected}], got [${actual}]")
  endif()
endmacro()

if(CHECK STREQUAL "server")
  # The course's error contract, from a linked student program.
  run_program(0 "${WORK}/no-such-path" 5 srv.info "${WORK}/run" shm sock)
  expect("exit code" "${rc}" "1")
  expect("stderr" "${err}" "system error: ftok: No such file or directory\n")
  expect("stdout" "${out}" "")
elseif(CHECK STREQUAL "client")
  set(empty_summary "Total Servers: 0\nHost: 0\nContainer: 0\nVM: 0\nMessages:\n")
  run_program("${WORK}/run")
  expect("exit code" "${rc}" "0")
  expect("stdout" "${out}" "${empty_summary}")
  expect("stderr" "${err}" "")
  run_program(--steps "${WORK}/run")
  expect("exit code" "${rc}" "0")
  expect("stdout" "${out}" "${empty_summary}count_servers returned 0\n")
elseif(CHECK STREQUAL "both")
  run_program("${WORK}/run")
  expect("exit code" "${rc}" "0")
  expect("stdout" "${out}" "1 from-shm from-socket\n")
  expect("stderr" "${err}" "")
  file(GLOB left "${WORK}/run/*" "${WORK}/run/.*")
  expect("files left in the info dir" "${left}" "")
else()
  message(FATAL_ERROR "CHECK must be server, client or both")
endif()
file(REMOVE_RECURSE "${WORK}")
