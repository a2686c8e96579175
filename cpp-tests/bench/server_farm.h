// N live host servers in one forked, single-threaded process, built from the
// library's own server C API (start_communication, write_to_shm,
// create_info_file, get_connection, write_to_socket, shutdown) and driven by
// one epoll loop, so 1000 servers cost one process instead of 1000 threads
// and keep serving repeated clients: every connection gets the socket message
// at once, and the server is ready for the next client as soon as it sent it.
#pragma once

#include <sys/types.h>

#include <string>

#include "bench_support.h"

namespace bench {

class ServerFarm {
 public:
  /// Starts `n` servers announcing themselves in `info_dir` (which should
  /// hold nothing else). Returns once every info file is published.
  ServerFarm(const std::string &info_dir, KeyPlanner &keys, size_t n);
  /// Shuts every server down (segments removed, info files unlinked).
  ~ServerFarm();
  ServerFarm(const ServerFarm &) = delete;
  ServerFarm &operator=(const ServerFarm &) = delete;

  size_t size() const { return n_; }
  /// What a correct client prints for these servers (all Host, messages in
  /// info-file name order, shm message first).
  const std::string &expected_summary() const { return expected_; }
  /// Stops the farm and waits for it; true when it exited 0 by itself.
  bool stop();

 private:
  size_t n_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int control_ = -1;  // write end; the farm shuts down when it reads EOF
  bool stopped_ = false;
  std::string expected_;
};

}  // namespace bench
