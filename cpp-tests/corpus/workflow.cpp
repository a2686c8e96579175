// Idiom family: the fields around the course's own calls. A server is set
// up from fields built with std::string idioms, publishes its info file, and
// a client in the same process finds it; the paths and messages the library
// reports are taken apart with the same idioms. Against the course headers
// the calls go through shim_course.cpp to the same library.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "client.h"
#include "server.h"

#include "corpus.h"
#include "scratch_dir.h"

using corpus::ScratchDir;

int main() {
  ScratchDir dir;
  server_setup_information setup;
  setup.port = 0;
  setup.shm_pathname = dir.path();
  setup.shm_proj_id = 'w';
  setup.info_file_name = "server-" + std::to_string(1);
  setup.info_file_name += ".info";
  setup.info_file_directory = dir.path();

  live_server_info server;
  start_communication(setup, server);
  create_info_file(setup, server);
  std::string expected = setup.info_file_directory + "/" + setup.info_file_name;
  CHECK(server.info_file_path == expected);
  SHOW(server.info_file_path.substr(server.info_file_path.rfind('/') + 1));
  SHOW(server.info_file_path.size() - setup.info_file_directory.size());
  CHECK(server.info_file_path.compare(0, setup.info_file_directory.size(), setup.info_file_directory) == 0);

  std::ifstream info(server.info_file_path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(info, line);) lines.push_back(line);
  SHOW(lines.size());
  CHECK(lines.size() == 4 && lines[2] == setup.shm_pathname && lines[3] == std::to_string(setup.shm_proj_id));

  write_to_shm(server, "hello from " + setup.info_file_name);
  std::vector<live_server_info> servers;
  int found = count_servers(setup.info_file_directory, servers);
  SHOW(found);
  CHECK(found == 1 && servers.size() == 1);
  if (!servers.empty()) {
    CHECK(servers[0].info_file_path == server.info_file_path);
    std::string msg;
    get_message_from_shm(servers[0], msg);
    SHOW(msg);
    CHECK(msg == "hello from server-1.info" && msg.find(setup.info_file_name) != std::string::npos);
  }
  disconnect(servers);
  shutdown(server);
  CHECK(!std::ifstream(expected).is_open());
  return corpus::result();
}
