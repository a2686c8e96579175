// Our client against servers this project did not write: foreign_server.c
// follows the assignment text with the habits seen in student solutions (an
// info file without a final newline or with CRLF, a server that keeps the
// connection open after sending, proj id 0, a host name or an IPv6 address
// instead of an IPv4 one, a reset after accept, an 8 MiB message). Each case checks the
// exact summary and that the client did not wait for the server to close:
// the time bound (3 s, against a 5 s deadline and a 10 s linger) is a loose
// correctness bound, not a speed target; the speed numbers are bench rows
// B6 and B7.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ipc.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "test_support.h"

using namespace isoprobe_test;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr milliseconds kNoWaitForClose{3000};

/// One foreign server in `dir`, serving one client.
struct Foreign {
  std::unique_ptr<Child> child;
  std::string shm_path;
};

Foreign start_foreign(const TempDir &dir, const TempDir &paths, const std::string &style,
                      const std::string &name) {
  Foreign f;
  f.shm_path = paths.file("shm-" + name);
  write_file(f.shm_path, "ftok names this file\n");
  f.child.reset(new Child({ISOPROBE_FOREIGN_SERVER, style, dir.path(), name, f.shm_path, "shm-" + name,
                           "sock-" + name},
                          paths.path()));
  return f;
}

/// Waits for a foreign server's exit and checks it cleaned up and exited 0.
void expect_clean_exit(Foreign &f, milliseconds within = milliseconds(15000)) {
  int status = f.child->wait(within);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "foreign server status " << status << ", stderr: " << f.child->err();
}

std::string summary(int host, int container, int vm, const std::string &messages) {
  return "Total Servers: " + std::to_string(host + container + vm) + "\nHost: " + std::to_string(host) +
         "\nContainer: " + std::to_string(container) + "\nVM: " + std::to_string(vm) + "\nMessages:" + messages +
         "\n";
}

struct Timed {
  Finished run;
  milliseconds took;
};

Timed run_client(const char *program, const std::string &dir) {
  auto start = Clock::now();
  Finished f = run({program, dir}, milliseconds(20000));
  return {f, std::chrono::duration_cast<milliseconds>(Clock::now() - start)};
}

class OneForeignServer : public ::testing::TestWithParam<const char *> {};

TEST_P(OneForeignServer, IsHostWithBothMessagesWithoutWaitingForClose) {
  TempDir dir("interop-info"), paths("interop-paths");
  std::string style = GetParam();
  Foreign f = start_foreign(dir, paths, style, style);
  ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
  Timed t = run_client(ISOPROBE_COURSE_CLIENT, dir.path());
  EXPECT_TRUE(t.run.exited_with(0)) << t.run.err;
  EXPECT_EQ(t.run.out, summary(1, 0, 0, " shm-" + style + " sock-" + style)) << t.run.err;
  EXPECT_EQ(t.run.err, "") << "no warning for a file the world writes this way";
  EXPECT_LT(t.took, kNoWaitForClose);
  f.child->signal(SIGTERM);  // ends the linger early; the others are done
  expect_clean_exit(f);
}

INSTANTIATE_TEST_SUITE_P(Styles, OneForeignServer,
                         ::testing::Values("plain", "nonl", "crlf", "linger", "proj0", "localhost"),
                         [](const ::testing::TestParamInfo<const char *> &i) { return std::string(i.param); });

/// True when this machine can listen on the IPv6 loopback (a container
/// or a kernel booted with ipv6.disable=1 may not).
bool ipv6_loopback_available() {
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

TEST(Interop, AnIpv6AddressIsConnectedEndToEnd) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback (::1) to listen on here";
  TempDir dir("interop-info"), paths("interop-paths");
  Foreign f = start_foreign(dir, paths, "ipv6", "ipv6");
  ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
  EXPECT_EQ(read_file(dir.path() + "/ipv6").substr(0, 4), "::1\n") << "the server announces ::1";
  Timed t = run_client(ISOPROBE_COURSE_CLIENT, dir.path());
  EXPECT_TRUE(t.run.exited_with(0)) << t.run.err;
  EXPECT_EQ(t.run.out, summary(1, 0, 0, " shm-ipv6 sock-ipv6")) << t.run.err;
  EXPECT_EQ(t.run.err, "");
  expect_clean_exit(f);
}

TEST(Interop, ResetAfterAcceptIsAlwaysHost) {
  // "Socket reached" is the completed handshake: a reset afterwards never
  // changes the count. Six runs, as the flaky classification showed 5 of 6.
  for (int round = 0; round < 6; ++round) {
    TempDir dir("interop-info"), paths("interop-paths");
    Foreign f = start_foreign(dir, paths, "reset", "reset");
    ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
    Timed t = run_client(ISOPROBE_COURSE_CLIENT, dir.path());
    EXPECT_EQ(t.run.out, summary(1, 0, 0, " shm-reset")) << "round " << round << ": " << t.run.err;
    EXPECT_LT(t.took, kNoWaitForClose);
    expect_clean_exit(f);
  }
}

TEST(Interop, AllStylesTogetherWithTheSplitClient) {
  TempDir dir("interop-info"), paths("interop-paths");
  std::vector<std::string> styles = {"crlf", "linger", "localhost", "nonl", "plain", "proj0", "reset"};
  std::vector<Foreign> servers;
  for (const auto &s : styles) servers.push_back(start_foreign(dir, paths, s, s));
  ASSERT_TRUE(wait_for_files(dir.path(), styles.size(), milliseconds(10000)));
  Timed t = run_client(ISOPROBE_SPLIT_CLIENT, dir.path());
  std::string messages;
  for (const auto &s : styles) messages += " shm-" + s + (s == "reset" ? "" : " sock-" + s);
  EXPECT_TRUE(t.run.exited_with(0)) << t.run.err;
  EXPECT_EQ(t.run.out, summary(static_cast<int>(styles.size()), 0, 0, messages)) << t.run.err;
  EXPECT_LT(t.took, kNoWaitForClose) << "count_servers read the messages under its deadline";
  for (auto &f : servers) {
    f.child->signal(SIGTERM);
    expect_clean_exit(f);
  }
}

TEST(Interop, EightMebibyteMessageIsDrainedNotReset) {
  for (const char *client : {ISOPROBE_COURSE_CLIENT, ISOPROBE_SPLIT_CLIENT}) {
    TempDir dir("interop-info"), paths("interop-paths");
    Foreign f = start_foreign(dir, paths, "big", "big");
    ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
    Timed t = run_client(client, dir.path());
    EXPECT_TRUE(t.run.exited_with(0)) << t.run.err;
    // The message is kept up to ISOPROBE_MAX_SOCKET_MESSAGE bytes, the rest read and discarded.
    EXPECT_EQ(t.run.out, summary(1, 0, 0, " shm-big " + std::string(ISOPROBE_MAX_SOCKET_MESSAGE, 'x')))
        << client;
    expect_clean_exit(f);  // exits 1 when the client reset the connection
  }
}

TEST(Interop, RefusedFileCountsAsVmWithOneWarningLine) {
  TempDir dir("interop-info");
  write_file(dir.file("garbage"), "this is not\nan info file\n");
  Timed t = run_client(ISOPROBE_COURSE_CLIENT, dir.path());
  EXPECT_EQ(t.run.out, summary(0, 0, 1, ""));
  EXPECT_EQ(std::count(t.run.err.begin(), t.run.err.end(), '\n'), 1) << t.run.err;
  EXPECT_NE(t.run.err.find(dir.file("garbage")), std::string::npos) << t.run.err;
}

// disconnect() detaches exactly what count_servers attached: the program's
// own attachment to the same segment stays mapped and readable.
TEST(Interop, DisconnectLeavesTheProgramsOwnAttachment) {
  TempDir dir("interop-info"), paths("interop-paths");
  Foreign f = start_foreign(dir, paths, "plain", "own");
  ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
  int shmid = shmget(ftok(f.shm_path.c_str(), 'F'), 0, 0);
  ASSERT_GE(shmid, 0) << std::strerror(errno);
  const char *own = static_cast<const char *>(shmat(shmid, nullptr, SHM_RDONLY));
  ASSERT_NE(own, reinterpret_cast<const char *>(-1)) << std::strerror(errno);
  auto attachments = [&] {
    shmid_ds ds{};
    return shmctl(shmid, IPC_STAT, &ds) == 0 ? static_cast<int>(ds.shm_nattch) : -1;
  };
  int before = attachments();
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(dir.path(), servers), 1);
  EXPECT_EQ(servers[0].shmid, shmid);
  EXPECT_EQ(attachments(), before + 1);
  disconnect(servers);
  EXPECT_EQ(attachments(), before) << "exactly the library's attachment is gone";
  EXPECT_STREQ(own, "shm-own") << "the program's own attachment is still mapped";
  disconnect(servers);  // a second call is a no-op
  EXPECT_EQ(attachments(), before);
  EXPECT_EQ(shmdt(own), 0) << std::strerror(errno);
  expect_clean_exit(f);
}

// Without /proc (a mount namespace where it is unmounted), the long-way
// client still counts, reads and disconnects: nothing in the client reads
// /proc any more.
TEST(Interop, ClientNeedsNoProc) {
  TempDir dir("interop-info"), paths("interop-paths"), capture("interop-out");
  Foreign f = start_foreign(dir, paths, "plain", "noproc");
  ASSERT_TRUE(wait_for_files(dir.path(), 1, milliseconds(10000))) << f.child->err();
  const std::string out = capture.file("out"), err = capture.file("err");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Exit 77: this machine cannot make the mount namespace (no privilege).
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        umount2("/proc", MNT_DETACH) != 0)
      _exit(77);
    if (access("/proc/self/maps", F_OK) == 0) _exit(78);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(79);
    execl(ISOPROBE_SPLIT_CLIENT, ISOPROBE_SPLIT_CLIENT, dir.path().c_str(), static_cast<char *>(nullptr));
    _exit(80);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    f.child->signal(SIGTERM);
    expect_clean_exit(f);
    GTEST_SKIP() << "cannot unmount /proc in a new mount namespace here (needs CAP_SYS_ADMIN)";
  }
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(err);
  EXPECT_EQ(read_file(out), summary(1, 0, 0, " shm-noproc sock-noproc")) << read_file(err);
  expect_clean_exit(f);
}

}  // namespace
