// Faults that kill processes: SIGTERM/SIGINT to a waiting server, SIGKILL to
// a client in the middle of its run. Each case checks that the segments,
// info files, sockets and processes involved are all gone afterwards.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "faults_support.h"
#include "test_support.h"

using namespace faults;
using isoprobe_test::Child;
using isoprobe_test::TempDir;

namespace {

/// Segments that `pid` created.
std::vector<int> segments_of(pid_t pid) {
  std::vector<int> ids;
  for (int id : isoprobe_test::own_shm_ids()) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_cpid == pid) ids.push_back(id);
  }
  return ids;
}

struct SignalCase {
  const char *api;  // "steps": waiting in get_connection; "run": waiting inside run()
  int sig;
};

class ServerSignal : public ::testing::TestWithParam<SignalCase> {};

TEST_P(ServerSignal, CleansUpAndExitsPromptly) {
  const SignalCase c = GetParam();
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  std::vector<std::string> argv = {ISOPROBE_COURSE_SERVER};
  if (std::string(c.api) == "steps") argv = {ISOPROBE_FAULTS_HELPER, "steps"};
  for (const std::string &a : {std::string("0"), dir.path(), std::string("41"), std::string("srv"), dir.path(),
                               std::string("shm-msg"), std::string("sock-msg")})
    argv.push_back(a);
  Child server(argv, capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << server.err();
  Info info = read_info(dir.file("srv"));
  std::vector<int> segs = segments_of(server.pid());
  ASSERT_EQ(segs.size(), 1u) << "the server's segment exists while it waits";
  ASSERT_TRUE(is_listening(info.port)) << "the server listens while it waits";

  auto start = Clock::now();
  server.signal(c.sig);
  int status = server.wait(std::chrono::seconds(5));
  long long took = ms_since(start);
  ASSERT_NE(status, -1) << "the server did not exit within 5 s of " << strsignal(c.sig);
  EXPECT_LE(took, 1000) << "exit took " << took << " ms";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == c.sig)
      << "the handler re-raises the signal, so the parent sees the usual death (status " << status << ")";
  EXPECT_FALSE(isoprobe_test::shm_exists(segs[0])) << "segment removed";
  EXPECT_TRUE(all_entries(dir.path()).empty()) << "info file (and any temporary) removed";
  // Not a test connect: on a busy loopback a freed port can be taken again at once.
  EXPECT_FALSE(is_listening(info.port)) << "listening socket closed";
  EXPECT_EQ(server.err(), "") << "a signal death prints nothing";
  measure(std::string(c.api) + "+" + sigabbrev_np(c.sig),
          "exit " + std::to_string(took) + " ms after the signal; segment, info file, listener gone");
}

INSTANTIATE_TEST_SUITE_P(Faults, ServerSignal,
                         ::testing::Values(SignalCase{"steps", SIGTERM}, SignalCase{"steps", SIGINT},
                                           SignalCase{"run", SIGTERM}, SignalCase{"run", SIGINT}),
                         [](const ::testing::TestParamInfo<SignalCase> &p) {
                           return std::string(p.param.api) + "_" + sigabbrev_np(p.param.sig);
                         });

// The narrowest window: the signal arrives the moment the info file
// appears (a client may react to it just as fast). The file must still go.
TEST(Faults, SignalRightAfterTheInfoFileAppears) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  int left_files = 0, left_segments = 0;
  const int rounds = 25;
  for (int i = 0; i < rounds; ++i) {
    Child server({ISOPROBE_COURSE_SERVER, "0", dir.path(), "42", "srv", dir.path(), "a", "b"}, capture.path());
    ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << server.err();
    server.signal(SIGTERM);
    int status = server.wait(std::chrono::seconds(5));
    ASSERT_TRUE(status != -1 && WIFSIGNALED(status)) << status;
    left_files += !all_entries(dir.path()).empty();
    left_segments += !segments_of(server.pid()).empty();
    isoprobe_test::remove_tree(dir.file("srv"));
  }
  EXPECT_EQ(left_files, 0) << "info files left behind in " << rounds << " rounds";
  EXPECT_EQ(left_segments, 0) << "segments left behind in " << rounds << " rounds";
  measure("SIGTERM right after publish", std::to_string(left_files) + " info files and " +
                                             std::to_string(left_segments) + " segments left in " +
                                             std::to_string(rounds) + " rounds");
}

// The client is killed while it waits on a silent "server" (so it is
// connected to the real servers, and attached to their segments, but has not
// closed anything). The real servers must notice the closed connection, end
// within their timeouts, and remove everything.
TEST(Faults, ClientKilledMidRunServersStillEndAndCleanUp) {
  TempDir dir, capture;
  FakeServer silent(FakeServer::Behaviour::HoldSilently);
  Snapshot leak_check({dir.path()});
  const unsigned accept_ms = 20000, close_ms = 3000;
  std::vector<std::unique_ptr<Child>> servers;
  for (int i = 0; i < 3; ++i) {
    std::string n = std::to_string(i);
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{ISOPROBE_FAULTS_HELPER, "run-timeouts", std::to_string(accept_ms),
                                 std::to_string(close_ms), "0", dir.path(), std::to_string(51 + i), "srv" + n,
                                 dir.path(), "shm" + n, "sock" + n},
        capture.path()));
  }
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 3, std::chrono::seconds(10)));
  isoprobe_test::write_file(dir.file("zz-silent"), info_text("127.0.0.1", silent.port(), dir.path(), 99));

  Child client({ISOPROBE_COURSE_CLIENT, dir.path()}, capture.path());
  // All connects start together, so once the silent server has its
  // connection the client is connected everywhere and waits for messages.
  ASSERT_TRUE(silent.wait_accepted(1, std::chrono::seconds(10)));
  auto killed = Clock::now();
  client.signal(SIGKILL);
  int cst = client.wait(std::chrono::seconds(5));
  ASSERT_TRUE(cst != -1 && WIFSIGNALED(cst) && WTERMSIG(cst) == SIGKILL);
  int clean_exits = 0;

  for (size_t i = 0; i < servers.size(); ++i) {
    int st = servers[i]->wait(std::chrono::milliseconds(accept_ms + close_ms + 2000));
    ASSERT_NE(st, -1) << "server " << i << " did not end within its timeouts";
    // It either saw the connection close (exit 0), or its send hit the dead
    // connection (exit 1 with one system error line); never a signal death.
    ASSERT_TRUE(WIFEXITED(st)) << "server " << i << " status " << st;
    if (WEXITSTATUS(st) == 0) {
      ++clean_exits;
      EXPECT_EQ(servers[i]->err(), "");
    } else {
      EXPECT_EQ(WEXITSTATUS(st), 1);
      EXPECT_EQ(lines_of(servers[i]->err()).size(), 1u) << servers[i]->err();
      EXPECT_EQ(servers[i]->err().rfind("system error: ", 0), 0u) << servers[i]->err();
    }
  }
  long long took = ms_since(killed);
  EXPECT_TRUE(silent.wait_idle(std::chrono::seconds(5))) << "the silent server saw the client's connection close";
  isoprobe_test::remove_tree(dir.file("zz-silent"));
  EXPECT_TRUE(all_entries(dir.path()).empty());
  measure("client SIGKILL mid-run", "3 servers ended within " + std::to_string(took) +
                                        " ms of the kill (peer-close timeout " + std::to_string(close_ms) + " ms), " +
                                        std::to_string(clean_exits) + " exit 0, " +
                                        std::to_string(servers.size() - clean_exits) +
                                        " exit 1 (one system error line); segments and info files gone");
}

// A client that is stopped (not killed) mid-run keeps its connections open:
// the servers wait at most their peer-close timeout, then clean up anyway.
TEST(Faults, ClientFrozenMidRunServersEndAtTheirPeerCloseTimeout) {
  TempDir dir, capture;
  FakeServer silent(FakeServer::Behaviour::HoldSilently);
  Snapshot leak_check({dir.path()});
  const unsigned close_ms = 1500;
  Child server({ISOPROBE_FAULTS_HELPER, "run-timeouts", "20000", std::to_string(close_ms), "0", dir.path(), "61",
                "srv", dir.path(), "shm", "sock"},
               capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10)));
  isoprobe_test::write_file(dir.file("zz-silent"), info_text("127.0.0.1", silent.port(), dir.path(), 98));
  Child client({ISOPROBE_COURSE_CLIENT, dir.path()}, capture.path());
  ASSERT_TRUE(silent.wait_accepted(1, std::chrono::seconds(10)));
  client.signal(SIGSTOP);
  auto stopped = Clock::now();
  int st = server.wait(std::chrono::milliseconds(close_ms + 5000));
  long long took = ms_since(stopped);
  client.signal(SIGKILL);
  client.wait(std::chrono::seconds(5));
  EXPECT_TRUE(silent.wait_idle(std::chrono::seconds(5)));
  ASSERT_NE(st, -1) << "server did not end";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << server.err();
  EXPECT_LE(took, close_ms + 3000);
  isoprobe_test::remove_tree(dir.file("zz-silent"));
  EXPECT_TRUE(all_entries(dir.path()).empty());
  measure("client frozen mid-run", "server ended " + std::to_string(took) + " ms after the client froze (timeout " +
                                       std::to_string(close_ms) + " ms)");
}

}  // namespace
