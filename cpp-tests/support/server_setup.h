// Building a server_setup_information, for the suites that drive the server
// API directly. Header-only because it needs the library's server.h, which the
// gtest-free isoprobe_test_util does not depend on.
#pragma once

#include <string>

#include "server.h"

namespace isoprobe_test {

/// A setup holding copies of the arguments (a string too long for
/// isoprobe_string throws std::length_error); port 0 lets the kernel choose.
inline server_setup_information make_setup(const std::string &shm_pathname, int proj_id, const std::string &name,
                                           const std::string &dir, unsigned short port = 0) {
  server_setup_information s = {};
  s.port = port;
  s.shm_pathname = shm_pathname;
  s.shm_proj_id = proj_id;
  s.info_file_name = name;
  s.info_file_directory = dir;
  return s;
}

}  // namespace isoprobe_test
