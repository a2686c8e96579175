# ctest headers.fresh: fails when a committed header in include/ differs from
# the one build.rs generated in this build (CMake builds with
# ISOPROBE_HEADERS=generate, so include/ itself is never rewritten).
# usage: cmake -DCOMMITTED=<include dir> -DGENERATED=<generated-include dir> -P headers_fresh.cmake
set(stale "")
foreach(h globals.h server.h client.h)
  if(NOT EXISTS "${GENERATED}/${h}")
    message(FATAL_ERROR "${GENERATED}/${h} does not exist: build the project (cargo) first")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${COMMITTED}/${h}" "${GENERATED}/${h}"
                  RESULT_VARIABLE differs)
  if(differs)
    list(APPEND stale "${h}")
  endif()
endforeach()
# One spelling per C type: the typedef name, never `struct X` / `enum X`
# outside the typedef that declares it.
foreach(h globals.h server.h client.h)
  file(STRINGS "${COMMITTED}/${h}" tagged
       REGEX "(struct|enum) (isoprobe_string|live_server_info|isoprobe_error|isoprobe_status|server_setup_information)([^A-Za-z0-9_]|$)")
  list(FILTER tagged EXCLUDE REGEX "^typedef ")
  if(tagged)
    message(FATAL_ERROR "${h} spells a type with its tag: ${tagged}")
  endif()
endforeach()
if(stale)
  list(JOIN stale ", " names)
  message(FATAL_ERROR "include/ is stale (${names} differ from what build.rs generates in ${GENERATED}): "
                      "run `make` and commit include/")
endif()
message(STATUS "include/globals.h, server.h, client.h match the generated headers")
