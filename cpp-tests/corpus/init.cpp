// Idiom family: building the structs. Aggregate initialisation from
// std::string and literals, default construction, assignment from every
// string type, copies of whole structs, containers of them.
#include "server.h"

#include <string>
#include <utility>
#include <vector>
#if __cplusplus >= 201703L
#include <string_view>
#endif

#include "corpus.h"

static server_setup_information make_setup(const std::string &dir, const char *name) {
  server_setup_information s = {8080, dir, 10, name, dir + "/info"};
  return s;
}

int main() {
  std::string path = "/tmp", name = "server-1.info", dir = "/tmp/info";
  server_setup_information a = {8080, path, 10, name, dir};
  SHOW(a.port);
  SHOW(a.shm_pathname);
  SHOW(a.info_file_name);
  SHOW(a.info_file_directory);
  CHECK(a.shm_pathname == path && a.info_file_name == name && a.info_file_directory == dir);

  server_setup_information b = {9090, "/etc", 20, "b.info", "/var/tmp"};
  CHECK(b.shm_pathname == "/etc" && b.info_file_name == "b.info" && b.shm_proj_id == 20);

  server_setup_information defaulted;
  CHECK(defaulted.shm_pathname.empty() && defaulted.info_file_name.empty() && defaulted.info_file_directory.size() == 0);
  server_setup_information partly{};
  partly.port = 80;
  CHECK(partly.port == 80 && partly.shm_pathname.empty() && partly.info_file_directory.empty());
  live_server_info empty_info{};
  CHECK(empty_info.info_file_path.empty() && empty_info.server_fd == 0);
  live_server_info info = {3, 4, 5, dir + "/" + name};
  SHOW(info.info_file_path);

  char buffer[] = "/from/a/char/array";
  char *argv_like = buffer;
  a.shm_pathname = argv_like;
  a.info_file_name = std::string("assigned.info");
  a.info_file_directory = a.shm_pathname;  // field to field
  a.shm_pathname = a.shm_pathname;         // self-assignment
  SHOW(a.shm_pathname);
  SHOW(a.info_file_name);
  SHOW(a.info_file_directory);
  b.info_file_name = 'x';
  SHOW(b.info_file_name);
  CHECK(b.info_file_name.size() == 1);
#if __cplusplus >= 201703L
  std::string_view view = "/srv/from-a-view";
  b.info_file_directory = view;
  CHECK(b.info_file_directory == "/srv/from-a-view");
#endif
  b.info_file_name.assign("assigned");
  b.shm_pathname.assign(path);
  CHECK(b.info_file_name == "assigned" && b.shm_pathname == path);
  info.info_file_path.clear();
  CHECK(info.info_file_path.empty());

  server_setup_information copy = a;
  copy.info_file_name = "changed.info";
  CHECK(a.info_file_name == "assigned.info" && copy.info_file_name == "changed.info");
  copy = make_setup("/opt", "made.info");
  SHOW(copy.info_file_directory);
  CHECK(copy.info_file_directory == "/opt/info");

  std::swap(a.info_file_name, copy.info_file_name);
  a.shm_pathname.swap(copy.shm_pathname);
  SHOW(a.info_file_name);
  SHOW(a.shm_pathname);
  CHECK(a.info_file_name == "made.info" && copy.info_file_name == "assigned.info");

  std::vector<server_setup_information> setups;
  for (int i = 0; i < 3; ++i) setups.push_back(make_setup("/d" + std::to_string(i), "s.info"));
  std::vector<live_server_info> servers(2);
  servers[1].info_file_path = setups[2].info_file_directory;
  CHECK(servers[0].info_file_path.empty());
  SHOW(servers[1].info_file_path);
  SHOW(setups.back().info_file_directory);
  return corpus::result();
}
