// EX5 server library.
#include "server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace {

const size_t kShmSize = 4096;
const int kAcceptTimeoutSec = 120;

// Frees whatever the server holds, then reports the failed call and exits.
void release(const live_server_info &server) {
  if (server.client_fd >= 0) close(server.client_fd);
  if (server.server_fd >= 0) close(server.server_fd);
  if (server.shmid >= 0) shmctl(server.shmid, IPC_RMID, nullptr);
  if (!server.info_file_path.empty()) unlink(server.info_file_path.c_str());
}

[[noreturn]] void fail(const live_server_info &server, const char *what) {
  int err = errno;
  release(server);
  std::cerr << "system error: " << what << ": " << std::strerror(err) << std::endl;
  std::exit(1);
}

// The machine's address: what its hostname resolves to.
bool machine_address(in_addr &out) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return false;
  addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &res) != 0 || res == nullptr) return false;
  out = reinterpret_cast<sockaddr_in *>(res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return true;
}

}  // namespace

void start_communication(const server_setup_information &setup_info, live_server_info &server) {
  server.server_fd = -1;
  server.client_fd = -1;
  server.shmid = -1;
  server.info_file_path.clear();

  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(setup_info.port);
  if (!machine_address(addr.sin_addr)) {
    errno = EADDRNOTAVAIL;
    fail(server, "gethostname/getaddrinfo");
  }
  server.server_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (server.server_fd < 0) fail(server, "socket");
  int one = 1;
  if (setsockopt(server.server_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    fail(server, "setsockopt");
  if (bind(server.server_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
    fail(server, "bind");
  if (listen(server.server_fd, 10) != 0) fail(server, "listen");

  key_t key = ftok(setup_info.shm_pathname.c_str(), setup_info.shm_proj_id);
  if (key == -1) fail(server, "ftok");
  server.shmid = shmget(key, kShmSize, IPC_CREAT | IPC_EXCL | 0666);
  if (server.shmid < 0) fail(server, "shmget");
}

void create_info_file(const server_setup_information &setup_info, live_server_info &server) {
  sockaddr_in addr = {};
  socklen_t len = sizeof addr;
  if (getsockname(server.server_fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
    fail(server, "getsockname");
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);

  std::string path = setup_info.info_file_directory + "/" + setup_info.info_file_name;
  std::ofstream out(path.c_str());
  if (!out) fail(server, "open info file");
  server.info_file_path = path;
  out << ip << "\n"
      << ntohs(addr.sin_port) << "\n"
      << setup_info.shm_pathname << "\n"
      << setup_info.shm_proj_id << "\n";
  out.close();
  if (!out) fail(server, "write info file");
}

int get_connection(const live_server_info &server) {
  fd_set readfds;
  FD_ZERO(&readfds);
  FD_SET(server.server_fd, &readfds);
  timeval timeout = {};
  timeout.tv_sec = kAcceptTimeoutSec;
  int ready = select(server.server_fd + 1, &readfds, nullptr, nullptr, &timeout);
  if (ready <= 0) return -1;
  int fd = accept(server.server_fd, nullptr, nullptr);
  if (fd < 0) return -1;
  // The API passes the server by const reference; the accepted connection is
  // part of its state all the same.
  const_cast<live_server_info &>(server).client_fd = fd;
  return 0;
}

void write_to_socket(const live_server_info &server, const std::string &msg) {
  size_t sent = 0;
  while (sent < msg.size()) {
    ssize_t n = send(server.client_fd, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(server, "send");
    }
    sent += static_cast<size_t>(n);
  }
}

void write_to_shm(const live_server_info &server, const std::string &msg) {
  void *mem = shmat(server.shmid, nullptr, 0);
  if (mem == reinterpret_cast<void *>(-1)) fail(server, "shmat");
  size_t n = msg.size() < kShmSize - 1 ? msg.size() : kShmSize - 1;
  std::memcpy(mem, msg.data(), n);
  static_cast<char *>(mem)[n] = '\0';
  if (shmdt(mem) != 0) fail(server, "shmdt");
}

void shutdown(const live_server_info &server) {
  if (server.client_fd >= 0) {
    // Let the client read everything: wait (bounded) until it closes.
    ::shutdown(server.client_fd, SHUT_WR);
    fd_set readfds;
    FD_ZERO(&readfds);
    FD_SET(server.client_fd, &readfds);
    timeval timeout = {10, 0};
    if (select(server.client_fd + 1, &readfds, nullptr, nullptr, &timeout) > 0) {
      char buf[256];
      while (read(server.client_fd, buf, sizeof buf) > 0) {
      }
    }
    close(server.client_fd);
  }
  if (server.server_fd >= 0) close(server.server_fd);
  if (server.shmid >= 0) shmctl(server.shmid, IPC_RMID, nullptr);
  if (!server.info_file_path.empty()) unlink(server.info_file_path.c_str());
}

void run(const server_setup_information &setup_info, const std::string &shm_msg,
         const std::string &socket_msg) {
  live_server_info server;
  start_communication(setup_info, server);
  create_info_file(setup_info, server);
  write_to_shm(server, shm_msg);
  if (get_connection(server) == 0) write_to_socket(server, socket_msg);
  shutdown(server);
}
