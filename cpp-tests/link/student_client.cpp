// A client main as a student writes it against the course's client.h: the
// steps spelled out, or run(dir). Linked with nothing but -lclient.
#include <iostream>
#include <string>
#include <vector>

#include "client.h"

int main(int argc, char *argv[]) {
  if (argc == 2) {
    run(argv[1]);
    return 0;
  }
  if (argc == 3 && std::string(argv[1]) == "--steps") {
    std::vector<live_server_info> servers;
    int n = count_servers(argv[2], servers);
    print_server_infos(servers);
    disconnect(servers);
    std::cout << "count_servers returned " << n << std::endl;
    return 0;
  }
  std::cerr << "usage: " << argv[0] << " [--steps] info_dir" << std::endl;
  return 2;
}
