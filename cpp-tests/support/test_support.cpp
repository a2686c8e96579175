#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char **environ;

namespace isoprobe_test {

static std::runtime_error sys_fail(const std::string &what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

TempDir::TempDir(const std::string &stem) {
  const char *base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + stem + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw sys_fail("mkdtemp " + tmpl);
  path_ = buf.data();
}

TempDir::~TempDir() { remove_tree(path_); }

void remove_tree(const std::string &path) {
  nftw(
      path.c_str(),
      [](const char *p, const struct stat *, int, struct FTW *) { return ::remove(p) == 0 ? 0 : 0; }, 16,
      FTW_DEPTH | FTW_PHYS);
}

void write_file(const std::string &path, const std::string &content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();  // a failed flush shows only here
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> list_dir(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;
    if (stat((dir + "/" + e->d_name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> all_entries(const std::string &dir) {
  std::vector<std::string> names;
  DIR *d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent *e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string info_text(const std::string &ip, unsigned port, const std::string &shm_path, int proj_id) {
  return ip + "\n" + std::to_string(port) + "\n" + shm_path + "\n" + std::to_string(proj_id) + "\n";
}

std::set<pid_t> &spawned_pids() {
  static std::set<pid_t> pids;
  return pids;
}

// Each line: key shmid perms size cpid lpid nattch ...
template <typename Keep>
static std::set<int> shm_ids_where(Keep keep) {
  std::set<int> ids;
  std::ifstream f("/proc/sysvipc/shm");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream s(line);
    long key = 0, perms = 0, size = 0;
    int id = -1;
    pid_t cpid = -1;
    if (s >> key >> id >> perms >> size >> cpid && keep(cpid)) ids.insert(id);
  }
  return ids;
}

std::set<int> shm_ids() {
  return shm_ids_where([](pid_t) { return true; });
}

std::set<int> own_shm_ids() {
  pid_t self = getpid();
  return shm_ids_where([&](pid_t cpid) { return cpid == self || spawned_pids().count(cpid) > 0; });
}

bool shm_exists(int shmid) {
  struct shmid_ds ds;
  return shmctl(shmid, IPC_STAT, &ds) == 0;
}

int open_fd_count() {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (struct dirent *e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the DIR's own descriptor
}

Child::Child(const std::vector<std::string> &argv, const std::string &capture_dir) {
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!capture_dir.empty()) {
    static int counter = 0;
    std::string stem = capture_dir + "/.child-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    out_path_ = stem + ".out";
    err_path_ = stem + ".err";
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    throw sys_fail("posix_spawn " + argv[0]);
  }
  spawned_pids().insert(pid_);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) throw sys_fail("pidfd_open");
}

Child::~Child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  if (pidfd_ >= 0) close(pidfd_);
  if (!out_path_.empty()) {
    unlink(out_path_.c_str());
    unlink(err_path_.c_str());
  }
}

int Child::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return -1;
  struct pollfd p = {pidfd_, POLLIN, 0};
  int n;
  do n = poll(&p, 1, static_cast<int>(timeout.count()));
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  int st = 0;
  if (waitpid(pid_, &st, 0) != pid_) throw sys_fail("waitpid");
  reaped_ = true;
  return st;
}

void Child::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

std::string Child::out() const { return out_path_.empty() ? "" : read_file(out_path_); }
std::string Child::err() const { return err_path_.empty() ? "" : read_file(err_path_); }

bool Finished::exited_with(int code) const {
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

Finished run(const std::vector<std::string> &argv, std::chrono::milliseconds timeout) {
  TempDir capture;
  Finished f;
  {
    Child c(argv, capture.path());
    f.status = c.wait(timeout);
    f.out = c.out();
    f.err = c.err();
  }
  return f;
}

DirWatch::DirWatch(const std::string &dir) {
  fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd_ < 0) throw sys_fail("inotify_init1");
  if (inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CLOSE_WRITE) < 0) {
    std::runtime_error e = sys_fail("inotify_add_watch " + dir);
    close(fd_);
    throw e;
  }
}

DirWatch::~DirWatch() { close(fd_); }

/// Reads every pending event, counting the non-dot names renamed in.
void DirWatch::drain() {
  alignas(inotify_event) char buf[64 * 1024];
  ssize_t len;
  while ((len = read(fd_, buf, sizeof buf)) > 0) {
    for (char *at = buf; at < buf + len;) {
      auto *ev = reinterpret_cast<inotify_event *>(at);
      if ((ev->mask & IN_MOVED_TO) && ev->len > 0 && ev->name[0] != '.') ++moved_in_;
      at += sizeof(inotify_event) + ev->len;
    }
  }
}

bool DirWatch::wait_until(std::chrono::milliseconds timeout, const std::function<bool()> &done,
                          const std::function<bool()> &give_up) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  drain();
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd p = {fd_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR && give_up && give_up()) return false;
    if (n < 0 && errno != EINTR) throw sys_fail("poll (inotify)");
    drain();
  }
  return true;
}

bool wait_for_files(const std::string &dir, size_t count, std::chrono::milliseconds timeout,
                    const std::function<bool()> &give_up) {
  DirWatch watch(dir);
  return watch.wait_until(timeout, [&] { return list_dir(dir).size() >= count; }, give_up);
}

bool wait_for_empty(const std::string &dir, std::chrono::milliseconds timeout) {
  DirWatch watch(dir);
  return watch.wait_until(timeout, [&] { return list_dir(dir).empty(); });
}

unsigned short free_port() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw sys_fail("socket");
  struct sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  socklen_t len = sizeof a;
  if (bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
    close(s);
    throw sys_fail("bind/getsockname");
  }
  close(s);
  return ntohs(a.sin_port);
}

}  // namespace isoprobe_test
