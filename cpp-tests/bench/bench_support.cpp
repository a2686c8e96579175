#include "bench_support.h"

#include "test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

extern char **environ;

namespace bench {

namespace {
volatile sig_atomic_t g_signal = 0;
std::set<pid_t> g_children;

void on_signal(int sig) { g_signal = sig; }
}  // namespace

void install_signal_flag() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking wait returns EINTR and sees the flag
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void check_interrupted() {
  if (g_signal != 0) throw Interrupted();
}

bool interrupted() { return g_signal != 0; }

void reset_signals_in_child() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
}

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t thread_cpu_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void fail_errno(const std::string &what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

long long file_size(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

bool wait_for_files(const std::string &dir, size_t count, std::chrono::milliseconds timeout) {
  const bool ok = isoprobe_test::wait_for_files(dir, count, timeout, interrupted);
  if (!ok) check_interrupted();
  return ok;
}

void note_child_pid(pid_t pid) { g_children.insert(pid); }
bool is_child_pid(pid_t pid) { return g_children.count(pid) != 0; }

Child::Child(const std::vector<std::string> &argv, const std::string &out_path, const std::string &err_path,
             bool own_group)
    : own_group_(own_group) {
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!out_path.empty())
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!err_path.empty())
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child starts with default dispositions, not the bench's flag handler.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    fail_errno("posix_spawn " + argv[0]);
  }
  note_child_pid(pid_);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) {
    int e = errno;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
    errno = e;
    fail_errno("pidfd_open");
  }
}

Child::~Child() {
  stop();
  if (pidfd_ >= 0) close(pidfd_);
}

bool Child::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return true;
  if (!wait_readable(pidfd_, timeout)) return false;
  exit_seen_ns_ = now_ns();
  pid_t r;
  do r = wait4(pid_, &status_, 0, &usage_);
  while (r < 0 && errno == EINTR);
  if (r != pid_) fail_errno("wait4");
  reaped_ = true;
  return true;
}

void Child::stop() {
  if (reaped_ || pid_ <= 0) return;
  // Until the leader is reaped its pid cannot be reused, so -pid is still our group.
  const pid_t target = own_group_ ? -pid_ : pid_;
  kill(target, SIGTERM);
  struct pollfd p = {pidfd_, POLLIN, 0};
  int n;
  do n = poll(&p, 1, 3000);
  while (n < 0 && errno == EINTR);
  if (n <= 0 || own_group_) kill(target, SIGKILL);
  pid_t r;
  do r = wait4(pid_, &status_, 0, &usage_);
  while (r < 0 && errno == EINTR);
  reaped_ = true;
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout.count()) * 1000000;
  for (;;) {
    int64_t left_ns = deadline - now_ns();
    if (left_ns < 0) left_ns = 0;
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>((left_ns + 999999) / 1000000));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) fail_errno("poll");
    check_interrupted();
  }
}

KeyPlanner::KeyPlanner(const std::string &dir) : dir_(dir) {}

KeyPlanner::Key KeyPlanner::next() {
  for (int attempts = 0; attempts < 100000; ++attempts) {
    if (path_index_ == paths_.size()) {
      // ftok uses only the low 16 bits of the inode and the low byte of
      // proj_id: each file gives up to 255 keys, more files give more.
      std::string p = dir_ + "/key-" + std::to_string(paths_.size());
      isoprobe_test::write_file(p, "");
      paths_.push_back(p);
      proj_ = 0;
    }
    if (++proj_ > 255) {
      ++path_index_;
      continue;
    }
    const std::string &path = paths_[path_index_];
    key_t key = ftok(path.c_str(), proj_);
    if (key == -1) fail_errno("ftok " + path);
    if (used_.count(key) != 0) continue;
    used_.insert(key);
    // A segment already there (another program's ftok collision) would make
    // the server's IPC_EXCL create fail: skip the key.
    if (shmget(key, 0, 0) >= 0 || errno != ENOENT) continue;
    return Key{path, proj_, key};
  }
  throw std::runtime_error("no free System V key found");
}

int KeyPlanner::sweep() {
  int removed = 0;
  for (key_t key : used_) {
    int id = shmget(key, 0, 0);
    if (id < 0) continue;
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == 0 && is_child_pid(ds.shm_cpid) && shmctl(id, IPC_RMID, nullptr) == 0) ++removed;
  }
  return removed;
}

unsigned long raise_nofile(unsigned long want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min<rlim_t>(want, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double maximum(const std::vector<double> &v) { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

static std::string three_digits(double v) {
  return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

std::string format_duration_ns(double ns) {
  if (std::isnan(ns)) return "n/a";
  if (ns >= 1e9) return three_digits(ns / 1e9) + " s";
  if (ns >= 1e6) return three_digits(ns / 1e6) + " ms";
  if (ns >= 1e3) return three_digits(ns / 1e3) + " µs";
  return three_digits(ns) + " ns";
}

std::string format_bytes(long long bytes) {
  if (bytes < 0) return "n/a";
  if (bytes >= 1 << 20) return three_digits(bytes / 1048576.0) + " MiB";
  if (bytes >= 1 << 10) return three_digits(bytes / 1024.0) + " KiB";
  return std::to_string(bytes) + " B";
}

std::string machine_line() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) cpu = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  }
  struct utsname u;
  std::string kernel = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release + " " + u.machine : "unknown kernel";
  long mem_kib = 0;
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line))
    if (std::sscanf(line.c_str(), "MemTotal: %ld kB", &mem_kib) == 1) break;
  return "nproc=" + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + ", CPU: " + cpu + ", kernel: " + kernel +
         ", RAM: " + fixed(mem_kib / 1048576.0, 1) + " GiB";
}

void print_table(const std::string &title, const std::vector<Row> &rows, const std::vector<std::string> &notes) {
  std::cout << title << "\n\n";
  std::cout << "| row | case | result | target | met |\n";
  std::cout << "|---|---|---|---|---|\n";
  for (const Row &r : rows)
    std::cout << "| " << r.id << " | " << r.what << " | " << r.result << " | " << r.target << " | " << r.met << " |\n";
  if (!notes.empty()) {
    std::cout << "\n";
    for (const auto &n : notes) std::cout << "- " << n << "\n";
  }
  std::cout.flush();
}

}  // namespace bench
