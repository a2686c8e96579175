// Both libraries in one program: a server publishes itself in DIR and the
// client finds it there as a host server (segment attached, socket
// connected), reads the segment's message, disconnects; the server shuts down.
// usage: both_app DIR   prints "<servers found> <host|not-host> <shm message>"
#include <iostream>
#include <string>
#include <vector>

#include "client.h"
#include "server.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: both_app DIR\n";
    return 2;
  }
  server_setup_information setup = {};
  setup.shm_pathname = argv[1];
  setup.shm_proj_id = 43;
  setup.info_file_name = "both_app.info";
  setup.info_file_directory = argv[1];
  live_server_info server;
  start_communication(setup, server);
  create_info_file(setup, server);
  write_to_shm(server, "from-both-app");

  std::vector<live_server_info> found;
  int n = count_servers(argv[1], found);
  bool host = n == 1 && found[0].shmid != -1 && found[0].client_fd != -1;
  std::string msg;
  if (n == 1 && found[0].shmid != -1) get_message_from_shm(found[0], msg);
  disconnect(found);
  shutdown(server);
  std::cout << n << ' ' << (host ? "host" : "not-host") << ' ' << msg << '\n';
  return 0;
}
