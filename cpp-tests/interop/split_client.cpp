// A client written against the course's C++ API the long way, as many
// students write it: count_servers, print_server_infos, disconnect.
// usage: split_client INFO_DIR
#include <iostream>
#include <vector>

#include "client.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " INFO_DIR\n";
    return 2;
  }
  std::vector<live_server_info> servers;
  count_servers(argv[1], servers);
  print_server_infos(servers);
  disconnect(servers);
  return 0;
}
