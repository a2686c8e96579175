// Many servers: 2000 of them as threads of this process against one client
// whose descriptors go past FD_SETSIZE, servers started and shut down
// concurrently (no cross-talk), and a client that cannot get enough
// descriptors.
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <atomic>
#include <cstdio>
#include <functional>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "faults_support.h"

using namespace faults;
using isoprobe_test::TempDir;

namespace {

/// Paths whose ftok keys differ in the inode bits, so that `count` servers
/// get distinct keys from (path, proj id 1..250).
std::vector<std::string> key_paths(const TempDir &dir, size_t count) {
  std::vector<std::string> paths;
  std::set<unsigned> low_inodes;
  for (int i = 0; paths.size() * 250 < count; ++i) {
    std::string p = dir.file("key" + std::to_string(i));
    isoprobe_test::write_file(p, "");
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && low_inodes.insert(st.st_ino & 0xffff).second) paths.push_back(p);
  }
  return paths;
}

/// Runs `body` on a thread with a small stack (2000 default 8 MiB stacks
/// are 16 GiB of address space).
class SmallThread {
 public:
  explicit SmallThread(std::function<void()> body) : body_(std::move(body)) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int rc = pthread_create(&thread_, &attr, &SmallThread::start, this);
    pthread_attr_destroy(&attr);
    if (rc != 0) throw std::runtime_error(std::string("pthread_create: ") + std::strerror(rc));
  }
  ~SmallThread() { pthread_join(thread_, nullptr); }
  SmallThread(const SmallThread &) = delete;
  SmallThread &operator=(const SmallThread &) = delete;

 private:
  static void *start(void *self) {
    static_cast<SmallThread *>(self)->body_();
    return nullptr;
  }
  std::function<void()> body_;
  pthread_t thread_;
};

/// Restores RLIMIT_NOFILE on destruction.
class NofileGuard {
 public:
  NofileGuard() : saved_(nofile()) {}
  ~NofileGuard() { set_nofile(saved_.rlim_cur, saved_.rlim_max); }
  const struct rlimit &saved() const { return saved_; }

 private:
  struct rlimit saved_;
};

std::string num(int i) {
  char b[8];
  std::snprintf(b, sizeof b, "%04d", i);
  return b;
}

TEST(Faults, TwoThousandServersAsThreadsAndAClientPastFdSetsize) {
  const int n = 2000;
  NofileGuard limits;
  if (limits.saved().rlim_max < 3 * n + 200)
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << limits.saved().rlim_max << " is below " << 3 * n + 200;
  ASSERT_TRUE(set_nofile(limits.saved().rlim_max, limits.saved().rlim_max));
  TempDir dir, keys;
  std::vector<std::string> paths = key_paths(keys, n);
  Snapshot leak_check({dir.path()});

  std::vector<isoprobe_status> results(n, ISOPROBE_ERROR_PANIC);
  std::vector<std::string> errors(n);
  auto start = Clock::now();
  {
    // Counts the renames rather than listing 2000 files after each one; the
    // watch exists before the servers start.
    isoprobe_test::DirWatch published(dir.path());
    std::vector<std::unique_ptr<SmallThread>> servers;
    for (int i = 0; i < n; ++i) {
      servers.push_back(std::make_unique<SmallThread>([&, i] {
        server_setup_information setup = make_setup(paths[i / 250], 1 + i % 250, "srv" + num(i), dir.path());
        isoprobe_error e;
        results[i] = isoprobe_server_run_with_timeouts(&setup, ("s" + num(i)).c_str(), ("k" + num(i)).c_str(),
                                                       60000, 10000, &e);
        errors[i] = e.message;
      }));
    }
    ASSERT_TRUE(published.wait_until(std::chrono::seconds(60), [&] { return published.moved_in() >= size_t(n); }))
        << "servers did not all publish";
    long long started_ms = ms_since(start);

    // The client starts with the usual soft limit of 1024 and must raise it.
    Timed client = run_timed({ISOPROBE_FAULTS_HELPER, "nofile", "1024", std::to_string(limits.saved().rlim_max),
                              ISOPROBE_COURSE_CLIENT, dir.path()},
                             std::chrono::seconds(90), true);
    ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
    std::string expected = "Total Servers: 2000\nHost: 2000\nContainer: 0\nVM: 0\nMessages:";
    for (int i = 0; i < n; ++i) expected += " s" + num(i) + " k" + num(i);
    EXPECT_EQ(client.finished.out, expected + "\n");
    EXPECT_EQ(client.finished.err, "");
    measure("2000 servers as threads",
            "all published in " + std::to_string(started_ms) + " ms; client (soft RLIMIT_NOFILE 1024 at start) exit 0 in " +
                std::to_string(client.elapsed_ms) + " ms, peak RSS " + std::to_string(client.max_rss_kb) +
                " KiB, exact classification 2000 Host");
  }
  long long all_done = ms_since(start);
  int failed = 0;
  for (int i = 0; i < n; ++i)
    if (results[i] != ISOPROBE_OK) {
      if (failed++ < 3) ADD_FAILURE() << "server " << i << ": " << errors[i];
    }
  EXPECT_EQ(failed, 0);
  EXPECT_TRUE(all_entries(dir.path()).empty());
  measure("2000 servers as threads", "all ended and cleaned up " + std::to_string(all_done) +
                                         " ms after the first started; test fds " +
                                         std::to_string(leak_check.fds()) + " -> " +
                                         std::to_string(isoprobe_test::open_fd_count()));
}

/// Blocks until `count` threads arrived (reusable).
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    int gen = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return gen != generation_; });
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int count_, arrived_ = 0, generation_ = 0;
};

std::string read_segment(int shmid) {
  void *p = shmat(shmid, nullptr, SHM_RDONLY);
  if (p == reinterpret_cast<void *>(-1)) return "<shmat failed>";
  std::string s(static_cast<const char *>(p), strnlen(static_cast<const char *>(p), SHARED_MEMORY_SIZE));
  shmdt(p);
  return s;
}

// Servers in many threads start, publish and shut down at the same moments;
// every one must see only its own segment, port and file, and a client in the
// middle must see each server's own message.
TEST(Faults, ConcurrentServersInOneProcessHaveNoCrossTalk) {
  const int threads = 48, rounds = 4;
  TempDir dir, keys;
  std::vector<std::string> paths = key_paths(keys, threads);
  Snapshot leak_check({dir.path()});
  Barrier barrier(threads + 1);
  std::vector<int> shmids(threads, -1);
  std::vector<int> ports(threads, -1);
  std::atomic<int> problems{0};
  std::mutex report_mutex;
  std::string first_problem;
  auto problem = [&](const std::string &what) {
    std::lock_guard<std::mutex> lock(report_mutex);
    if (problems++ == 0) first_problem = what;
  };
  int client_checks = 0;
  {
    std::vector<std::unique_ptr<SmallThread>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<SmallThread>([&, t] {
        for (int r = 0; r < rounds; ++r) {
          std::string name = "t" + num(t);
          std::string msg = "m" + num(t) + "-" + std::to_string(r);
          server_setup_information setup = make_setup(paths[0], 1 + t, name, dir.path());
          live_server_info s;
          isoprobe_error e;
          barrier.wait();  // everybody starts at once
          bool up = isoprobe_server_start_communication(&setup, &s, &e) == ISOPROBE_OK &&
                    isoprobe_server_write_to_shm(&s, msg.c_str(), &e) == ISOPROBE_OK &&
                    isoprobe_server_create_info_file(&setup, &s, &e) == ISOPROBE_OK;
          if (!up) problem(name + ": " + e.message);
          shmids[t] = up ? s.shmid : -1;
          Info info = up ? read_info(dir.file(name)) : Info{};
          ports[t] = info.port;
          if (up && read_segment(s.shmid) != msg) problem(name + ": segment holds " + read_segment(s.shmid));
          if (up && (info.proj_id != 1 + t || s.info_file_path != dir.file(name)))
            problem(name + ": info file describes another server");
          barrier.wait();  // all up: the client looks now
          barrier.wait();  // client done
          if (up && isoprobe_server_shutdown(&s, &e) != ISOPROBE_OK) problem(name + ": shutdown: " + e.message);
          barrier.wait();  // all down
        }
      }));
    }
    for (int r = 0; r < rounds; ++r) {
      barrier.wait();
      barrier.wait();
      std::set<int> distinct_ids(shmids.begin(), shmids.end()), distinct_ports(ports.begin(), ports.end());
      EXPECT_EQ(distinct_ids.size(), static_cast<size_t>(threads)) << "round " << r << ": shared segment ids";
      EXPECT_EQ(distinct_ports.size(), static_cast<size_t>(threads)) << "round " << r << ": shared ports";
      Found found = count_servers_c(dir.path());
      EXPECT_EQ(found.status, ISOPROBE_OK) << found.error.message;
      EXPECT_EQ(found.servers.size(), static_cast<size_t>(threads));
      for (size_t i = 0; i < found.servers.size(); ++i) {
        char buf[SHARED_MEMORY_SIZE + 1];
        isoprobe_error e;
        EXPECT_EQ(isoprobe_client_get_message_from_shm(&found.servers[i], buf, sizeof buf, &e), ISOPROBE_OK);
        EXPECT_EQ(std::string(buf), "m" + num(static_cast<int>(i)) + "-" + std::to_string(r));
        EXPECT_GE(found.servers[i].client_fd, 0) << "socket reached";
        ++client_checks;
      }
      isoprobe_error e;
      EXPECT_EQ(isoprobe_client_disconnect(found.servers.data(), found.servers.size(), &e), ISOPROBE_OK);
      barrier.wait();
      barrier.wait();
      EXPECT_TRUE(all_entries(dir.path()).empty()) << "round " << r;
      for (int id : shmids) EXPECT_FALSE(isoprobe_test::shm_exists(id)) << "round " << r;
    }
  }
  EXPECT_EQ(problems.load(), 0) << first_problem;
  measure("concurrent servers", std::to_string(threads) + " threads x " + std::to_string(rounds) +
                                    " rounds, " + std::to_string(client_checks) +
                                    " client reads matched their server; fds " + std::to_string(leak_check.fds()) +
                                    " -> " + std::to_string(isoprobe_test::open_fd_count()));
}

// When the fd limit cannot be raised far enough, creating sockets fails in
// the client itself: that is a system error of the client, never a verdict
// about the servers (which would otherwise be counted as containers).
TEST(Faults, ClientThatCannotGetEnoughDescriptorsFailsLoudly) {
  TempDir dir;
  std::vector<std::unique_ptr<Listener>> listeners;
  for (int i = 0; i < 100; ++i) listeners.push_back(std::make_unique<Listener>());
  Snapshot leak_check({dir.path()});
  for (int i = 0; i < 100; ++i)
    isoprobe_test::write_file(dir.file("l" + num(i)), info_text("127.0.0.1", listeners[i]->port(), dir.path(), 1 + i));
  Timed client = run_timed({ISOPROBE_FAULTS_HELPER, "nofile", "64", "64", ISOPROBE_COURSE_CLIENT, dir.path()},
                           std::chrono::seconds(30));
  EXPECT_TRUE(client.finished.exited_with(1)) << client.finished.out;
  EXPECT_EQ(client.finished.out, "");
  EXPECT_EQ(client.finished.err, "system error: socket: Too many open files\n");
  for (int i = 0; i < 100; ++i) isoprobe_test::remove_tree(dir.file("l" + num(i)));
  measure("client fd limit 64 for 100 servers",
          "exit 1 after " + std::to_string(client.elapsed_ms) + " ms with \"system error: socket: Too many open files\"");
}

}  // namespace
