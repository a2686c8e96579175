// Bad input to the course-style programs: malformed info files and odd
// directory entries for the client, a missing or unreadable client
// directory, and every kind of bad server argument. Each case: one clear
// line, the right exit status, nothing left behind.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <iostream>
#include <set>
#include <map>
#include <string>
#include <vector>

#include "faults_support.h"

using namespace faults;
using isoprobe_test::Child;
using isoprobe_test::TempDir;

namespace {

// Every malformed info file is counted as unreachable (VM) with one warning
// naming it and its problem; the good server next to them is unaffected.
// (The spellings the world uses — CRLF, no final newline, a host name, an
// IPv6 literal — are accepted: the interop suite covers them.)
TEST(BadInput, MalformedInfoFilesAreCountedUnreachableWithOneWarningEach) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  Child real({ISOPROBE_COURSE_SERVER, "0", dir.path(), "31", "a-real", dir.path(), "real-shm", "real-sock"},
             capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << real.err();
  Info good = read_info(dir.file("a-real"));
  const std::string port = std::to_string(good.port), path = good.shm_path, proj = "31";
  // The bad files mostly describe the real server, so a lax parser would
  // reach it: counting them as VM shows they were refused.
  std::string garbage("\x7f" "ELF\x02\x01\x01\0\0\0\xff\xfe\n\n\n\n", 16);
  std::string huge = good.ip + "\n" + port + "\n" + path + "\n" + proj + "\n" + std::string(10 << 20, 'x') + "\n";
  std::map<std::string, std::pair<std::string, std::string>> bad = {
      // name -> (content, word the warning must contain)
      {"bad-empty", {"", "empty"}},
      {"bad-truncated-early", {good.ip + "\n12", "2 lines"}},
      {"bad-garbage", {garbage, "NUL byte"}},
      {"bad-10MB", {huge, "longer than"}},
      {"bad-port-0", {info_text(good.ip, 0, path, 31), "port"}},
      {"bad-port-70000", {good.ip + "\n70000\n" + path + "\n" + proj + "\n", "port"}},
      {"bad-port-abc", {good.ip + "\nabc\n" + path + "\n" + proj + "\n", "port"}},
      {"bad-ip-999", {"999.1.1.1\n" + port + "\n" + path + "\n" + proj + "\n", "not an IP address"}},
      {"bad-ip-spaces", {"1.2 .3.4\n" + port + "\n" + path + "\n" + proj + "\n", "not an IP address"}},
      {"bad-blank-line-inside", {good.ip + "\n\n" + port + "\n" + path + "\n" + proj + "\n", "5 lines"}},
      {"bad-proj-word", {good.ip + "\n" + port + "\n" + path + "\nten\n", "proj id"}},
      {"bad-extra-lines", {info_text(good.ip, good.port, path, 31) + "extra\n", "5 lines"}},
  };
  for (const auto &b : bad) isoprobe_test::write_file(dir.file(b.first), b.second.first);

  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30), true);
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_LE(client.elapsed_ms, 15000);
  const long baseline = baseline_client_rss_kb();
  EXPECT_GT(baseline, 0);
  EXPECT_LT(client.max_rss_kb, baseline + 2048) << "the 10 MB file is not read whole (baseline " << baseline << " KiB)";
  const size_t n = bad.size();
  EXPECT_EQ(client.finished.out, "Total Servers: " + std::to_string(n + 1) + "\nHost: 1\nContainer: 0\nVM: " +
                                     std::to_string(n) + "\nMessages: real-shm real-sock\n");
  EXPECT_EQ(lines_of(client.finished.err).size(), n) << client.finished.err;
  for (const auto &b : bad) {
    EXPECT_EQ(count_lines_with(client.finished.err, dir.file(b.first) + ":"), 1u) << b.first;
    for (const auto &line : lines_of(client.finished.err))
      if (line.find(dir.file(b.first) + ":") != std::string::npos) {
        EXPECT_NE(line.find(b.second.second), std::string::npos) << line;
        EXPECT_LT(line.size(), 300u) << "a warning stays short: " << line.substr(0, 300);
      }
  }
  EXPECT_NE(real.wait(std::chrono::seconds(15)), -1);
  for (const auto &b : bad) isoprobe_test::remove_tree(dir.file(b.first));
  measure("malformed info files", std::to_string(n) + " files: client exit 0 after " +
                                      std::to_string(client.elapsed_ms) + " ms, " + std::to_string(n) +
                                      " warning lines, all counted VM, peak RSS " +
                                      std::to_string(client.max_rss_kb) + " KiB (" + std::to_string(baseline) +
                                      " KiB with no server; one file is 10 MB)");
  for (const auto &line : lines_of(client.finished.err)) std::cout << "    " << line << "\n";
}

TEST(BadInput, DirectoriesFifosDotFilesAndDanglingLinksAreNotCounted) {
  TempDir dir, capture;
  Child real({ISOPROBE_COURSE_SERVER, "0", dir.path(), "32", "a-real", dir.path(), "real-shm", "real-sock"},
             capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << real.err();
  Info good = read_info(dir.file("a-real"));
  ASSERT_EQ(mkdir(dir.file("sub").c_str(), 0755), 0);
  isoprobe_test::write_file(dir.file("sub/inner"), info_text(good.ip, good.port, good.shm_path, 32));
  ASSERT_EQ(symlink(dir.file("sub").c_str(), dir.file("link-to-dir").c_str()), 0);
  ASSERT_EQ(symlink(dir.file("missing").c_str(), dir.file("dangling").c_str()), 0);
  ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0644), 0);
  isoprobe_test::write_file(dir.file(".hidden"), info_text(good.ip, good.port, good.shm_path, 32));
  Snapshot leak_check;

  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30));
  ASSERT_NE(client.finished.status, -1) << "the client hung (a FIFO opened for reading blocks)";
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_LE(client.elapsed_ms, 15000);
  EXPECT_EQ(client.finished.out, "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: real-shm real-sock\n");
  EXPECT_EQ(client.finished.err, "");
  EXPECT_NE(real.wait(std::chrono::seconds(15)), -1);
  EXPECT_EQ(all_entries(dir.path()), (std::vector<std::string>{".hidden", "dangling", "fifo", "link-to-dir", "sub"}))
      << "the server removed its file; the client touched nothing";
  measure("subdir/symlink-to-dir/FIFO/dot-file/dangling link",
          "client exit 0 after " + std::to_string(client.elapsed_ms) + " ms, none counted, no warning");
}

TEST(BadInput, ClientDirectoryMissingOrNotADirectory) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  isoprobe_test::write_file(dir.file("plain-file"), "x");
  for (const std::string &target : {dir.file("missing"), dir.file("plain-file")}) {
    Timed client = run_timed({ISOPROBE_COURSE_CLIENT, target}, std::chrono::seconds(30));
    EXPECT_TRUE(client.finished.exited_with(1)) << target;
    EXPECT_EQ(client.finished.out, "");
    EXPECT_EQ(lines_of(client.finished.err).size(), 1u) << client.finished.err;
    EXPECT_EQ(client.finished.err.rfind("system error: opendir: ", 0), 0u) << client.finished.err;
    measure("client dir " + target.substr(dir.path().size() + 1),
            "exit 1 after " + std::to_string(client.elapsed_ms) + " ms: " + lines_of(client.finished.err).at(0));
  }
  isoprobe_test::remove_tree(dir.file("plain-file"));
}

TEST(BadInput, ClientDirectoryNotReadable) {
  ISOPROBE_SKIP_UNLESS_UNPRIVILEGED_CHILD_POSSIBLE();
  TempDir dir;
  Snapshot leak_check({dir.path()});
  ASSERT_EQ(mkdir(dir.file("locked").c_str(), 0), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  // Root reads any directory, so the client runs as nobody then.
  std::vector<std::string> argv = {ISOPROBE_COURSE_CLIENT, dir.file("locked")};
  if (is_root()) argv.insert(argv.begin(), {ISOPROBE_FAULTS_HELPER, "as-user", "65534", "65534"});
  Timed client = run_timed(argv, std::chrono::seconds(30));
  EXPECT_TRUE(client.finished.exited_with(1));
  EXPECT_EQ(client.finished.out, "");
  EXPECT_EQ(client.finished.err, "system error: opendir: Permission denied\n");
  measure("client dir unreadable", "exit 1 after " + std::to_string(client.elapsed_ms) +
                                       " ms: " + lines_of(client.finished.err).at(0));
  rmdir(dir.file("locked").c_str());
}

/// A listening socket on 0.0.0.0 (so the port is taken on every address).
class PortBlocker {
 public:
  PortBlocker() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd_, 1) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      throw std::runtime_error("port blocker");
    port_ = ntohs(a.sin_port);
  }
  ~PortBlocker() { close(fd_); }
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

struct ServerArgs {
  std::string port = "0", shm_path, proj = "33", name = "srv", dir, shm_msg = "shm", sock_msg = "sock";
  std::vector<std::string> argv(std::vector<std::string> program) const {
    for (const auto &a : {port, shm_path, proj, name, dir, shm_msg, sock_msg}) program.push_back(a);
    return program;
  }
};

/// The course's run() (course_server) and the step-by-step course API.
const std::vector<std::vector<std::string>> kServerPrograms = {{ISOPROBE_COURSE_SERVER},
                                                               {ISOPROBE_FAULTS_HELPER, "steps"}};

std::string program_label(const std::vector<std::string> &program) {
  return program.size() > 1 ? "steps" : "run";
}

/// Runs a server that must refuse its arguments and checks the contract:
/// exit 1, one line starting with `expected_line`, no segment of its own
/// left, nothing left in `info_dir`.
void expect_refused(const std::string &label, const std::vector<std::string> &argv, const std::string &expected_line,
                    const std::string &info_dir) {
  std::set<int> segments_before = isoprobe_test::own_shm_ids();
  Timed server = run_timed(argv, std::chrono::seconds(30));
  EXPECT_TRUE(server.finished.exited_with(1)) << label << ": status " << server.finished.status << "\n"
                                              << server.finished.err;
  EXPECT_EQ(server.finished.out, "") << label;
  EXPECT_EQ(lines_of(server.finished.err).size(), 1u) << label << ": " << server.finished.err;
  EXPECT_EQ(server.finished.err.rfind(expected_line, 0), 0u) << label << ": " << server.finished.err;
  EXPECT_EQ(isoprobe_test::own_shm_ids(), segments_before) << label << ": segment left";
  EXPECT_TRUE(all_entries(info_dir).empty()) << label << ": files left in " << info_dir;
  std::string line = server.finished.err.empty() ? "" : lines_of(server.finished.err).at(0);
  measure("server " + label, "exit " + std::to_string(WEXITSTATUS(server.finished.status)) + " after " +
                                 std::to_string(server.elapsed_ms) + " ms: " + line.substr(0, 160));
}

class ServerBadInput : public ::testing::Test {
 protected:
  TempDir info, shm;
  Snapshot leak_check{{info.path(), shm.path()}};
  ServerArgs args() const {
    ServerArgs a;
    a.shm_path = shm.path();
    a.dir = info.path();
    return a;
  }
  void expect_all_refuse(const std::string &label, const ServerArgs &a, const std::string &expected_line) {
    for (const auto &program : kServerPrograms)
      expect_refused(label + " (" + program_label(program) + ")", a.argv(program), expected_line, info.path());
  }
};

TEST_F(ServerBadInput, PortAlreadyInUse) {
  PortBlocker blocker;
  ServerArgs a = args();
  a.port = std::to_string(blocker.port());
  expect_all_refuse("port in use", a, "system error: bind: Address already in use");
}

TEST_F(ServerBadInput, InfoDirectoryMissing) {
  ServerArgs a = args();
  a.dir = info.file("missing");
  expect_all_refuse("info dir missing", a, "system error: open: No such file or directory");
}

TEST_F(ServerBadInput, InfoDirectoryNotWritableForTheServersUser) {
  ISOPROBE_SKIP_UNLESS_UNPRIVILEGED_CHILD_POSSIBLE();
  // Root writes anywhere, so then the server runs as nobody in a directory
  // of root's; otherwise the directory is made read-only for its owner.
  ASSERT_EQ(chmod(info.path().c_str(), is_root() ? 0755 : 0555), 0);
  ASSERT_EQ(chmod(shm.path().c_str(), 0755), 0);
  for (const auto &program : kServerPrograms) {
    std::vector<std::string> argv = program;
    if (is_root()) argv.insert(argv.begin(), {ISOPROBE_FAULTS_HELPER, "as-user", "65534", "65534"});
    expect_refused("info dir not writable (" + program_label(program) + ")", args().argv(argv),
                   "system error: open: Permission denied", info.path());
  }
  chmod(info.path().c_str(), 0700);
}

TEST_F(ServerBadInput, InfoDirectoryOnAReadOnlyMount) {
  // A read-only bind mount in a private mount namespace (unshare -rm), so
  // that even root gets EROFS.
  if (!run_timed({"/usr/bin/unshare", "-rm", "true"}, std::chrono::seconds(10)).finished.exited_with(0))
    GTEST_SKIP() << "unshare -rm is not available here (no user/mount namespaces)";
  // Minimal images (a Debian "essential" root in Apptainer) have no mount(8).
  if (access("/usr/bin/mount", X_OK) != 0 && access("/bin/mount", X_OK) != 0)
    GTEST_SKIP() << "mount(8) is not installed here";
  for (const auto &program : kServerPrograms) {
    std::string exec = "exec";
    for (const auto &a : args().argv(program)) exec += " '" + a + "'";
    std::string script = "mount --bind '" + info.path() + "' '" + info.path() + "' && mount -o remount,ro,bind '" +
                         info.path() + "' && " + exec;
    expect_refused("info dir read-only mount (" + program_label(program) + ")",
                   {"/usr/bin/unshare", "-rm", "/bin/sh", "-c", script}, "system error: open: Read-only file system",
                   info.path());
  }
}

TEST_F(ServerBadInput, ShmPathMissing) {
  ServerArgs a = args();
  a.shm_path = shm.file("missing");
  expect_all_refuse("shm path missing", a, "system error: ftok: No such file or directory");
}

TEST_F(ServerBadInput, ProjIdWhoseLowByteIsZero) {
  for (const char *proj : {"0", "256"}) {
    ServerArgs a = args();
    a.proj = proj;
    expect_all_refuse(std::string("proj id ") + proj, a, std::string("isoprobe error: shm_proj_id ") + proj);
  }
}

TEST_F(ServerBadInput, ShmMessageOnePastTheSegment) {
  ServerArgs a = args();
  a.shm_msg = std::string(SHARED_MEMORY_SIZE, 'm');
  expect_all_refuse("shm message of SHARED_MEMORY_SIZE bytes", a, "isoprobe error: shm message");
}

TEST_F(ServerBadInput, PathsAtExactlyTheStringCapacity) {
  // ISOPROBE_STRING_CAPACITY - 1 bytes fit the struct; the kernel then
  // refuses the name (a component is longer than NAME_MAX).
  ServerArgs a = args();
  a.shm_path = shm.path() + "/" + std::string(ISOPROBE_STRING_CAPACITY - 2 - shm.path().size(), 'p');
  ASSERT_EQ(a.shm_path.size(), static_cast<size_t>(ISOPROBE_STRING_CAPACITY - 1));
  expect_all_refuse("shm path at capacity", a, "system error: ftok: File name too long");
  ServerArgs b = args();
  b.dir = info.path() + "/" + std::string(ISOPROBE_STRING_CAPACITY - 2 - info.path().size(), 'd');
  ASSERT_EQ(b.dir.size(), static_cast<size_t>(ISOPROBE_STRING_CAPACITY - 1));
  expect_all_refuse("info dir at capacity", b, "system error: open: File name too long");
}

TEST_F(ServerBadInput, NulInsideAMessage) {
  for (const char *which : {"shm", "socket"}) {
    ServerArgs a = args();
    expect_refused(std::string("NUL inside the ") + which + " message",
                   {ISOPROBE_FAULTS_HELPER, "run-nul", which, a.port, a.shm_path, a.proj, a.name, a.dir},
                   "isoprobe error: message contains a NUL byte", info.path());
  }
}

TEST_F(ServerBadInput, InfoFileNameThatIsNotAPlainName) {
  for (const char *name : {"sub/name", ".hidden", ".."}) {
    ServerArgs a = args();
    a.name = name;
    expect_all_refuse(std::string("info file name ") + name, a, "isoprobe error: info_file_name");
  }
}

// One past the string capacity: in the course's C++ API the setup fields
// are fixed-capacity strings whose assignment refuses what does not fit with
// std::length_error (never a silent truncation). A program that does not
// catch it ends in std::terminate before the library is called, so nothing
// exists to clean up; the reason is on stderr.
TEST_F(ServerBadInput, PathOnePastTheStringCapacityIsRefusedAtAssignment) {
  ServerArgs a = args();
  a.shm_path = shm.path() + "/" + std::string(ISOPROBE_STRING_CAPACITY - 1 - shm.path().size(), 'p');
  ASSERT_EQ(a.shm_path.size(), static_cast<size_t>(ISOPROBE_STRING_CAPACITY));
  std::set<int> segments_before = isoprobe_test::own_shm_ids();
  Timed server = run_timed(a.argv({ISOPROBE_COURSE_SERVER}), std::chrono::seconds(30));
  EXPECT_TRUE(WIFSIGNALED(server.finished.status) && WTERMSIG(server.finished.status) == SIGABRT)
      << server.finished.status;
  EXPECT_NE(server.finished.err.find("isoprobe_string: 4096 bytes do not fit (at most 4095)"), std::string::npos)
      << server.finished.err;
  EXPECT_EQ(isoprobe_test::own_shm_ids(), segments_before);
  EXPECT_TRUE(all_entries(info.path()).empty());
  measure("server shm path one past capacity",
          "std::length_error at assignment, std::terminate after " + std::to_string(server.elapsed_ms) +
              " ms; nothing created");
}

// The largest message that fits the segment goes through intact.
TEST(BadInput, ShmMessageAtExactlyTheSegmentCapacity) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  std::string biggest(SHARED_MEMORY_SIZE - 1, 'm');
  Child server({ISOPROBE_COURSE_SERVER, "0", dir.path(), "34", "srv", dir.path(), biggest, "sock"}, capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << server.err();
  Timed client = run_timed({ISOPROBE_COURSE_CLIENT, dir.path()}, std::chrono::seconds(30));
  ASSERT_TRUE(client.finished.exited_with(0)) << client.finished.err;
  EXPECT_EQ(client.finished.out, "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: " + biggest + " sock\n");
  int st = server.wait(std::chrono::seconds(15));
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << server.err();
  measure("shm message of SHARED_MEMORY_SIZE - 1 bytes", "delivered intact (" + std::to_string(biggest.size()) +
                                                            " bytes), client exit 0 after " +
                                                            std::to_string(client.elapsed_ms) + " ms");
}

}  // namespace
