# Install rules, included by the top-level CMakeLists.txt when ISOPROBE_INSTALL
# is ON. Installs under the prefix:
#   include/                globals.h server.h client.h (the course's names)
#   lib/                    libserver.a libclient.a (the one Rust archive, twice)
#   bin/                    isoprobe-server isoprobe-client
#   share/man/man1/         isoprobe-server.1 isoprobe-client.1
#   share/bash-completion/completions/, share/zsh/site-functions/,
#   share/fish/vendor_completions.d/: their shell completions
#   lib/cmake/isoprobe/     isoprobeConfig.cmake (+ version): find_package(isoprobe)
#   lib/pkgconfig/          isoprobe-server.pc isoprobe-client.pc
# (lib is CMAKE_INSTALL_LIBDIR, e.g. lib/x86_64-linux-gnu for a /usr prefix.)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The archives as the course names them, without debug info: the cargo
# archive carries the debug info of Rust's standard library (about 40% of its
# size), which a consumer of a release library does not need. The build tree
# keeps linking the unstripped archive.
set(ISOPROBE_ARCHIVES "${CMAKE_CURRENT_BINARY_DIR}/libserver.a" "${CMAKE_CURRENT_BINARY_DIR}/libclient.a")
if(CMAKE_OBJCOPY)
  set(isoprobe_copy_archive "${CMAKE_OBJCOPY}" --strip-debug --enable-deterministic-archives)
else()
  set(isoprobe_copy_archive "${CMAKE_COMMAND}" -E copy)
endif()
# Written under a temporary name and renamed, so an interrupted build never
# leaves a truncated archive that looks up to date.
add_custom_command(
  OUTPUT ${ISOPROBE_ARCHIVES}
  COMMAND ${isoprobe_copy_archive} "${ISOPROBE_RUST_LIB}" libserver.a.tmp
  COMMAND "${CMAKE_COMMAND}" -E copy libserver.a.tmp libclient.a.tmp
  COMMAND "${CMAKE_COMMAND}" -E rename libserver.a.tmp libserver.a
  COMMAND "${CMAKE_COMMAND}" -E rename libclient.a.tmp libclient.a
  DEPENDS "${ISOPROBE_RUST_LIB}"
  WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
  COMMENT "libserver.a, libclient.a (isoprobe archive without debug info)"
  VERBATIM)
add_custom_target(isoprobe_archives ALL DEPENDS ${ISOPROBE_ARCHIVES})
add_dependencies(isoprobe_archives isoprobe_cargo)

install(FILES
  "${ISOPROBE_INCLUDE_DIR}/globals.h" "${ISOPROBE_INCLUDE_DIR}/server.h" "${ISOPROBE_INCLUDE_DIR}/client.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES ${ISOPROBE_ARCHIVES} DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(PROGRAMS ${ISOPROBE_PROGRAMS} DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Man pages and completions, written by isoprobe-docgen from the programs'
# own command-line definitions (so they match --help), laid out below
# share/ as they are installed.
set(ISOPROBE_SHARE "${CMAKE_CURRENT_BINARY_DIR}/share")
set(ISOPROBE_MAN_PAGES "${ISOPROBE_SHARE}/man/man1/isoprobe-server.1" "${ISOPROBE_SHARE}/man/man1/isoprobe-client.1")
set(ISOPROBE_COMPLETIONS)
foreach(program IN ITEMS isoprobe-server isoprobe-client)
  list(APPEND ISOPROBE_COMPLETIONS
    "${ISOPROBE_SHARE}/bash-completion/completions/${program}"
    "${ISOPROBE_SHARE}/zsh/site-functions/_${program}"
    "${ISOPROBE_SHARE}/fish/vendor_completions.d/${program}.fish")
endforeach()
add_custom_command(
  OUTPUT ${ISOPROBE_MAN_PAGES} ${ISOPROBE_COMPLETIONS}
  COMMAND "${ISOPROBE_DOCGEN}" "${ISOPROBE_SHARE}"
  DEPENDS "${ISOPROBE_DOCGEN}"
  COMMENT "man pages and shell completions of isoprobe-server, isoprobe-client"
  VERBATIM)
add_custom_target(isoprobe_docs ALL DEPENDS ${ISOPROBE_MAN_PAGES} ${ISOPROBE_COMPLETIONS})
add_dependencies(isoprobe_docs isoprobe_cargo)
install(FILES ${ISOPROBE_MAN_PAGES} DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(DIRECTORY "${ISOPROBE_SHARE}/bash-completion" "${ISOPROBE_SHARE}/zsh" "${ISOPROBE_SHARE}/fish"
        DESTINATION "${CMAKE_INSTALL_DATADIR}")

# CMake package: imported targets isoprobe::server / isoprobe::client (and
# server / client), relocatable (paths relative to the installed file).
set(ISOPROBE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/isoprobe")
configure_package_config_file(
  "${CMAKE_CURRENT_SOURCE_DIR}/cmake/isoprobeConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/isoprobeConfig.cmake"
  INSTALL_DESTINATION "${ISOPROBE_CMAKE_INSTALL_DIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# 0.x: a new minor version may change the interface.
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/isoprobeConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/isoprobeConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/isoprobeConfigVersion.cmake"
  DESTINATION "${ISOPROBE_CMAKE_INSTALL_DIR}")

# pkg-config: prefix relative to the .pc file (${pcfiledir}), so
# `cmake --install --prefix` and DESTDIR give working files.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ISOPROBE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH isoprobe_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" isoprobe_up "${isoprobe_up}")
  set(ISOPROBE_PC_PREFIX "\${pcfiledir}/${isoprobe_up}")
endif()
foreach(kind INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(ISOPROBE_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(ISOPROBE_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
set(ISOPROBE_PC_NATIVE_LIBS "-lpthread")
foreach(lib IN LISTS ISOPROBE_NATIVE_LIBS)
  string(APPEND ISOPROBE_PC_NATIVE_LIBS " -l${lib}")
endforeach()
foreach(ISOPROBE_PC_LIBRARY IN ITEMS server client)
  configure_file("${CMAKE_CURRENT_SOURCE_DIR}/cmake/isoprobe.pc.in"
                 "${CMAKE_CURRENT_BINARY_DIR}/isoprobe-${ISOPROBE_PC_LIBRARY}.pc" @ONLY)
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/isoprobe-${ISOPROBE_PC_LIBRARY}.pc"
          DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endforeach()
