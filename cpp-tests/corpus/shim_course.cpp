// The course side of the shim (see shim.h): the course's functions over its
// own std::string structs, as a course library would define them. On failure
// the server's resources are freed and the process exits with 1, as the
// course asks.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client.h"
#include "server.h"
#include "shim.h"

namespace {
shim_setup to_shim(const server_setup_information &s) {
  return shim_setup{s.port, s.shm_pathname.c_str(), s.shm_proj_id, s.info_file_name.c_str(),
                    s.info_file_directory.c_str()};
}

shim_server to_shim(const live_server_info &in) {
  shim_server out = {in.server_fd, in.client_fd, in.shmid, {}};
  if (in.info_file_path.size() >= sizeof out.info_file_path) std::exit(1);
  std::memcpy(out.info_file_path, in.info_file_path.c_str(), in.info_file_path.size() + 1);
  return out;
}

void from_shim(const shim_server &in, live_server_info &out) {
  out.server_fd = in.server_fd;
  out.client_fd = in.client_fd;
  out.shmid = in.shmid;
  out.info_file_path = in.info_file_path;
}

[[noreturn]] void fail_server(shim_server &s) {
  shim_shutdown(&s);
  std::exit(1);
}

void add_server(void *context, const shim_server *server) {
  live_server_info info;
  from_shim(*server, info);
  static_cast<std::vector<live_server_info> *>(context)->push_back(info);
}
}  // namespace

void start_communication(const server_setup_information &setup_info, live_server_info &server) {
  shim_setup setup = to_shim(setup_info);
  shim_server s;
  if (shim_start_communication(&setup, &s) != 0) std::exit(1);
  from_shim(s, server);
}

void create_info_file(const server_setup_information &setup_info, live_server_info &server) {
  shim_setup setup = to_shim(setup_info);
  shim_server s = to_shim(server);
  if (shim_create_info_file(&setup, &s) != 0) fail_server(s);
  from_shim(s, server);
}

void write_to_shm(const live_server_info &server, const std::string &msg) {
  shim_server s = to_shim(server);
  if (shim_write_to_shm(&s, msg.c_str()) != 0) fail_server(s);
}

void shutdown(const live_server_info &server) {
  shim_server s = to_shim(server);
  if (shim_shutdown(&s) != 0) std::exit(1);
}

int count_servers(const std::string &client_files_directory, std::vector<live_server_info> &servers) {
  std::size_t before = servers.size();
  if (shim_count_servers(client_files_directory.c_str(), add_server, &servers) != 0) std::exit(1);
  return static_cast<int>(servers.size() - before);
}

void get_message_from_shm(live_server_info &server, std::string &msg) {
  std::vector<char> buf(SHIM_PATH_CAPACITY + 1);
  shim_server s = to_shim(server);
  if (shim_get_message_from_shm(&s, buf.data(), buf.size()) != 0) std::exit(1);
  msg = buf.data();
}

void disconnect(const std::vector<live_server_info> &servers) {
  std::vector<shim_server> s;
  for (const live_server_info &info : servers) s.push_back(to_shim(info));
  if (shim_disconnect(s.data(), s.size()) != 0) std::exit(1);
}
