#include "faults_support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

extern char **environ;

namespace faults {

static std::runtime_error sys_fail(const std::string &what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

void measure(const std::string &name, const std::string &text) {
  std::cout << "[ measure  ] " << name << ": " << text << std::endl;
  ::testing::Test::RecordProperty("measure", text);
}

int thread_count() { return static_cast<int>(all_entries("/proc/self/task").size()); }

static bool has_children() {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  return waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

Snapshot::Snapshot(std::vector<std::string> dirs)
    : shm_(isoprobe_test::own_shm_ids()),
      fds_(isoprobe_test::open_fd_count()),
      threads_(thread_count()),
      had_children_(has_children()),
      dirs_(std::move(dirs)) {
  for (const auto &d : dirs_) entries_.push_back(all_entries(d));
}

void Snapshot::check(const std::string &where) const {
  std::set<int> now = isoprobe_test::own_shm_ids();
  for (int id : now) EXPECT_TRUE(shm_.count(id)) << where << ": segment " << id << " was left behind";
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_) << where << ": descriptors leaked or lost";
  EXPECT_EQ(thread_count(), threads_) << where << ": threads left running";
  if (!had_children_) {
    EXPECT_FALSE(has_children()) << where << ": a child process is left";
  }
  for (size_t i = 0; i < dirs_.size(); ++i)
    EXPECT_EQ(all_entries(dirs_[i]), entries_[i]) << where << ": entries of " << dirs_[i] << " changed";
}

static sockaddr_in loopback(unsigned short port) {
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

Listener::Listener(int backlog) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw sys_fail("socket");
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd_, backlog) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    close(fd_);
    throw sys_fail("bind/listen");
  }
  port_ = ntohs(a.sin_port);
}

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
}

FakeServer::FakeServer(Behaviour behaviour, std::string message, size_t flood_bytes)
    : behaviour_(behaviour), message_(std::move(message)), flood_bytes_(flood_bytes) {
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) throw sys_fail("pipe2");
  thread_ = std::thread([this] { serve(); });
}

FakeServer::~FakeServer() {
  char b = 0;
  (void)!write(stop_pipe_[1], &b, 1);
  thread_.join();
  for (int fd : held_) close(fd);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

bool FakeServer::wait_idle(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return finished_ == accepted_.load(); });
}

bool FakeServer::wait_accepted(int n, milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return accepted_.load() >= n; });
}

// Runs on the server's thread until the stop pipe becomes readable.
void FakeServer::serve() {
  auto finish = [&](int fd) {
    close(fd);
    std::lock_guard<std::mutex> lock(mutex_);
    ++finished_;
    changed_.notify_all();
  };
  for (;;) {
    std::vector<pollfd> fds = {{stop_pipe_[0], POLLIN, 0}, {listener_.fd(), POLLIN, 0}};
    for (int fd : held_) fds.push_back({fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    // A held connection became readable: the peer closed it (or sent something).
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      char sink[256];
      ssize_t n = recv(fds[i].fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
        held_.erase(std::find(held_.begin(), held_.end(), fds[i].fd));
        finish(fds[i].fd);
      }
    }
    if (!fds[1].revents) continue;
    int conn = accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++accepted_;
      changed_.notify_all();
    }
    switch (behaviour_) {
      case Behaviour::WriteAndHold:
        (void)!send(conn, message_.data(), message_.size(), MSG_NOSIGNAL);
        held_.push_back(conn);
        break;
      case Behaviour::HoldSilently:
        held_.push_back(conn);
        break;
      case Behaviour::WriteAndClose:
        (void)!send(conn, message_.data(), message_.size(), MSG_NOSIGNAL);
        finish(conn);
        break;
      case Behaviour::FloodForever:
      case Behaviour::FloodThenClose: {
        std::string chunk(64 * 1024, 'x');
        bool forever = behaviour_ == Behaviour::FloodForever;
        for (;;) {
          size_t want = forever ? chunk.size() : std::min(chunk.size(), flood_bytes_ - sent_.load());
          if (want == 0) break;
          pollfd p[2] = {{stop_pipe_[0], POLLIN, 0}, {conn, POLLOUT, 0}};
          if (poll(p, 2, -1) < 0 && errno != EINTR) break;
          if (p[0].revents) {
            finish(conn);
            return;
          }
          if (!p[1].revents) continue;
          ssize_t n = send(conn, chunk.data(), want, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno == EAGAIN) continue;
          if (n <= 0) break;  // the peer went away (EPIPE/ECONNRESET)
          sent_ += static_cast<size_t>(n);
        }
        finish(conn);
        break;
      }
    }
  }
}

SynDroppingServer::SynDroppingServer() {
  // Each filler is one established connection in the accept queue; with a
  // backlog of 0 the queue is full after the first, and the kernel drops
  // further SYNs (net.ipv4.tcp_abort_on_overflow = 0 is the default). The
  // first connect that does not complete shows the queue is full.
  for (int i = 0; i < 8; ++i) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) throw sys_fail("socket");
    sockaddr_in a = loopback(port());
    bool completed = connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    if (!completed && errno == EINPROGRESS) {
      pollfd p = {s, POLLOUT, 0};
      completed = poll(&p, 1, 300) == 1;
    }
    if (!completed) {
      close(s);
      dropping_ = true;
      return;
    }
    fillers_.push_back(s);
  }
}

SynDroppingServer::~SynDroppingServer() {
  for (int fd : fillers_) close(fd);
}

OwnSegment::OwnSegment(const std::string &path, int proj_id, int mode, const std::string &message) {
  key_t key = ftok(path.c_str(), proj_id);
  if (key == -1) throw sys_fail("ftok " + path);
  id_ = shmget(key, 4096, IPC_CREAT | IPC_EXCL | mode);
  if (id_ < 0) throw sys_fail("shmget");
  void *p = shmat(id_, nullptr, 0);
  if (p == reinterpret_cast<void *>(-1)) {
    shmctl(id_, IPC_RMID, nullptr);
    throw sys_fail("shmat");
  }
  std::memcpy(p, message.c_str(), message.size() + 1);
  shmdt(p);
}

OwnSegment::~OwnSegment() { shmctl(id_, IPC_RMID, nullptr); }

Found count_servers_c(const std::string &dir, unsigned timeout_ms) {
  Found f;
  size_t n = 0;
  auto collect = [](void *context, const live_server_info *server) {
    static_cast<std::vector<live_server_info> *>(context)->push_back(*server);
  };
  f.status = isoprobe_client_count_servers(dir.c_str(), timeout_ms, collect, &f.servers, &n, &f.error);
  if (f.status == ISOPROBE_OK) {
    EXPECT_EQ(n, f.servers.size());
  }
  return f;
}

Timed run_timed(const std::vector<std::string> &program, milliseconds timeout, bool peak_rss) {
  isoprobe_test::TempDir capture;
  std::string out = capture.file("out"), err = capture.file("err"), rss = capture.file("rss");
  std::vector<std::string> argv = program;
  if (peak_rss) argv.insert(argv.begin(), {ISOPROBE_FAULTS_HELPER, "peak-rss", rss});
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Timed t;
  auto start = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    throw sys_fail("posix_spawn " + argv[0]);
  }
  isoprobe_test::spawned_pids().insert(pid);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  pollfd p = {pidfd, POLLIN, 0};
  int n;
  do n = poll(&p, 1, static_cast<int>(timeout.count()));
  while (n < 0 && errno == EINTR);
  bool timed_out = n <= 0;
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(pidfd);
  t.elapsed_ms = ms_since(start);
  if (peak_rss) {
    std::string kb = isoprobe_test::read_file(rss);
    if (!kb.empty()) t.max_rss_kb = std::stol(kb);
  }
  t.finished.status = timed_out ? -1 : status;
  t.finished.out = isoprobe_test::read_file(out);
  t.finished.err = isoprobe_test::read_file(err);
  return t;
}

long baseline_client_rss_kb() {
  isoprobe_test::TempDir empty;
  return run_timed({ISOPROBE_COURSE_CLIENT, empty.path()}, std::chrono::seconds(30), true).max_rss_kb;
}

std::vector<std::string> lines_of(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream s(text);
  std::string line;
  while (std::getline(s, line)) lines.push_back(line);
  return lines;
}

size_t count_lines_with(const std::string &text, const std::string &needle) {
  size_t n = 0;
  for (const auto &l : lines_of(text))
    if (l.find(needle) != std::string::npos) ++n;
  return n;
}

bool is_listening(unsigned short port) {
  // Lines: "sl local_address rem_address st ...", addresses as HEXIP:HEXPORT, 0A = LISTEN.
  std::istringstream lines(isoprobe_test::read_file("/proc/net/tcp"));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state;
    if (!(f >> sl >> local >> remote >> state)) continue;
    size_t colon = local.find(':');
    if (colon != std::string::npos && std::stoul(local.substr(colon + 1), nullptr, 16) == port && state == "0A")
      return true;
  }
  return false;
}

Info read_info(const std::string &path) {
  std::vector<std::string> l = lines_of(isoprobe_test::read_file(path));
  if (l.size() != 4) throw std::runtime_error("malformed info file " + path);
  Info i;
  i.ip = l[0];
  i.port = static_cast<unsigned short>(std::stoi(l[1]));
  i.shm_path = l[2];
  i.proj_id = std::stoi(l[3]);
  return i;
}

bool is_root() { return geteuid() == 0; }

bool can_switch_user() {
  // Root of a user namespace that maps only itself (unshare -r, the suite
  // run "in a container") is uid 0 yet cannot become uid 65534: try it.
  static const bool can = [] {
    pid_t pid = fork();
    if (pid == 0) _exit(setgid(65534) == 0 && setuid(65534) == 0 ? 0 : 1);
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return can;
}

struct rlimit nofile() {
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim;
}

bool set_nofile(rlim_t soft, rlim_t hard) {
  struct rlimit lim = {soft, hard};
  return setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

}  // namespace faults
