// A server program written against the course's C++ API exactly as a student
// would: run(setup, shm_msg, socket_msg).
// usage: course_server PORT SHM_PATHNAME PROJ_ID INFO_FILE_NAME INFO_DIR SHM_MSG SOCKET_MSG
#include <cstdlib>
#include <iostream>

#include "server.h"

int main(int argc, char **argv) {
  if (argc != 8) {
    std::cerr << "usage: " << argv[0]
              << " PORT SHM_PATHNAME PROJ_ID INFO_FILE_NAME INFO_DIR SHM_MSG SOCKET_MSG\n";
    return 2;
  }
  server_setup_information setup = {};
  setup.port = static_cast<unsigned short>(std::atoi(argv[1]));
  setup.shm_pathname = argv[2];
  setup.shm_proj_id = std::atoi(argv[3]);
  setup.info_file_name = argv[4];
  setup.info_file_directory = argv[5];
  run(setup, argv[6], argv[7]);
  return 0;
}
