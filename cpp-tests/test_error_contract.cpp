// The course's error contract for the C++ API: a failing system call prints
// exactly one line "system error: <call>: <reason>\n" on stderr, frees that
// server's (or client's) resources, and exits with 1. A refused argument
// prints one plain line (no "system error:") and exits with 1 too.
//
// Death tests run "fast" (fork at the EXPECT_EXIT, no re-exec): the child
// then uses the parent's directories and keys, so the parent can check
// afterwards that nothing the child created is left. The binary starts no
// threads, so forking is safe.
#include <fcntl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core_helpers.h"

using namespace core_test;
using isoprobe_test::TempDir;
using ::testing::ExitedWithCode;
using ::testing::MatchesRegex;

namespace {

/// The whole of stderr must be this text.
::testing::Matcher<const std::string &> Exactly(const std::string &text) { return ::testing::Eq(text); }

std::string system_error(const char *call, int errnum) {
  return std::string("system error: ") + call + ": " + std::strerror(errnum) + "\n";
}

// What the dying child must have freed before exit(1), checked by an atexit
// handler in the child; a leak adds a line to stderr, which fails the match.
int g_watched_fd = -1;
int g_watched_shmid = -1;

void report_leaks_at_exit() {
  if (g_watched_fd >= 0 && fcntl(g_watched_fd, F_GETFD) != -1)
    std::fprintf(stderr, "LEAK: socket %d still open at exit\n", g_watched_fd);
  shmid_ds ds;
  if (g_watched_shmid >= 0 && shmctl(g_watched_shmid, IPC_STAT, &ds) == 0)
    std::fprintf(stderr, "LEAK: segment %d still exists at exit\n", g_watched_shmid);
}

void watch(const live_server_info &server) {
  g_watched_fd = server.server_fd;
  g_watched_shmid = server.shmid;
  std::atexit(report_leaks_at_exit);
}

class ErrorContractDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "fast"); }
  void TearDown() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }

  TempDir dir;

  /// The info directory holds nothing, dot-files included.
  void expect_dir_empty(const std::string &path) {
    EXPECT_EQ(all_entries(path), std::vector<std::string>{}) << "files left in " << path;
  }
  void expect_no_segment(const std::string &path, int proj) {
    EXPECT_EQ(segment_lookup_errno(key_of(path, proj)), ENOENT) << "the dead server's segment is still there";
  }
};

TEST_F(ErrorContractDeathTest, PortInUseFailsInBindAndFreesTheSegment) {
  // Hold a port on the very address start_communication listens on (found by
  // starting a server on any port), listening, without SO_REUSEADDR.
  sockaddr_in addr;
  {
    CServer probe(make_setup(dir.path(), 80, "probe", dir.path()));
    ASSERT_EQ(probe.start_status, ISOPROBE_OK);
    addr = probe.address();
  }
  addr.sin_port = 0;
  int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0) << std::strerror(errno);
  ASSERT_EQ(listen(holder, 1), 0);
  unsigned short port = port_of(local_address(holder));

  server_setup_information s = make_setup(dir.path(), 81, "busy", dir.path(), port);
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
      }(),
      ExitedWithCode(1), Exactly(system_error("bind", EADDRINUSE)));
  close(holder);
  expect_no_segment(dir.path(), 81);
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, InfoFileIntoMissingDirectoryFailsInOpenAndFreesSocketAndSegment) {
  server_setup_information s = make_setup(dir.path(), 82, "x.info", dir.file("missing"));
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
        watch(server);
        create_info_file(s, server);
      }(),
      ExitedWithCode(1), Exactly(system_error("open", ENOENT)));
  expect_no_segment(dir.path(), 82);
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, MissingShmPathFailsInFtok) {
  server_setup_information s = make_setup(dir.file("no-such-path"), 83, "x.info", dir.path());
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
      }(),
      ExitedWithCode(1), Exactly(system_error("ftok", ENOENT)));
  EXPECT_EXIT(run(s, "a", "b"), ExitedWithCode(1), Exactly(system_error("ftok", ENOENT)));
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, SegmentKeyTakenFailsInShmgetAndLeavesTheOtherServerAlone) {
  CServer first(make_setup(dir.path(), 84, "first", dir.path()));
  ASSERT_EQ(first.start_status, ISOPROBE_OK);
  ASSERT_EQ(first.publish(), ISOPROBE_OK);
  server_setup_information s = make_setup(dir.path(), 84, "second", dir.path());
  EXPECT_EXIT(run(s, "a", "b"), ExitedWithCode(1), Exactly(system_error("shmget", EEXIST)));
  EXPECT_TRUE(isoprobe_test::shm_exists(first.info().shmid)) << "the failing server removed another's segment";
  EXPECT_TRUE(is_listening_socket(first.info().server_fd));
  EXPECT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"first"});
}

TEST_F(ErrorContractDeathTest, SendToAResetClientFailsInSendAndFreesEverything) {
  server_setup_information s = make_setup(dir.path(), 85, "x.info", dir.path());
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
        create_info_file(s, server);
        watch(server);
        int client = connect_to(local_address(server.server_fd));
        if (get_connection(server) != 0) std::_Exit(3);
        linger lg;  // close with RST
        lg.l_onoff = 1;
        lg.l_linger = 0;
        setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(client);
        write_to_socket(server, std::string(1 << 20, 'x'));
      }(),
      ExitedWithCode(1), MatchesRegex("system error: send: (Broken pipe|Connection reset by peer)\n"));
  expect_no_segment(dir.path(), 85);
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, CountServersOnMissingDirectoryFailsInOpendir) {
  std::string missing = dir.file("missing");
  EXPECT_EXIT(
      [&] {
        std::vector<live_server_info> servers;
        count_servers(missing, servers);
      }(),
      ExitedWithCode(1), Exactly("system error: opendir: No such file or directory\n"));
  EXPECT_EXIT(run(missing), ExitedWithCode(1), Exactly("system error: opendir: No such file or directory\n"));
}

// Refused arguments are not system errors: one plain line, exit 1, nothing created.
TEST_F(ErrorContractDeathTest, ProjIdZeroIsOnePlainLine) {
  server_setup_information s = make_setup(dir.path(), 0, "x.info", dir.path());
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
      }(),
      ExitedWithCode(1), MatchesRegex("isoprobe error: [^\n]*shm_proj_id[^\n]*\n"));
  EXPECT_EXIT(run(s, "a", "b"), ExitedWithCode(1), MatchesRegex("isoprobe error: [^\n]*shm_proj_id[^\n]*\n"));
  expect_no_segment(dir.path(), 0);
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, OversizedShmMessageIsOnePlainLineAndFreesEverything) {
  server_setup_information s = make_setup(dir.path(), 86, "x.info", dir.path());
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
        create_info_file(s, server);
        watch(server);
        write_to_shm(server, std::string(SHARED_MEMORY_SIZE, 'm'));
      }(),
      ExitedWithCode(1), MatchesRegex("isoprobe error: [^\n]*4095[^\n]*\n"));
  expect_no_segment(dir.path(), 86);
  expect_dir_empty(dir.path());
}

TEST_F(ErrorContractDeathTest, AMessageWithANulByteIsOnePlainLine) {
  server_setup_information s = make_setup(dir.path(), 87, "x.info", dir.path());
  EXPECT_EXIT(
      [&] {
        live_server_info server;
        start_communication(s, server);
        watch(server);
        write_to_shm(server, std::string("a\0b", 3));
      }(),
      ExitedWithCode(1), MatchesRegex("isoprobe error: [^\n]*NUL[^\n]*\n"));
  expect_no_segment(dir.path(), 87);
}

}  // namespace
