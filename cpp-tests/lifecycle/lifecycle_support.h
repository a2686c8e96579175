// What the lifecycle and interop cases share: the helper programs, waits for
// processes that are not our children yet (a daemon's child), and guards
// that remove whatever a failing case would otherwise leave behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "faults_support.h"

namespace lifecycle {

using faults::Clock;
using faults::ms_since;
using isoprobe_test::Child;
using isoprobe_test::TempDir;
using std::chrono::milliseconds;

/// The segment `ftok(path, proj)` names now, or -1.
int segment_for(const std::string &path, int proj);

/// Removes the segment `ftok(path, proj)` on destruction if it still exists
/// (a failing case must not leak it), and says whether it had to.
class KeyGuard {
 public:
  KeyGuard(std::string path, int proj) : path_(std::move(path)), proj_(proj) {}
  ~KeyGuard();
  KeyGuard(const KeyGuard &) = delete;
  KeyGuard &operator=(const KeyGuard &) = delete;

 private:
  std::string path_;
  int proj_;
};

/// A process this test did not start directly (the child of a helper) that
/// becomes this process's child when its parent dies (this process is a
/// child subreaper). Killed and reaped on destruction if still running.
class Adopted {
 public:
  explicit Adopted(pid_t pid);
  ~Adopted();
  Adopted(const Adopted &) = delete;
  Adopted &operator=(const Adopted &) = delete;
  pid_t pid() const { return pid_; }
  /// Waits (pidfd) for it to end and reaps it; its wait status, or -1 on
  /// timeout. Its parent must be gone (so that it is ours to reap).
  int wait(milliseconds timeout);

 private:
  pid_t pid_;
  int pidfd_ = -1;
  bool reaped_ = false;
};

/// Makes this process a child subreaper (once).
void become_subreaper();

/// Waits until `dir` holds `count` files (ready markers of the helpers).
bool wait_ready(const std::string &dir, size_t count, milliseconds timeout = milliseconds(20000));

/// A TCP connection to 127.0.0.1:`port`, or -1.
int connect_local(unsigned short port);
/// Reads `fd` until end-of-stream (bounded by `timeout`); false on timeout.
bool read_to_eof(int fd, std::string &out, milliseconds timeout);

/// argv of the lifecycle helper, the foreign client, and the course programs.
std::vector<std::string> helper(const std::vector<std::string> &args);
std::vector<std::string> foreign_client(const std::string &mode, const std::string &dir);

/// The course summary for `hosts` host servers with `messages`.
std::string host_summary(int hosts, const std::string &messages);

/// "ended by signal N" / "exited with N" / "still running".
std::string describe_status(int status);

}  // namespace lifecycle
