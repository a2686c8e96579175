// Plumbing for isoprobe_bench: clocks, child processes watched through pidfds,
// System V key planning and cleanup, and the results
// table. Nothing here measures anything by itself.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

/// Thrown when SIGINT/SIGTERM/SIGHUP arrived: unwinding runs every cleanup.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted by a signal") {}
};

/// Turns SIGINT/SIGTERM/SIGHUP into a flag (no SA_RESTART, so blocking waits
/// return EINTR and notice it). SIGPIPE is ignored.
void install_signal_flag();
/// Throws Interrupted once a signal came.
void check_interrupted();
/// True once a signal came.
bool interrupted();
/// Restores the default dispositions (for forked children).
void reset_signals_in_child();

/// Monotonic nanoseconds.
int64_t now_ns();
/// CPU time (user + system) of the calling thread, in nanoseconds.
int64_t thread_cpu_ns();

/// Throws std::runtime_error("what: strerror(errno)").
[[noreturn]] void fail_errno(const std::string &what);

// Temporary directories and file helpers come from the test support library
// (isoprobe_test::TempDir, write_file, read_file, list_dir).

/// Size in bytes, or -1 when it cannot be stat'ed.
long long file_size(const std::string &path);
/// isoprobe_test::wait_for_files (inotify, no polling), except that a
/// SIGINT/SIGTERM/SIGHUP arriving meanwhile throws Interrupted.
bool wait_for_files(const std::string &dir, size_t count, std::chrono::milliseconds timeout);

/// A child process (posix_spawn) whose exit is awaited through a pidfd.
/// Destruction ends it if it still runs: SIGTERM (so an isoprobe server
/// removes its segment), then SIGKILL after a grace period.
class Child {
 public:
  /// stdout/stderr go to these files ("" = inherit). With `own_group` the
  /// child leads a new process group, and stopping it signals the whole group
  /// (a script's children go with it).
  Child(const std::vector<std::string> &argv, const std::string &out_path, const std::string &err_path,
        bool own_group = false);
  ~Child();
  Child(const Child &) = delete;
  Child &operator=(const Child &) = delete;
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_; }
  bool reaped() const { return reaped_; }
  /// Waits up to `timeout` for the exit; true when it exited (then
  /// `status()` and `usage()` are set). Retries EINTR, checks interruption.
  bool wait(std::chrono::milliseconds timeout);
  int status() const { return status_; }
  const struct rusage &usage() const { return usage_; }
  /// Monotonic time at which the pidfd reported the exit.
  int64_t exit_seen_ns() const { return exit_seen_ns_; }
  /// SIGTERM, a grace period, SIGKILL; always reaps.
  void stop();

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  bool own_group_ = false;
  int status_ = -1;
  int64_t exit_seen_ns_ = 0;
  struct rusage usage_ {};
};

/// Every process the bench started (Child and forked helpers): the creators
/// whose segments `KeyPlanner::sweep` may remove.
void note_child_pid(pid_t pid);
bool is_child_pid(pid_t pid);

/// Waits until `fd` is readable; false on timeout. Checks interruption.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

/// `ftok` keys the bench hands out: distinct, and with no segment behind them
/// when handed out. Remembers every key so `sweep()` can remove whatever a
/// crashed or killed server left behind.
class KeyPlanner {
 public:
  explicit KeyPlanner(const std::string &dir);
  struct Key {
    std::string path;
    int proj_id;
    key_t key;
  };
  /// The next free (path, proj_id).
  Key next();
  /// Removes every segment still alive under a key handed out that one of
  /// the bench's children created (a stranger whose ftok key happens to
  /// collide is left alone); returns how many.
  int sweep();

 private:
  std::string dir_;
  std::vector<std::string> paths_;
  size_t path_index_ = 0;
  int proj_ = 0;
  std::set<key_t> used_;
};

/// Raises RLIMIT_NOFILE's soft limit to `want` (bounded by the hard limit);
/// returns the soft limit in force afterwards.
unsigned long raise_nofile(unsigned long want);

/// Order statistics of a sample (sorted copy).
double median(std::vector<double> v);
double maximum(const std::vector<double> &v);

/// "1.23 s", "4.56 ms", "7.8 µs" with 3 significant digits.
std::string format_duration_ns(double ns);
std::string format_bytes(long long bytes);
std::string fixed(double v, int decimals);

/// One line of the results table.
struct Row {
  std::string id;      // "B1"
  std::string what;    // the case
  std::string result;  // the numbers
  std::string target;  // e.g. "≤ 5.5 s"
  std::string met;     // "yes", "no", "—" (no target for this line)
};

/// "nproc=2, CPU: ..., kernel ..." for the table's header line.
std::string machine_line();

/// Prints the header line and the Markdown table on stdout.
void print_table(const std::string &title, const std::vector<Row> &rows, const std::vector<std::string> &notes);

}  // namespace bench
