// Course-style server code (the C++ API of server.h): set up, publish the
// info file, write the segment, print the info file, shut down.
// usage: server_app DIR   (DIR is both the ftok path and the info directory)
#include <fstream>
#include <iostream>
#include <sstream>

#include "server.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: server_app DIR\n";
    return 2;
  }
  server_setup_information setup = {};
  setup.port = 0;
  setup.shm_pathname = argv[1];
  setup.shm_proj_id = 42;
  setup.info_file_name = "server_app.info";
  setup.info_file_directory = argv[1];
  live_server_info server;
  start_communication(setup, server);
  create_info_file(setup, server);
  write_to_shm(server, "from-server-app");
  std::ifstream in(server.info_file_path);
  std::stringstream content;
  content << in.rdbuf();
  std::cout << content.str();
  shutdown(server);
  return 0;
}
