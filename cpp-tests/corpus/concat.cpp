// Idiom family: building paths and messages from the fields with +, += and
// the appending members.
#include "server.h"

#include <string>
#if __cplusplus >= 201703L
#include <string_view>
#endif

#include "corpus.h"

int main() {
  server_setup_information setup = {8080, "/tmp", 10, "server-1.info", "/tmp/info"};
  live_server_info info = {3, 4, 5, "/tmp/info/other.info"};

  std::string path = setup.info_file_directory + "/" + setup.info_file_name;
  SHOW(path);
  CHECK(path == "/tmp/info/server-1.info");
  SHOW("prefix-" + setup.info_file_name);
  SHOW(setup.info_file_name + std::string(".bak"));
  SHOW(std::string("dir/") + setup.info_file_name);
  SHOW(setup.info_file_name + '~');
  SHOW('/' + setup.info_file_name);
  SHOW(setup.info_file_directory + setup.info_file_name);
  SHOW(setup.info_file_directory + info.info_file_path);
  std::string msg = "server " + std::to_string(setup.port) + " writes " + setup.info_file_directory + '/' +
                    setup.info_file_name + " and keys " + setup.shm_pathname;
  SHOW(msg);
  CHECK(msg == "server 8080 writes /tmp/info/server-1.info and keys /tmp");

  std::string acc;
  acc += setup.info_file_directory;
  acc += ',';
  acc += info.info_file_path;
  acc.append(setup.shm_pathname);
  SHOW(acc);
  CHECK(acc == "/tmp/info,/tmp/info/other.info/tmp");

  setup.info_file_name += ".tmp";
  setup.info_file_name += std::string("-2");
  setup.info_file_name += '~';
  setup.info_file_name += setup.shm_pathname;  // another field
#if __cplusplus >= 201703L
  setup.info_file_name += std::string_view("|view");
#else
  setup.info_file_name += "|view";
#endif
  SHOW(setup.info_file_name);
  CHECK(setup.info_file_name == "server-1.info.tmp-2~/tmp|view");

  setup.info_file_directory = setup.info_file_directory + "/sub";
  setup.info_file_directory.append("/deeper");
  setup.info_file_directory.append(std::string("/x"));
  setup.info_file_directory.append("/yyyy", 2);
  SHOW(setup.info_file_directory);
  CHECK(setup.info_file_directory == "/tmp/info/sub/deeper/x/y");

  setup.shm_pathname.push_back('/');
  setup.shm_pathname.push_back('k');
  SHOW(setup.shm_pathname);
  setup.shm_pathname.pop_back();
  SHOW(setup.shm_pathname);
  setup.shm_pathname.resize(2);
  SHOW(setup.shm_pathname);
  setup.shm_pathname.resize(5, 'z');
  SHOW(setup.shm_pathname);
  CHECK(setup.shm_pathname == "/tzzz" && setup.shm_pathname.size() == 5);
  setup.shm_pathname.clear();
  setup.shm_pathname += "again";
  CHECK(setup.shm_pathname == "again");
  return corpus::result();
}
