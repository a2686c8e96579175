#include "server_farm.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

#include "server.h"

namespace bench {

namespace {

std::string server_name(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "srv-%05zu", i);
  return buf;
}
std::string shm_message(size_t i) { return "shm-" + std::to_string(i); }
std::string socket_message(size_t i) { return "sock-" + std::to_string(i); }

// Epoll tags: the control pipe, a listener (its index), or a served connection (its fd).
constexpr uint64_t kControlTag = ~0ULL;
constexpr uint64_t kConnectionBit = 1ULL << 40;

void report(int ready_fd, const std::string &what, const isoprobe_error &e) {
  std::string msg = "E" + what + ": " + e.message;
  (void)!write(ready_fd, msg.data(), msg.size());
}

// The farm process. Never returns.
[[noreturn]] void farm_main(int control_fd, int ready_fd, const std::string &info_dir,
                            const std::vector<KeyPlanner::Key> &keys) {
  const size_t n = keys.size();
  std::vector<live_server_info> servers(n);
  size_t started = 0;
  auto shutdown_all = [&] {
    for (size_t i = 0; i < started; ++i) isoprobe_server_shutdown(&servers[i], nullptr);
  };
  for (; started < n; ++started) {
    const size_t i = started;
    server_setup_information setup = {};
    setup.port = 0;
    setup.shm_pathname = keys[i].path;
    setup.shm_proj_id = keys[i].proj_id;
    setup.info_file_name = server_name(i);
    setup.info_file_directory = info_dir;
    isoprobe_error e;
    if (isoprobe_server_start_communication(&setup, &servers[i], &e) != ISOPROBE_OK) {
      report(ready_fd, "start_communication " + server_name(i), e);
      shutdown_all();
      _exit(1);
    }
    if (isoprobe_server_write_to_shm(&servers[i], shm_message(i).c_str(), &e) != ISOPROBE_OK ||
        isoprobe_server_create_info_file(&setup, &servers[i], &e) != ISOPROBE_OK) {
      report(ready_fd, "publishing " + server_name(i), e);
      isoprobe_server_shutdown(&servers[i], nullptr);
      shutdown_all();
      _exit(1);
    }
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  auto watch = [&](int fd, uint64_t tag) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = tag;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  bool ok = ep >= 0 && watch(control_fd, kControlTag);
  for (size_t i = 0; ok && i < n; ++i) ok = watch(servers[i].server_fd, i);
  if (!ok) {
    std::string msg = std::string("Eepoll: ") + std::strerror(errno);
    (void)!write(ready_fd, msg.data(), msg.size());
    shutdown_all();
    _exit(1);
  }
  // The bench may have given up waiting (interrupted) and closed its end:
  // then there is nobody to serve (SIGPIPE is ignored, so this is EPIPE).
  if (write(ready_fd, "R", 1) != 1) {
    shutdown_all();
    _exit(1);
  }
  close(ready_fd);

  int rc = 0;
  std::vector<struct epoll_event> events(256);
  for (bool running = true; running;) {
    int got = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::perror("isoprobe_bench farm: epoll_wait");
      rc = 1;
      break;
    }
    for (int k = 0; k < got; ++k) {
      const uint64_t tag = events[k].data.u64;
      if (tag == kControlTag) {
        running = false;
      } else if (tag & kConnectionBit) {
        // The client closed (or sent something, which nobody does): done with it.
        int fd = static_cast<int>(tag & 0xffffffff);
        char sink[256];
        ssize_t r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) close(fd);
      } else {
        live_server_info &s = servers[tag];
        isoprobe_error e;
        isoprobe_status st = isoprobe_server_get_connection(&s, 0, &e);
        if (st == ISOPROBE_ERROR_TIMEOUT) continue;  // the pending connection went away
        if (st != ISOPROBE_OK) {
          std::fprintf(stderr, "isoprobe_bench farm: get_connection: %s\n", e.message);
          rc = 1;
          running = false;
          break;
        }
        // A client that already left makes the send fail: not the farm's problem.
        isoprobe_server_write_to_socket(&s, socket_message(tag).c_str(), nullptr);
        int conn = s.client_fd;
        // write_to_socket leaves the connection open (a server may write
        // again); the farm sends one message, so it ends its side here, as
        // shutdown() would, and clients that read until EOF are not kept waiting.
        ::shutdown(conn, SHUT_WR);
        s.client_fd = -1;  // the listener is free for the next client at once
        if (!watch(conn, kConnectionBit | static_cast<uint32_t>(conn))) close(conn);
      }
    }
  }
  shutdown_all();
  _exit(rc);
}

// Closes every descriptor above stderr except `a` and `b`.
void close_fds_except(int a, int b) {
  int lo = std::min(a, b), hi = std::max(a, b);
  auto close_between = [](int first, int last) {
    if (first <= last) syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(last), 0U);
  };
  close_between(3, lo - 1);
  close_between(lo + 1, hi - 1);
  close_between(hi + 1, INT_MAX);
}

}  // namespace

ServerFarm::ServerFarm(const std::string &info_dir, KeyPlanner &keys, size_t n) : n_(n) {
  std::vector<KeyPlanner::Key> planned;
  planned.reserve(n);
  expected_ = "Total Servers: " + std::to_string(n) + "\nHost: " + std::to_string(n) + "\nContainer: 0\nVM: 0\nMessages:";
  for (size_t i = 0; i < n; ++i) {
    planned.push_back(keys.next());
    expected_ += " " + shm_message(i) + " " + socket_message(i);
  }
  expected_ += "\n";

  int control[2], ready[2];
  if (pipe2(control, O_CLOEXEC) != 0) fail_errno("pipe2");
  if (pipe2(ready, O_CLOEXEC) != 0) {
    int e = errno;
    close(control[0]);
    close(control[1]);
    errno = e;
    fail_errno("pipe2");
  }
  const pid_t parent = getpid();
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ < 0) fail_errno("fork");
  if (pid_ == 0) {
    reset_signals_in_child();
    signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error to handle, not death without cleanup
    // Killed with the bench: SIGTERM lets the library remove the segments.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    close(control[1]);
    close(ready[0]);
    // Keep only the two pipe ends: a pipe end of the bench inherited here
    // (another farm's control pipe) would keep that one from seeing EOF.
    close_fds_except(control[0], ready[1]);
    farm_main(control[0], ready[1], info_dir, planned);
  }
  note_child_pid(pid_);
  close(control[0]);
  close(ready[1]);
  control_ = control[1];
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));

  // The farm writes "R" when every server is published, or "E<reason>".
  std::string answer;
  try {
    if (!wait_readable(ready[0], std::chrono::seconds(120)))
      throw std::runtime_error("server farm of " + std::to_string(n) + " did not get ready in 120 s");
    char buf[1024];
    ssize_t got = read(ready[0], buf, sizeof buf);
    answer.assign(buf, got > 0 ? static_cast<size_t>(got) : 0);
    if (answer != "R")
      throw std::runtime_error("server farm failed: " + (answer.empty() ? std::string("exited") : answer.substr(1)));
  } catch (...) {
    close(ready[0]);
    stop();
    throw;
  }
  close(ready[0]);
}

bool ServerFarm::stop() {
  if (stopped_) return true;
  stopped_ = true;
  close(control_);
  control_ = -1;
  struct pollfd p = {pidfd_, POLLIN, 0};
  int n;
  do n = poll(&p, 1, 60000);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    kill(pid_, SIGTERM);  // the library's handler removes what is left
    do n = poll(&p, 1, 5000);
    while (n < 0 && errno == EINTR);
    if (n <= 0) kill(pid_, SIGKILL);
  }
  int status = 0;
  pid_t r;
  do r = waitpid(pid_, &status, 0);
  while (r < 0 && errno == EINTR);
  close(pidfd_);
  pidfd_ = -1;
  return r == pid_ && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

ServerFarm::~ServerFarm() { stop(); }

}  // namespace bench
