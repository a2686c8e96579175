// One program using the server and the client API together (as a student's
// own test harness would): a server and a client in one process, step by
// step. Linked with -lserver -lclient in either order.
// usage: student_both DIR   (DIR: ftok path and info directory, empty)
#include <iostream>
#include <string>
#include <vector>

#include "globals.h"
#include "server.h"
#include "client.h"

int main(int argc, char *argv[]) {
  if (argc != 2) return 2;
  server_setup_information setup;
  setup.port = 0;
  setup.shm_pathname = argv[1];
  setup.shm_proj_id = 77;
  setup.info_file_name = "self";
  setup.info_file_directory = argv[1];

  live_server_info server;
  start_communication(setup, server);
  write_to_shm(server, "from-shm");
  create_info_file(setup, server);

  std::vector<live_server_info> servers;
  int n = count_servers(setup.info_file_directory, servers);
  if (get_connection(server) != 0) return 3;  // the client's connect is queued
  write_to_socket(server, "from-socket");

  std::string shm_msg, socket_msg;
  get_message_from_shm(servers[0], shm_msg);
  get_message_from_socket(servers[0], socket_msg);
  disconnect(servers);
  shutdown(server);
  std::cout << n << " " << shm_msg << " " << socket_msg << std::endl;
  return 0;
}
