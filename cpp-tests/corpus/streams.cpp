// Idiom family: fields and streams. Printing with width and fill, >> and
// std::getline into fields, files opened by a field's path.
#include "server.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "corpus.h"
#include "scratch_dir.h"

using corpus::ScratchDir;

int main() {
  server_setup_information setup = {8080, "/tmp", 10, "server-1.info", "/tmp/info"};

  std::ostringstream out;
  out << setup.info_file_name << '|' << std::setw(16) << setup.info_file_name << '|' << std::left
      << std::setfill('.') << std::setw(16) << setup.shm_pathname << '|';
  SHOW(out.str());
  CHECK(out.str() == "server-1.info|   server-1.info|/tmp............|");
  std::cout << "cout: " << setup.info_file_directory << "/" << setup.info_file_name << std::endl;

  std::istringstream in("alpha beta\n/tmp/dir with spaces\nk=v;last\nend");
  in >> setup.info_file_name >> setup.shm_pathname;
  SHOW(setup.info_file_name);
  SHOW(setup.shm_pathname);
  std::string rest;
  std::getline(in, rest);  // the end of the first line
  CHECK(rest.empty());
  std::getline(in, setup.info_file_directory);
  SHOW(setup.info_file_directory);
  std::getline(in, setup.info_file_name, ';');
  SHOW(setup.info_file_name);
  std::getline(in, setup.info_file_name);
  SHOW(setup.info_file_name);
  CHECK(setup.info_file_name == "last");
  std::getline(in, setup.shm_pathname);
  SHOW(setup.shm_pathname);
  CHECK(setup.shm_pathname == "end" && in.eof() && !in.fail());
  CHECK(!std::getline(in, setup.shm_pathname) && setup.shm_pathname == "end");  // nothing left: unchanged
  CHECK(!(in >> setup.info_file_name) && setup.info_file_name == "last");
  std::istringstream words("  spaced\tout  ");
  words >> std::setw(4) >> setup.shm_pathname;
  SHOW(setup.shm_pathname);
  CHECK(setup.shm_pathname == "spac");
  std::istringstream empty_line("\nnext");
  CHECK(std::getline(empty_line, setup.shm_pathname) && setup.shm_pathname.empty());

  ScratchDir dir;
  live_server_info info = {3, 4, 5, dir.path() + "/server.info"};
  dir.will_hold(info.info_file_path);
  {
    std::ofstream file(info.info_file_path);
    file << "address=127.0.0.1\nport=" << setup.port << "\nshm=" << setup.info_file_directory << "\n";
    CHECK(file.good());
  }
  std::ifstream file(info.info_file_path);
  CHECK(file.is_open());
  server_setup_information parsed = {};
  live_server_info line = {};
  while (std::getline(file, line.info_file_path)) {
    std::string::size_type eq = line.info_file_path.find('=');
    if (line.info_file_path.substr(0, eq) == "shm") parsed.shm_pathname = line.info_file_path.substr(eq + 1);
    if (line.info_file_path.compare(0, eq, "port") == 0) parsed.port = static_cast<unsigned short>(std::stoi(line.info_file_path.substr(eq + 1)));
  }
  SHOW(parsed.shm_pathname);
  SHOW(parsed.port);
  CHECK(parsed.shm_pathname == setup.info_file_directory && parsed.port == 8080);
  return corpus::result();
}
