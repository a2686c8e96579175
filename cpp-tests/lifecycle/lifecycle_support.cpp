#include "lifecycle_support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

namespace lifecycle {

int segment_for(const std::string &path, int proj) {
  key_t key = ftok(path.c_str(), proj);
  return key == -1 ? -1 : shmget(key, 0, 0);
}

KeyGuard::~KeyGuard() {
  int id = segment_for(path_, proj_);
  if (id >= 0) {
    shmctl(id, IPC_RMID, nullptr);
    ADD_FAILURE() << "segment " << id << " of ftok(" << path_ << ", " << proj_ << ") was left behind (removed now)";
  }
}

Adopted::Adopted(pid_t pid) : pid_(pid) {
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

Adopted::~Adopted() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    wait(milliseconds(10000));
  }
  if (pidfd_ >= 0) close(pidfd_);
}

int Adopted::wait(milliseconds timeout) {
  if (reaped_ || pid_ <= 0) return -1;
  if (pidfd_ >= 0) {
    pollfd p = {pidfd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
  }
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return -1;
  reaped_ = true;
  return status;
}

void become_subreaper() {
  static std::once_flag once;
  std::call_once(once, [] { prctl(PR_SET_CHILD_SUBREAPER, 1); });
}

bool wait_ready(const std::string &dir, size_t count, milliseconds timeout) {
  return isoprobe_test::wait_for_files(dir, count, timeout);
}

int connect_local(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool read_to_eof(int fd, std::string &out, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) != 1) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return n == 0;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::vector<std::string> helper(const std::vector<std::string> &args) {
  std::vector<std::string> argv = {ISOPROBE_LIFECYCLE_HELPER};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> foreign_client(const std::string &mode, const std::string &dir) {
  return {ISOPROBE_FOREIGN_CLIENT, mode, dir};
}

std::string host_summary(int hosts, const std::string &messages) {
  return "Total Servers: " + std::to_string(hosts) + "\nHost: " + std::to_string(hosts) +
         "\nContainer: 0\nVM: 0\nMessages:" + messages + "\n";
}

std::string describe_status(int status) {
  if (status == -1) return "still running";
  if (WIFSIGNALED(status)) return "ended by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  return "status " + std::to_string(status);
}

}  // namespace lifecycle
