// Idiom family: a field where a std::string is expected. Function
// arguments by value and by const reference, return values, std::string_view,
// std::filesystem::path, std::stoi, containers and pairs of std::string.
#include "server.h"

#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>
#if __cplusplus >= 201703L
#include <filesystem>
#include <string_view>
#endif

#include "corpus.h"

static std::string by_value(std::string s) { return s + "!"; }
static std::size_t by_const_ref(const std::string &s) { return s.size(); }
static std::string name_of(const server_setup_information &setup) { return setup.info_file_name; }
#if __cplusplus >= 201703L
static std::string_view first_four(std::string_view s) { return s.substr(0, 4); }
#endif

int main() {
  server_setup_information setup = {8080, "/tmp", 10, "server-1.info", "/tmp/info"};
  live_server_info info = {3, 4, 5, "/tmp/info/server-1.info"};

  SHOW(by_value(setup.info_file_name));
  SHOW(by_const_ref(setup.info_file_directory));
  SHOW(name_of(setup));
  std::string copied = info.info_file_path;
  std::string direct(info.info_file_path);
  std::string braced{info.info_file_path};
  std::string cast = static_cast<std::string>(info.info_file_path);
  std::string assigned;
  assigned = setup.shm_pathname;
  const std::string &bound = setup.info_file_directory;
  CHECK(copied == direct && direct == braced && braced == cast && cast == "/tmp/info/server-1.info");
  CHECK(assigned == "/tmp" && bound == "/tmp/info");
  SHOW(copied.find(setup.info_file_name));
  CHECK(copied.compare(info.info_file_path) == 0);
  CHECK(std::strcmp(info.info_file_path.c_str(), copied.c_str()) == 0 && std::strlen(info.info_file_path.c_str()) == 23);
  CHECK(std::string(setup.info_file_name.data(), setup.info_file_name.size()) == "server-1.info");

  live_server_info port_text = {0, 0, 0, "8080"};
  SHOW(std::stoi(port_text.info_file_path) + 1);
  SHOW(std::stoul(port_text.info_file_path));
  SHOW(std::to_string(setup.port) + setup.info_file_name);

  std::vector<std::string> names{setup.info_file_name, "literal"};
  names.push_back(setup.shm_pathname);
  names.emplace_back(info.info_file_path);
  names.insert(names.begin(), setup.info_file_directory);
  for (const std::string &n : names) SHOW(n);
  std::pair<std::string, int> entry(setup.info_file_name, setup.shm_proj_id);
  SHOW(entry.first);
  std::map<std::string, std::string> kv;
  kv[setup.info_file_name] = setup.info_file_directory;
  kv.emplace(setup.shm_pathname, info.info_file_path);
  kv.insert({info.info_file_path, "x"});
  for (const auto &e : kv) std::cout << e.first << " = " << e.second << "\n";

#if __cplusplus >= 201703L
  std::string_view view = info.info_file_path;
  std::string_view direct_view(setup.info_file_directory);
  SHOW(view.substr(view.rfind('/') + 1));
  SHOW(direct_view.size());
  SHOW(first_four(setup.info_file_name));
  CHECK(view == copied && direct_view == "/tmp/info");
  std::string from_view(view);
  CHECK(from_view == info.info_file_path);

  std::filesystem::path path(info.info_file_path);
  SHOW(path.filename().string());
  SHOW(path.parent_path().string());
  SHOW(path.extension().string());
  SHOW((std::filesystem::path(setup.info_file_directory) / "x.info").string());
  CHECK(path.parent_path() == std::filesystem::path(setup.info_file_directory));
#endif
  return corpus::result();
}
