// A server main as a student writes it against the course's server.h
// (std::string fields assigned from argv, default-initialised structs).
// Compiled and linked by link_and_run.cmake with nothing but -lserver.
#include <cstdlib>
#include <iostream>
#include <string>

#include "server.h"

int main(int argc, char *argv[]) {
  if (argc != 8) {
    std::cerr << "usage: " << argv[0] << " port shm_pathname proj_id info_name info_dir shm_msg socket_msg" << std::endl;
    return 2;
  }
  server_setup_information setup;
  setup.port = static_cast<unsigned short>(std::atoi(argv[1]));
  setup.shm_pathname = argv[2];
  setup.shm_proj_id = std::atoi(argv[3]);
  setup.info_file_name = std::string(argv[4]);
  setup.info_file_directory = argv[5];
  std::string shm_msg = argv[6];
  std::string socket_msg = argv[7];
  run(setup, shm_msg, socket_msg);
  return 0;
}
