// A client program written against the course's C++ API: run(directory).
// usage: course_client INFO_DIR
#include <iostream>

#include "client.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " INFO_DIR\n";
    return 2;
  }
  run(argv[1]);
  return 0;
}
