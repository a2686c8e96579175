// Helpers shared by the GoogleTest suites: temporary directories, process
// spawning with captured output, event-based waits (inotify, pidfd), and a
// snapshot of the System V segments so every test binary can assert that it
// left `ipcs -m` as it found it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace isoprobe_test {

/// A fresh directory `<stem>-XXXXXX` under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string &stem = "isoprobe-gtest");
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Removes a directory tree (like rm -rf); missing is fine.
void remove_tree(const std::string &path);

/// Writes `content` to `path` (truncating).
void write_file(const std::string &path, const std::string &content);
/// The whole content of `path` ("" if it cannot be read).
std::string read_file(const std::string &path);
/// Names of the regular non-dot files in `dir`, sorted.
std::vector<std::string> list_dir(const std::string &dir);
/// Every entry of `dir` except "." and "..", dot-files included, sorted.
std::vector<std::string> all_entries(const std::string &dir);

/// The course's info-file content (`IP\nport\nshm_pathname\nproj_id\n`).
std::string info_text(const std::string &ip, unsigned port, const std::string &shm_path, int proj_id);

/// The ids of the System V segments that exist now (/proc/sysvipc/shm).
std::set<int> shm_ids();
/// The ids of the segments created by this process or a child it spawned.
std::set<int> own_shm_ids();
/// Pids of every child spawned through `Child` (for `own_shm_ids`).
std::set<pid_t> &spawned_pids();
/// True when segment `shmid` exists.
bool shm_exists(int shmid);
/// Number of open descriptors of this process (/proc/self/fd).
int open_fd_count();

/// A child process; killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  /// Starts argv[0] with stdout/stderr sent to files in `capture_dir`
  /// (or inherited when capture_dir is empty).
  Child(const std::vector<std::string> &argv, const std::string &capture_dir = "");
  ~Child();
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;
  pid_t pid() const { return pid_; }
  /// Waits for exit (pidfd + poll). Returns the wait status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  /// Sends `sig`.
  void signal(int sig);
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

/// Result of a finished command.
struct Finished {
  int status = -1;  // wait status; -1 when it timed out (then it was killed)
  std::string out, err;
  bool exited_with(int code) const;
};

/// Runs argv to completion (killed after `timeout`), capturing output.
Finished run(const std::vector<std::string> &argv, std::chrono::milliseconds timeout);

/// The one inotify watch of the test support: watches a directory from its
/// construction on (so nothing that happens after it is missed) for files
/// created, renamed in or out, removed and closed after writing.
class DirWatch {
 public:
  explicit DirWatch(const std::string &dir);
  ~DirWatch();
  DirWatch(const DirWatch &) = delete;
  DirWatch &operator=(const DirWatch &) = delete;
  /// Waits until `done()` is true; asks it now and again after every batch
  /// of events, never on a timer. A signal interrupting the wait asks
  /// `give_up` (when given); true ends the wait at once. False on timeout.
  bool wait_until(std::chrono::milliseconds timeout, const std::function<bool()> &done,
                  const std::function<bool()> &give_up = nullptr);
  /// Non-dot names renamed into the directory since construction (how
  /// servers publish their info files), counted without listing it.
  size_t moved_in() const { return moved_in_; }

 private:
  void drain();
  int fd_ = -1;
  size_t moved_in_ = 0;
};

/// Waits (inotify) until `dir` holds at least `count` regular non-dot files.
/// A caller with a signal flag passes `give_up`: it is asked whenever a
/// signal interrupts the wait, and when it says true the wait returns false
/// at once instead of sleeping on until the timeout.
bool wait_for_files(const std::string &dir, size_t count, std::chrono::milliseconds timeout,
                    const std::function<bool()> &give_up = nullptr);
/// Waits (inotify) until `dir` holds no regular non-dot file.
bool wait_for_empty(const std::string &dir, std::chrono::milliseconds timeout);

/// A TCP port that was free a moment ago on 0.0.0.0 (bind to port 0, read it back).
unsigned short free_port();

}  // namespace isoprobe_test
