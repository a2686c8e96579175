// EX5 client library.
#include "client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace {

const int kConnectTimeoutSec = 5;

[[noreturn]] void fail(const char *what) {
  int err = errno;
  std::cerr << "system error: " << what << ": " << std::strerror(err) << std::endl;
  std::exit(1);
}

// A connected socket to ip:port, or -1 when the server cannot be reached
// within the timeout.
int connect_with_timeout(const std::string &ip, int port) {
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<unsigned short>(port));
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail("fcntl");
  fd_set writefds;
  FD_ZERO(&writefds);
  FD_SET(fd, &writefds);
  timeval timeout = {};
  timeout.tv_sec = kConnectTimeoutSec;
  if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return -1;
    }
    int ready = select(fd + 1, nullptr, &writefds, nullptr, &timeout);
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      return -1;
    }
  }
  if (fcntl(fd, F_SETFL, flags) != 0) fail("fcntl");
  return fd;
}

}  // namespace

int count_servers(const std::string &client_files_directory, std::vector<live_server_info> &servers) {
  DIR *dir = opendir(client_files_directory.c_str());
  if (dir == nullptr) fail("opendir");
  std::vector<std::string> names;
  errno = 0;
  while (dirent *entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = client_files_directory + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());

  int found = 0;
  for (const std::string &name : names) {
    std::string path = client_files_directory + "/" + name;
    std::ifstream in(path.c_str());
    std::string ip, pathname;
    int port = 0, proj_id = 0;
    in >> ip >> port >> pathname >> proj_id;

    live_server_info server;
    server.server_fd = -1;
    server.info_file_path = path;
    key_t key = ftok(pathname.c_str(), proj_id);
    server.shmid = key == -1 ? -1 : shmget(key, 0, 0);
    if (server.shmid < 0) server.shmid = -1;
    server.client_fd = connect_with_timeout(ip, port);
    servers.push_back(server);
    ++found;
  }
  return found;
}

void get_message_from_socket(live_server_info &server, std::string &msg) {
  msg.clear();
  char buf[1024];
  for (;;) {
    ssize_t n = read(server.client_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read");
    }
    if (n == 0) break;
    msg.append(buf, static_cast<size_t>(n));
  }
}

void get_message_from_shm(live_server_info &server, std::string &msg) {
  void *mem = shmat(server.shmid, nullptr, SHM_RDONLY);
  if (mem == reinterpret_cast<void *>(-1)) fail("shmat");
  msg = static_cast<const char *>(mem);
  if (shmdt(mem) != 0) fail("shmdt");
}

void print_server_infos(const std::vector<live_server_info> &servers) {
  int host = 0, container = 0, vm = 0;
  std::vector<std::string> messages;
  for (const live_server_info &s : servers) {
    live_server_info server = s;
    bool shm = server.shmid != -1;
    bool sock = server.client_fd != -1;
    if (shm && sock) {
      ++host;
    } else if (sock) {
      ++container;
    } else {
      ++vm;
    }
    std::string msg;
    if (shm) {
      get_message_from_shm(server, msg);
      messages.push_back(msg);
    }
    if (sock) {
      get_message_from_socket(server, msg);
      messages.push_back(msg);
    }
  }
  std::cout << "Total Servers: " << servers.size() << "\n"
            << "Host: " << host << "\n"
            << "Container: " << container << "\n"
            << "VM: " << vm << "\n"
            << "Messages:";
  for (const std::string &m : messages) std::cout << " " << m;
  std::cout << std::endl;
}

void disconnect(const std::vector<live_server_info> &servers) {
  for (const live_server_info &server : servers) {
    if (server.client_fd >= 0) close(server.client_fd);
  }
}

void run(const std::string &client_files_directory) {
  std::vector<live_server_info> servers;
  count_servers(client_files_directory, servers);
  print_server_infos(servers);
  disconnect(servers);
}
