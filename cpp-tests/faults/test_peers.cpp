// Faults caused by the other side: a client that resets its connection, and
// "servers" that never write, drop SYNs, flood, or offer a segment the client
// may not attach; a segment removed while the client is attached.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "faults_support.h"

using namespace faults;
using isoprobe_test::Child;
using isoprobe_test::TempDir;

namespace {

std::string summary(int total, int host, int container, int vm, const std::string &messages) {
  return "Total Servers: " + std::to_string(total) + "\nHost: " + std::to_string(host) +
         "\nContainer: " + std::to_string(container) + "\nVM: " + std::to_string(vm) + "\nMessages:" + messages + "\n";
}

/// Connects to ip:port and closes with SO_LINGER {1, 0}: the peer gets an RST.
void connect_and_reset(const std::string &ip, unsigned short port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  sockaddr_in a;
  std::memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ASSERT_EQ(inet_pton(AF_INET, ip.c_str(), &a.sin_addr), 1);
  ASSERT_EQ(connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a), 0) << std::strerror(errno);
  linger l = {1, 0};
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
  close(s);
}

bool sigpipe_is_default() {
  struct sigaction sa;
  sigaction(SIGPIPE, nullptr, &sa);
  return sa.sa_handler == SIG_DFL;
}

// In-process, deterministic order: the connection is reset before the
// server accepts it and writes. With SIGPIPE at its default action, a send
// without MSG_NOSIGNAL would kill this test binary.
TEST(Faults, ClientResetBeforeServerWritesCApi) {
  ASSERT_TRUE(sigpipe_is_default()) << "the case proves nothing if SIGPIPE is ignored";
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 71, "srv", dir.path());
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_create_info_file(&setup, &server, &e), ISOPROBE_OK) << e.message;
  Info info = read_info(dir.file("srv"));
  connect_and_reset(info.ip, info.port);
  isoprobe_status got = isoprobe_server_get_connection(&server, 5000, &e);
  std::string outcome;
  if (got == ISOPROBE_OK) {
    // The reset connection was accepted; writing to it must fail cleanly.
    std::string big(1 << 20, 'm');
    isoprobe_status wrote = isoprobe_server_write_to_socket(&server, big.c_str(), &e);
    EXPECT_EQ(wrote, ISOPROBE_ERROR_SYSTEM);
    EXPECT_TRUE(e.errno_value == ECONNRESET || e.errno_value == EPIPE) << e.message;
    EXPECT_STREQ(e.call, "send");
    outcome = std::string("write_to_socket -> ") + e.message;
  } else {
    EXPECT_EQ(got, ISOPROBE_ERROR_TIMEOUT) << e.message;
    outcome = "the reset connection never reached accept";
  }
  EXPECT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << e.message;
  measure("client RST (C API)", outcome + "; process alive, fds " + std::to_string(leak_check.fds()) + " -> " +
                                    std::to_string(isoprobe_test::open_fd_count()));
}

// The course's programs, where the order is up to the scheduler: the server
// either finished before the reset (exit 0) or its write hit it (exit 1 with
// one system error line). Never a death by SIGPIPE, never a leak.
TEST(Faults, ClientResetCoursePrograms) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  const int rounds = 8;
  int clean_exits = 0, error_exits = 0;
  std::string error_line;
  for (int i = 0; i < rounds; ++i) {
    std::vector<std::string> argv = {ISOPROBE_COURSE_SERVER};
    if (i % 2) argv = {ISOPROBE_FAULTS_HELPER, "steps"};
    std::string big(100000, 'm');  // more than a socket buffer takes at once
    for (const std::string &a : {std::string("0"), dir.path(), std::string("72"), std::string("srv"), dir.path(),
                                 std::string("shm"), big})
      argv.push_back(a);
    Child server(argv, capture.path());
    ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << server.err();
    Info info = read_info(dir.file("srv"));
    connect_and_reset(info.ip, info.port);
    int st = server.wait(std::chrono::seconds(15));
    ASSERT_NE(st, -1) << "server did not end";
    ASSERT_TRUE(WIFEXITED(st)) << "server died of signal " << (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (WEXITSTATUS(st) == 0) {
      ++clean_exits;
      EXPECT_EQ(server.err(), "");
    } else {
      ++error_exits;
      EXPECT_EQ(WEXITSTATUS(st), 1);
      EXPECT_EQ(lines_of(server.err()).size(), 1u) << server.err();
      EXPECT_EQ(server.err().rfind("system error: ", 0), 0u) << server.err();
      error_line = lines_of(server.err()).at(0);
    }
    EXPECT_TRUE(all_entries(dir.path()).empty());
  }
  measure("client RST (course programs)", std::to_string(clean_exits) + " clean exits, " +
                                              std::to_string(error_exits) + " exits with \"" + error_line + "\"");
}

TEST(Faults, SilentServerStillGetsASummaryInBoundedTime) {
  TempDir dir, capture;
  FakeServer silent(FakeServer::Behaviour::HoldSilently);
  Snapshot leak_check({dir.path()});
  OwnSegment segment(dir.path(), 97, 0666, "silent-shm");
  isoprobe_test::write_file(dir.file("b-silent"), info_text("127.0.0.1", silent.port(), dir.path(), 97));
  Child real({ISOPROBE_COURSE_SERVER, "0", dir.path(), "96", "a-real", dir.path(), "real-shm", "real-sock"},
             capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 2, std::chrono::seconds(10)));
  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30));
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_LE(client.elapsed_ms, 15000);
  EXPECT_EQ(client.finished.out, summary(2, 2, 0, 0, " real-shm real-sock silent-shm"));
  EXPECT_EQ(silent.accepted(), 1) << "the silent server's channel was reached";
  EXPECT_TRUE(silent.wait_idle(std::chrono::seconds(5))) << "the client closed its connection";
  EXPECT_NE(real.wait(std::chrono::seconds(10)), -1);
  isoprobe_test::remove_tree(dir.file("b-silent"));
  measure("silent server", "client exit 0 after " + std::to_string(client.elapsed_ms) +
                               " ms (read deadline 5 s); silent server counted Host, no socket message");
}

TEST(Faults, SynDroppingServersCostOneDeadlineTogether) {
  TempDir dir;
  std::vector<std::unique_ptr<SynDroppingServer>> servers;
  for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<SynDroppingServer>());
  for (auto &s : servers)
    if (!s->drops_syns())
      GTEST_SKIP() << "this kernel completes connects to a full listen queue; cannot drop SYNs here";
  Snapshot leak_check({dir.path()});
  for (size_t i = 0; i < servers.size(); ++i)
    isoprobe_test::write_file(dir.file("syn" + std::to_string(i)),
                              info_text("127.0.0.1", servers[i]->port(), dir.path(), 80 + static_cast<int>(i)));
  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30));
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_EQ(client.finished.out, summary(3, 0, 0, 3, ""));
  EXPECT_GE(client.elapsed_ms, 4500) << "the connects waited for their deadline";
  EXPECT_LT(client.elapsed_ms, 10000) << "three dropped servers must not cost three deadlines";
  for (size_t i = 0; i < servers.size(); ++i) isoprobe_test::remove_tree(dir.file("syn" + std::to_string(i)));
  measure("SYN-dropping servers x3", "client exit 0 after " + std::to_string(client.elapsed_ms) +
                                         " ms (one 5 s connect deadline for all three), all counted VM");
}

struct FloodCase {
  const char *name;
  FakeServer::Behaviour behaviour;
  size_t bytes;
};

class Flood : public ::testing::TestWithParam<FloodCase> {};

TEST_P(Flood, ClientReadsABoundedAmount) {
  const FloodCase c = GetParam();
  TempDir dir;
  FakeServer flood(c.behaviour, "", c.bytes);
  Snapshot leak_check({dir.path()});
  isoprobe_test::write_file(dir.file("flood"), info_text("127.0.0.1", flood.port(), dir.path(), 91));
  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30), true);
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_LE(client.elapsed_ms, 15000);
  const std::string expected_message(ISOPROBE_MAX_SOCKET_MESSAGE, 'x');
  EXPECT_EQ(client.finished.out, summary(1, 0, 1, 0, " " + expected_message)) << "at most 64 KiB were read";
  const long baseline = baseline_client_rss_kb();
  EXPECT_GT(baseline, 0);
  EXPECT_LT(client.max_rss_kb, baseline + 2048) << "peak RSS of the client vs " << baseline << " KiB with no server";
  EXPECT_TRUE(flood.wait_idle(std::chrono::seconds(10)));
  isoprobe_test::remove_tree(dir.file("flood"));
  measure(std::string("flood ") + c.name,
          "client exit 0 after " + std::to_string(client.elapsed_ms) + " ms, message " +
              std::to_string(expected_message.size()) + " bytes, server pushed " +
              std::to_string(flood.bytes_sent()) + " bytes before the client closed, client peak RSS " +
              std::to_string(client.max_rss_kb) + " KiB (" + std::to_string(baseline) + " KiB with no server)");
}

INSTANTIATE_TEST_SUITE_P(Faults, Flood,
                         ::testing::Values(FloodCase{"forever", FakeServer::Behaviour::FloodForever, 0},
                                           FloodCase{"16MB_then_close", FakeServer::Behaviour::FloodThenClose,
                                                     16u << 20}),
                         [](const ::testing::TestParamInfo<FloodCase> &p) { return std::string(p.param.name); });

// A message without a terminator from a server that never closes: the
// client keeps what arrived by its read deadline.
TEST(Faults, UnterminatedMessageFromAServerThatNeverCloses) {
  TempDir dir;
  FakeServer partial(FakeServer::Behaviour::WriteAndHold, "partial");
  Snapshot leak_check({dir.path()});
  isoprobe_test::write_file(dir.file("partial"), info_text("127.0.0.1", partial.port(), dir.path(), 92));
  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30));
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_LE(client.elapsed_ms, 15000);
  EXPECT_EQ(client.finished.out, summary(1, 0, 1, 0, " partial"));
  EXPECT_TRUE(partial.wait_idle(std::chrono::seconds(5)));
  isoprobe_test::remove_tree(dir.file("partial"));
  measure("unterminated message, never closed",
          "client exit 0 after " + std::to_string(client.elapsed_ms) + " ms with the 7 bytes that came");
}

// Root bypasses IPC permission checks, so the client runs as nobody.
TEST(Faults, SegmentOfAnotherOwnerIsNotAttachable) {
  if (!is_root()) GTEST_SKIP() << "needs root to run the client as another user (root itself bypasses IPC modes)";
  ISOPROBE_SKIP_UNLESS_UNPRIVILEGED_CHILD_POSSIBLE();
  TempDir dir;
  FakeServer server(FakeServer::Behaviour::WriteAndClose, "sock-msg");
  Snapshot leak_check({dir.path()});
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  OwnSegment segment(dir.path(), 73, 0600, "secret");
  isoprobe_test::write_file(dir.file("srv"), info_text("127.0.0.1", server.port(), dir.path(), 73));
  Timed client = run_timed({ISOPROBE_FAULTS_HELPER, "as-user", "65534", "65534", ISOPROBE_COURSE_CLIENT, dir.path()},
                           std::chrono::seconds(30));
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_EQ(client.finished.out, summary(1, 0, 1, 0, " sock-msg")) << "shm unreachable (EACCES), socket reached";
  EXPECT_EQ(client.finished.err, "");
  EXPECT_TRUE(isoprobe_test::shm_exists(segment.id())) << "the client never removes a segment";
  isoprobe_test::remove_tree(dir.file("srv"));
  measure("segment 0600 of another owner",
          "client (uid 65534) exit 0 after " + std::to_string(client.elapsed_ms) + " ms, counted Container");
}

// Attach-before-remove: the server removes its segment while the client is
// attached; the client still reads the message, and the segment disappears
// when the client detaches.
TEST(Faults, SegmentRemovedWhileTheClientIsAttached) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 74, "srv", dir.path());
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_write_to_shm(&server, "kept", &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_create_info_file(&setup, &server, &e), ISOPROBE_OK) << e.message;
  const int shmid = server.shmid;

  Found found = count_servers_c(dir.path());
  ASSERT_EQ(found.status, ISOPROBE_OK) << found.error.message;
  ASSERT_EQ(found.servers.size(), 1u);
  ASSERT_EQ(found.servers[0].shmid, shmid);

  ASSERT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << e.message;
  EXPECT_TRUE(isoprobe_test::shm_exists(shmid)) << "marked for removal, alive while attached";

  char buf[SHARED_MEMORY_SIZE + 1];
  ASSERT_EQ(isoprobe_client_get_message_from_shm(&found.servers[0], buf, sizeof buf, &e), ISOPROBE_OK) << e.message;
  EXPECT_STREQ(buf, "kept");
  ::testing::internal::CaptureStdout();
  isoprobe_status printed = isoprobe_client_print_server_infos(found.servers.data(), found.servers.size(), &e);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(printed, ISOPROBE_OK) << e.message;
  EXPECT_EQ(out, summary(1, 1, 0, 0, " kept")) << "both channels were reached when counted; the closed "
                                                  "server sent no socket message";

  ASSERT_EQ(isoprobe_client_disconnect(found.servers.data(), found.servers.size(), &e), ISOPROBE_OK) << e.message;
  EXPECT_FALSE(isoprobe_test::shm_exists(shmid)) << "gone with the last detach";
  measure("segment removed while attached", "message read after IPC_RMID; segment gone after disconnect; fds " +
                                                std::to_string(leak_check.fds()) + " -> " +
                                                std::to_string(isoprobe_test::open_fd_count()));
}

}  // namespace
