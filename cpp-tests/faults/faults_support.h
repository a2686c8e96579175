// What the fault suite shares: a snapshot of everything a case could leak
// (segments, descriptors, threads, children, directory entries), fake
// "servers" that misbehave on purpose (silent, flooding, SYN-dropping), and
// small helpers for info files, timing and measurements.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "server.h"
#include "server_setup.h"
#include "test_support.h"

namespace faults {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Milliseconds since `start`.
long long ms_since(Clock::time_point start);

/// Prints one measurement line ("[ measure ] case: text") for the report.
void measure(const std::string &name, const std::string &text);

using isoprobe_test::all_entries;
using isoprobe_test::info_text;
using isoprobe_test::make_setup;

/// Threads of this process (/proc/self/task).
int thread_count();

/// A snapshot of what a case could leak, compared again when it is
/// destroyed (so declare it after the temporary directories and before the
/// processes, servers and sockets of the case: it checks after they are
/// gone, on success and on failure alike). Each difference is a gtest
/// failure: segments created by this process or its children, descriptors,
/// threads, children still alive, entries of `dirs`.
class Snapshot {
 public:
  explicit Snapshot(std::vector<std::string> dirs = {});
  ~Snapshot() { check("at the end of the case"); }
  Snapshot(const Snapshot &) = delete;
  Snapshot &operator=(const Snapshot &) = delete;
  void check(const std::string &where) const;
  int fds() const { return fds_; }

 private:
  std::set<int> shm_;
  int fds_;
  int threads_;
  bool had_children_;
  std::vector<std::string> dirs_;
  std::vector<std::vector<std::string>> entries_;
};

/// A TCP listening socket on 127.0.0.1 (port chosen by the kernel).
class Listener {
 public:
  explicit Listener(int backlog = 16);
  ~Listener();
  Listener(const Listener &) = delete;
  Listener &operator=(const Listener &) = delete;
  int fd() const { return fd_; }
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

/// A "server" that accepts connections on its own thread and then does what
/// `behaviour` says. Stops (and closes everything) on destruction.
class FakeServer {
 public:
  enum class Behaviour {
    HoldSilently,   // accept, never write, keep the connection open
    WriteAndClose,  // accept, write `message`, close
    FloodForever,    // accept, write 'x' until the peer goes away
    FloodThenClose,  // accept, write `flood_bytes` of 'x' (no terminator), close
    WriteAndHold     // accept, write `message` (no terminator), keep the connection open
  };
  FakeServer(Behaviour behaviour, std::string message = "", size_t flood_bytes = 0);
  ~FakeServer();
  FakeServer(const FakeServer &) = delete;
  FakeServer &operator=(const FakeServer &) = delete;
  unsigned short port() const { return listener_.port(); }
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }
  /// Bytes the peer took before it went away (flood behaviours).
  size_t bytes_sent() const { return sent_.load(); }
  /// Waits until the serving thread has finished with every connection it
  /// accepted (the peer went away, or the flood/message is complete).
  bool wait_idle(milliseconds timeout);
  /// Waits until at least `n` connections were accepted.
  bool wait_accepted(int n, milliseconds timeout);

 private:
  void serve();
  Listener listener_;
  Behaviour behaviour_;
  std::string message_;
  size_t flood_bytes_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<int> accepted_{0};
  std::atomic<size_t> sent_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  int finished_ = 0;  // connections the thread is done with (guarded by mutex_)
  std::vector<int> held_;
  std::thread thread_;
};

/// A listening socket whose queue is full, so that the kernel drops every
/// further SYN: listen(fd, 0) and one connection that fills the queue.
class SynDroppingServer {
 public:
  SynDroppingServer();
  ~SynDroppingServer();
  SynDroppingServer(const SynDroppingServer &) = delete;
  SynDroppingServer &operator=(const SynDroppingServer &) = delete;
  unsigned short port() const { return listener_.port(); }
  /// True when the queue filled up: a connect then did not complete in 300 ms.
  bool drops_syns() const { return dropping_; }

 private:
  Listener listener_{0};
  std::vector<int> fillers_;
  bool dropping_ = false;
};

/// A System V segment this test creates (ftok(path, proj_id), IPC_EXCL,
/// `mode`) holding `message`; removed on destruction.
class OwnSegment {
 public:
  OwnSegment(const std::string &path, int proj_id, int mode, const std::string &message);
  ~OwnSegment();
  OwnSegment(const OwnSegment &) = delete;
  OwnSegment &operator=(const OwnSegment &) = delete;
  int id() const { return id_; }

 private:
  int id_ = -1;
};

/// The C API's count_servers, collecting the records it reports.
struct Found {
  isoprobe_status status = ISOPROBE_OK;
  isoprobe_error error{};
  std::vector<live_server_info> servers;
};
Found count_servers_c(const std::string &dir, unsigned timeout_ms = ISOPROBE_CONNECT_TIMEOUT_MS);

/// A finished program with its wall time and peak memory.
struct Timed {
  isoprobe_test::Finished finished;
  long long elapsed_ms = 0;
  long max_rss_kb = -1;  // measured only when asked for
};

/// Runs argv to completion (killed after `timeout`) and measures its wall
/// time, and with `peak_rss` its peak RSS (through `faults_helper peak-rss`;
/// an upper bound that includes the small helper's own pages).
Timed run_timed(const std::vector<std::string> &argv, milliseconds timeout, bool peak_rss = false);

/// Peak RSS in KiB of course_client on an empty directory: the baseline a
/// memory bound is relative to (it differs between plain and sanitizer builds).
long baseline_client_rss_kb();

/// Lines of `text` (without the newlines).
std::vector<std::string> lines_of(const std::string &text);
/// How many lines of `text` contain `needle`.
size_t count_lines_with(const std::string &text, const std::string &needle);

/// True when some socket of this network namespace listens on TCP `port`
/// (/proc/net/tcp; unlike a test connect, looking does not wake a server).
bool is_listening(unsigned short port);

/// An info file's four fields (the file must be well formed).
struct Info {
  std::string ip;
  unsigned short port = 0;
  std::string shm_path;
  int proj_id = 0;
};
Info read_info(const std::string &path);

/// True when this process may change user ids (the cases that need an
/// unprivileged client run it through `faults_helper as-user`).
bool is_root();
/// True when this process can run a child as uid/gid 65534 (false for root
/// of a user namespace that maps only itself).
bool can_switch_user();
/// The skip reason for cases that need an unprivileged child but cannot have one.
#define ISOPROBE_SKIP_UNLESS_UNPRIVILEGED_CHILD_POSSIBLE()                                                   \
  do {                                                                                                      \
    if (is_root() && !can_switch_user())                                                                    \
      GTEST_SKIP() << "uid 0 here cannot switch to uid 65534 (a user namespace mapping only root?), and "   \
                      "root bypasses the permission this case is about";                                    \
  } while (0)

/// The soft/hard RLIMIT_NOFILE; `set_nofile` returns false on failure.
struct rlimit nofile();
bool set_nofile(rlim_t soft, rlim_t hard);

}  // namespace faults
