// Helpers of the core suites (server API, client API, error contract,
// workflow): building setups, looking at sockets and segments from the
// outside, capturing stdout, and a server driven step by step through the C
// API that is always shut down.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "client.h"
#include "server.h"
#include "server_setup.h"
#include "test_support.h"

namespace core_test {

using isoprobe_test::all_entries;
using isoprobe_test::info_text;
using isoprobe_test::make_setup;

/// A live_server_info holding nothing (what shutdown leaves behind).
inline live_server_info empty_info() {
  live_server_info info = {};
  info.server_fd = info.client_fd = info.shmid = -1;
  return info;
}

inline key_t key_of(const std::string &path, int proj_id) { return ftok(path.c_str(), proj_id); }

/// errno of `shmget(key, 0, 0)` (never creates); 0 when the segment exists.
inline int segment_lookup_errno(key_t key) {
  errno = 0;
  return shmget(key, 0, 0) == -1 ? errno : 0;
}

inline bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

inline bool is_listening_socket(int fd) {
  int val = 0;
  socklen_t len = sizeof val;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val == 1;
}

inline sockaddr_in local_address(int fd) {
  sockaddr_in a = {};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    throw std::runtime_error(std::string("getsockname: ") + std::strerror(errno));
  return a;
}

inline sockaddr_in peer_address(int fd) {
  sockaddr_in a = {};
  socklen_t len = sizeof a;
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    throw std::runtime_error(std::string("getpeername: ") + std::strerror(errno));
  return a;
}

inline std::string ip_of(const sockaddr_in &a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return buf;
}

inline unsigned short port_of(const sockaddr_in &a) { return ntohs(a.sin_port); }

/// A blocking TCP connection to `a`; -1 on failure.
inline int connect_to(const sockaddr_in &a) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

/// A loopback TCP port that refuses connections for as long as the returned
/// socket is open: bound, never listening (the kernel answers with RST).
inline int refusing_port(unsigned short &port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  port = port_of(local_address(s));
  return s;
}

/// Reads `fd` until end-of-stream; false when `timeout_ms` passed without it.
inline bool read_to_eof(int fd, std::string &out, int timeout_ms) {
  char buf[16384];
  for (;;) {
    pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return false;
    if (got == 0) return true;
    out.append(buf, static_cast<size_t>(got));
  }
}

/// What `f` wrote on stdout (C stdio and std::cout): fd 1 points to a pipe
/// while it runs. The output must fit the pipe (64 KiB); the summaries do.
inline std::string capture_stdout(const std::function<void()> &f) {
  std::cout.flush();
  std::fflush(stdout);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  int saved = dup(1);
  dup2(p[1], 1);
  close(p[1]);
  f();
  std::cout.flush();
  std::fflush(stdout);
  dup2(saved, 1);
  close(saved);
  std::string out;
  read_to_eof(p[0], out, 1000);
  close(p[0]);
  return out;
}

/// A server driven step by step through the C API; shut down on destruction
/// (shutdown is idempotent, so tests may shut it down themselves).
class CServer {
 public:
  explicit CServer(const server_setup_information &setup) : setup_(setup), info_(empty_info()) {
    start_status = isoprobe_server_start_communication(&setup_, &info_, &start_error);
  }
  ~CServer() { isoprobe_server_shutdown(&info_, nullptr); }
  CServer(const CServer &) = delete;
  CServer &operator=(const CServer &) = delete;

  isoprobe_status publish() { return isoprobe_server_create_info_file(&setup_, &info_, nullptr); }
  isoprobe_status write_shm(const char *msg) { return isoprobe_server_write_to_shm(&info_, msg, nullptr); }
  isoprobe_status accept(unsigned timeout_ms) { return isoprobe_server_get_connection(&info_, timeout_ms, nullptr); }
  isoprobe_status send(const char *msg) { return isoprobe_server_write_to_socket(&info_, msg, nullptr); }
  /// send, then end the stream (as shutdown would) while the server stays up:
  /// the client reads the whole message at once, without waiting for a quiet period.
  isoprobe_status send_and_end(const char *msg) {
    isoprobe_status st = send(msg);
    if (st == ISOPROBE_OK) ::shutdown(info_.client_fd, SHUT_WR);
    return st;
  }
  isoprobe_status shutdown() { return isoprobe_server_shutdown(&info_, nullptr); }

  sockaddr_in address() const { return local_address(info_.server_fd); }
  live_server_info &info() { return info_; }
  const server_setup_information &setup() const { return setup_; }

  isoprobe_status start_status;
  isoprobe_error start_error;

 private:
  server_setup_information setup_;
  live_server_info info_;
};

}  // namespace core_test
