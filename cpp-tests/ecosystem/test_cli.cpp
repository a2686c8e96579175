// The programs isoprobe-server and isoprobe-client: usage handling, the
// course summary by default, and --explain / --json naming the reason for
// every server's verdict (attached / ENOENT from ftok / no such key / EACCES;
// connected / refused / timed out / unreachable).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "test_support.h"

using namespace std::chrono_literals;
using isoprobe_test::Child;
using isoprobe_test::Finished;
using isoprobe_test::TempDir;

namespace {

const std::string kServer = ISOPROBE_CLI_SERVER;
const std::string kClient = ISOPROBE_CLI_CLIENT;
const std::string kVersion = ISOPROBE_VERSION;

Finished run(const std::vector<std::string> &argv) { return isoprobe_test::run(argv, 60s); }

/// Exactly one line: text, then a single newline at the end.
bool one_line(const std::string &s) { return !s.empty() && s.find('\n') == s.size() - 1; }

/// An isoprobe-server publishing `name` in `dir`, ftok path `shm_path`.
struct CliServer {
  TempDir capture;
  Child child;
  CliServer(const std::string &dir, const std::string &name, const std::string &shm_path, int proj,
            const std::string &shm_msg, const std::string &socket_msg)
      : child({kServer, "--shm-path", shm_path, "--proj-id", std::to_string(proj), "--info-name", name,
               "--info-dir", dir, "--shm-message", shm_msg, "--socket-message", socket_msg, "--accept-timeout",
               "60"},
              capture.path()) {}
  /// A server still waiting (a failed assertion) gets SIGTERM, which its
  /// signal-time cleanup turns into removing its segment and info file;
  /// Child's own SIGKILL would leak them.
  ~CliServer() {
    child.signal(SIGTERM);
    child.wait(10s);
  }
  /// True when the server exited 0 within a generous bound.
  bool exits_cleanly() {
    int st = child.wait(30s);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
};

/// An info file announcing 127.0.0.1:port and ftok(path, proj).
void write_info(const std::string &file, unsigned short port, const std::string &path, int proj) {
  isoprobe_test::write_file(file, "127.0.0.1\n" + std::to_string(port) + "\n" + path + "\n" + std::to_string(proj) + "\n");
}

std::string key_hex(const std::string &path, int proj) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(ftok(path.c_str(), proj)));
  return buf;
}

/// A segment this test owns (removed on destruction), optionally holding a message.
struct TestSegment {
  int id = -1;
  TestSegment(const std::string &path, int proj, int mode, const char *msg = nullptr) {
    id = shmget(ftok(path.c_str(), proj), 4096, IPC_CREAT | IPC_EXCL | mode);
    if (id >= 0 && msg != nullptr) {
      void *p = shmat(id, nullptr, 0);
      if (p != reinterpret_cast<void *>(-1)) {
        std::strcpy(static_cast<char *>(p), msg);
        shmdt(p);
      }
    }
  }
  ~TestSegment() {
    if (id >= 0) shmctl(id, IPC_RMID, nullptr);
  }
};

/// A loopback listener whose accept queue is full: further connects get no
/// answer (the kernel drops their SYNs), so a client times out on it.
struct FullListener {
  int listener = -1, filler = -1;
  unsigned short port = 0;
  FullListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(listener, 0) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      return;
    filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (filler < 0 || connect(filler, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) return;
    port = ntohs(a.sin_port);
  }
  ~FullListener() {
    if (filler >= 0) close(filler);
    if (listener >= 0) close(listener);
  }
};

/// The --explain block of the server whose info file is `path`.
std::string block(const std::string &out, const std::string &path) {
  size_t start = out.find("] " + path + "\n");
  if (start == std::string::npos) return "";
  size_t end = out.find("\n\n", start);
  return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

TEST(Cli, HelpAndVersionExitZero) {
  for (const std::string &program : {kServer, kClient}) {
    std::string name = program.substr(program.rfind('/') + 1);
    Finished help = run({program, "--help"});
    EXPECT_TRUE(help.exited_with(0)) << name;
    EXPECT_EQ(help.out.rfind("usage: " + name, 0), 0u) << help.out;
    EXPECT_EQ(help.err, "");
    Finished version = run({program, "--version"});
    EXPECT_TRUE(version.exited_with(0)) << name;
    EXPECT_EQ(version.out, name + " " + kVersion + "\n") << "cargo and CMake versions agree";
  }
}

TEST(Cli, UsageErrorsExitTwoWithOneLine) {
  TempDir dir;
  struct Case {
    std::vector<std::string> argv;
    std::string says;
  };
  const std::vector<std::string> server_ok = {kServer, "--shm-path", dir.path(), "--proj-id", "3",
                                              "--info-name", "s", "--info-dir", dir.path()};
  auto server_with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = server_ok;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  const std::vector<Case> cases = {
      {{kClient}, "missing DIR"},
      {{kClient, "--bogus", dir.path()}, "unknown option '--bogus'"},
      {{kClient, "--explain", "--json", dir.path()}, "exclude each other"},
      {{kClient, dir.path(), dir.path()}, "one directory expected"},
      {{kServer}, "--shm-path is required"},
      {{kServer, "--shm-path", dir.path()}, "--proj-id is required"},
      {server_with({"--port", "65536"}), "--port"},
      {server_with({"--proj-id", "4"}), "given twice"},
      {server_with({"--accept-timeout", "soon"}), "--accept-timeout"},
      {server_with({"--close-timeout"}), "needs a value"},
      {server_with({"stray"}), "unexpected argument 'stray'"},
      {{kServer, "--shm-path", dir.path(), "--proj-id", "256", "--info-name", "s", "--info-dir", dir.path()},
       "low 8 bits"},
      {{kServer, "--shm-path", dir.path(), "--proj-id", "3", "--info-name", ".hidden", "--info-dir", dir.path()},
       "dot-files"},
  };
  for (const Case &c : cases) {
    Finished f = run(c.argv);
    std::string cmd;
    for (const auto &a : c.argv) cmd += a.substr(a.rfind('/') + 1) + " ";
    EXPECT_TRUE(f.exited_with(2)) << cmd << "status " << f.status;
    EXPECT_TRUE(one_line(f.err)) << cmd << ": " << f.err;
    EXPECT_NE(f.err.find(c.says), std::string::npos) << cmd << ": " << f.err;
    EXPECT_EQ(f.out, "") << cmd;
  }
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty()) << "a refused command creates nothing";
}

TEST(Cli, SystemErrorsExitOneWithTheCourseLine) {
  TempDir dir;
  Finished client = run({kClient, dir.file("missing")});
  EXPECT_TRUE(client.exited_with(1));
  EXPECT_EQ(client.err, "system error: opendir: No such file or directory\n");
  Finished server = run({kServer, "--shm-path", dir.file("missing"), "--proj-id", "3", "--info-name", "s",
                         "--info-dir", dir.path()});
  EXPECT_TRUE(server.exited_with(1));
  EXPECT_EQ(server.err, "system error: ftok: No such file or directory\n");
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

TEST(Cli, ServerWithoutClientGivesUpAndLeavesNothing) {
  TempDir dir;
  Finished f = run({kServer, "--shm-path", dir.path(), "--proj-id", "5", "--info-name", "lonely", "--info-dir",
                    dir.path(), "--accept-timeout", "0.2"});
  EXPECT_TRUE(f.exited_with(0)) << f.err;
  EXPECT_NE(f.err.find("no client connected within 0.200 s"), std::string::npos) << f.err;
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

TEST(Cli, DefaultOutputIsExactlyTheCourseSummary) {
  TempDir dir, keys;
  std::string ours, course;
  {
    CliServer server(dir.path(), "srv", keys.path(), 11, "shm-one", "sock-one");
    ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, 30s)) << server.child.err();
    Finished f = run({kClient, dir.path()});
    ASSERT_TRUE(f.exited_with(0)) << f.err;
    EXPECT_EQ(f.err, "");
    ours = f.out;
    EXPECT_TRUE(server.exits_cleanly()) << server.child.err();
  }
  EXPECT_EQ(ours, "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: shm-one sock-one\n");
  EXPECT_TRUE(isoprobe_test::wait_for_empty(dir.path(), 10s)) << "the server removed its info file";
  {
    // The same server, read by the course's C++ client run(): same bytes.
    CliServer server(dir.path(), "srv", keys.path(), 11, "shm-one", "sock-one");
    ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, 30s)) << server.child.err();
    Finished f = run({ISOPROBE_COURSE_CLIENT, dir.path()});
    ASSERT_TRUE(f.exited_with(0)) << f.err;
    course = f.out;
    EXPECT_TRUE(server.exits_cleanly()) << server.child.err();
  }
  EXPECT_EQ(ours, course);
}

// One host server, one container (segment reachable, port refused), a VM
// whose path does not exist here, a VM with no segment under its key and a
// port that never answers, and a malformed file. Takes the 5 s connect bound.
TEST(Cli, ExplainNamesTheReasonForEveryVerdict) {
  TempDir dir, keys;
  TestSegment container_segment(keys.path(), 32, 0600, "shm-b");
  ASSERT_GE(container_segment.id, 0) << "shmget: " << std::strerror(errno);
  FullListener silent;
  ASSERT_NE(silent.port, 0) << "could not fill a listener's queue: " << std::strerror(errno);
  unsigned short refused = isoprobe_test::free_port();

  CliServer host(dir.path(), "a-host", keys.path(), 31, "shm-a", "sock-a");
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, 30s)) << host.child.err();
  write_info(dir.file("b-container"), refused, keys.path(), 32);
  write_info(dir.file("c-vm-elsewhere"), refused, "/nonexistent/isoprobe-explain", 7);
  write_info(dir.file("d-vm-silent"), silent.port, keys.path(), 33);
  isoprobe_test::write_file(dir.file("e-malformed"), "not an address\n1\n/\n1\n");

  Finished f = run({kClient, "--explain", dir.path()});
  ASSERT_TRUE(f.exited_with(0)) << f.err;
  const std::string &out = f.out;
  EXPECT_EQ(out.rfind("5 info files in " + dir.path() + "; all connects and reads shared one 5 s deadline (", 0), 0u) << out;

  std::string a = block(out, dir.file("a-host"));
  EXPECT_NE(a.find("shm key:   " + key_hex(keys.path(), 31) + " = ftok(\"" + keys.path() + "\", 31)"), std::string::npos) << a;
  EXPECT_NE(a.find("shm:       attached (shmid "), std::string::npos) << a;
  EXPECT_NE(a.find("message \"shm-a\""), std::string::npos) << a;
  EXPECT_NE(a.find("socket:    connected to 127.0.0.1:"), std::string::npos) << a;
  EXPECT_NE(a.find(", message \"sock-a\" (complete at end of stream)"), std::string::npos) << a;
  EXPECT_NE(a.find("verdict:   Host: both channels were reached"), std::string::npos) << a;

  std::string b = block(out, dir.file("b-container"));
  EXPECT_NE(b.find("address:   127.0.0.1:" + std::to_string(refused)), std::string::npos) << b;
  EXPECT_NE(b.find("shm:       attached (shmid " + std::to_string(container_segment.id) + "), message \"shm-b\""),
            std::string::npos) << b;
  EXPECT_NE(b.find("socket:    refused (ECONNREFUSED)"), std::string::npos) << b;
  EXPECT_NE(b.find("verdict:   Container: only the shared-memory segment was reached"), std::string::npos) << b;

  std::string c = block(out, dir.file("c-vm-elsewhere"));
  EXPECT_NE(c.find("shm key:   none, ftok(\"/nonexistent/isoprobe-explain\", 7) failed"), std::string::npos) << c;
  EXPECT_NE(c.find("shm:       ENOENT from ftok"), std::string::npos) << c;
  EXPECT_NE(c.find("socket:    refused (ECONNREFUSED)"), std::string::npos) << c;
  EXPECT_NE(c.find("verdict:   VM: neither channel was reached"), std::string::npos) << c;

  std::string d = block(out, dir.file("d-vm-silent"));
  EXPECT_NE(d.find("shm key:   " + key_hex(keys.path(), 33)), std::string::npos) << d;
  EXPECT_NE(d.find("shm:       no such key"), std::string::npos) << d;
  EXPECT_NE(d.find("socket:    timed out: no answer to the connection request within the run's 5 s deadline"), std::string::npos) << d;
  EXPECT_NE(d.find("verdict:   VM"), std::string::npos) << d;

  std::string e = block(out, dir.file("e-malformed"));
  EXPECT_NE(e.find("info file: refused: address \"not an address\" is not an IP address or host name"), std::string::npos) << e;
  EXPECT_NE(e.find("verdict:   VM: the info file was refused"), std::string::npos) << e;

  size_t summary = out.rfind("\nTotal Servers:");
  ASSERT_NE(summary, std::string::npos) << out;
  EXPECT_EQ(out.substr(summary + 1),
            "Total Servers: 5\nHost: 1\nContainer: 1\nVM: 3\nMessages: shm-a sock-a shm-b\n");
  EXPECT_TRUE(host.exits_cleanly()) << host.child.err();
}

TEST(Cli, JsonIsOneDocumentWithTheSameFacts) {
  if (std::string(ISOPROBE_PYTHON3).empty()) GTEST_SKIP() << "python3 not found: cannot parse the JSON";
  TempDir dir, keys, scratch;
  unsigned short refused = isoprobe_test::free_port();
  CliServer host(dir.path(), "a-host", keys.path(), 51, "shm-a", "sock \"a\"");
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, 30s)) << host.child.err();
  write_info(dir.file("b-vm"), refused, "/nonexistent/isoprobe-json", 9);
  // A name and a parse error that need escaping: quote, backslash, tab.
  const std::string odd = "c-q\"uote\\back\ttab";
  isoprobe_test::write_file(dir.file(odd), "a\"b\\c\n1\n/\n1\n");

  Finished f = run({kClient, "--json", dir.path()});
  ASSERT_TRUE(f.exited_with(0)) << f.err;
  EXPECT_NE(f.out.find("c-q\\\"uote\\\\back\\ttab"), std::string::npos) << "escaped in the text";
  EXPECT_TRUE(host.exits_cleanly()) << host.child.err();

  isoprobe_test::write_file(scratch.file("out.json"), f.out);
  const char *check = R"PY(
import json, sys
path, odd = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    d = json.load(f)
s = d["servers"]
assert [x["info_file"].rsplit("/", 1)[1] for x in s] == ["a-host", "b-vm", odd], s
a, b, c = s
assert (a["verdict"], a["shm"]["outcome"], a["socket"]["outcome"]) == ("Host", "attached", "connected"), a
assert (a["shm"]["message"], a["socket"]["message"]) == ("shm-a", 'sock "a"'), a
assert a["shm_key"].startswith("0x") and len(a["shm_key"]) == 10, a
assert (b["verdict"], b["shm"]["outcome"], b["shm"]["call"], b["shm"]["errno_name"]) == ("VM", "ftok_enoent", "ftok", "ENOENT"), b
assert (b["socket"]["outcome"], b["socket"]["errno_name"], b["shm_key"]) == ("refused", "ECONNREFUSED", None), b
assert c["info_error"] == r'address "a\"b\\c" is not an IP address or host name', c
assert (c["verdict"], c["address"], c["shm"]["outcome"]) == ("VM", None, "not_tried"), c
assert d["summary"] == {"total": 3, "host": 1, "container": 0, "vm": 2, "messages": ["shm-a", 'sock "a"']}, d["summary"]
print("ok")
)PY";
  Finished py = run({ISOPROBE_PYTHON3, "-c", check, scratch.file("out.json"), odd});
  EXPECT_TRUE(py.exited_with(0)) << py.err << "\n" << f.out;
  EXPECT_EQ(py.out, "ok\n");
}

// Inside a new user + network namespace: loopback is down (connect gives
// ENETUNREACH, and no packet leaves the namespace) and the host's IPC
// namespace is seen without CAP_IPC_OWNER (a mode-0 segment gives EACCES).
TEST(Cli, ExplainNamesUnreachableAndPermissionDenied) {
  if (std::string(ISOPROBE_UNSHARE).empty()) GTEST_SKIP() << "unshare not found";
  Finished probe = run({ISOPROBE_UNSHARE, "-rn", "/bin/true"});
  if (!probe.exited_with(0)) GTEST_SKIP() << "cannot create user and network namespaces: " << probe.err;
  TempDir dir, keys;
  TestSegment locked(keys.path(), 61, 0);
  ASSERT_GE(locked.id, 0) << "shmget: " << std::strerror(errno);
  write_info(dir.file("locked"), isoprobe_test::free_port(), keys.path(), 61);

  Finished f = run({ISOPROBE_UNSHARE, "-rn", kClient, "--explain", dir.path()});
  ASSERT_TRUE(f.exited_with(0)) << f.err;
  std::string b = block(f.out, dir.file("locked"));
  EXPECT_NE(b.find("shm:       EACCES from shm"), std::string::npos) << f.out;
  EXPECT_NE(b.find("socket:    unreachable (ENETUNREACH)"), std::string::npos) << f.out;
  EXPECT_NE(b.find("verdict:   VM"), std::string::npos) << f.out;
}
