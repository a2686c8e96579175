// The course-style programs under valgrind (memcheck, full leak check), on
// the normal path and on the fault and bad-input paths: no memory error and
// no definite or indirect leak anywhere. "Still reachable" blocks (Rust's
// std keeps a few for the life of the process) are not errors.
//
// Valgrind's own error status is 99 here, so that it cannot be mistaken
// for the programs' documented exit 1 on bad input.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "faults_support.h"

using namespace faults;
using isoprobe_test::Child;
using isoprobe_test::TempDir;

namespace {

const int kValgrindError = 99;

std::string valgrind_path() {
  for (const char *p : {"/usr/bin/valgrind", "/usr/local/bin/valgrind"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

class Valgrind : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef ISOPROBE_SANITIZED
    GTEST_SKIP() << "this build uses AddressSanitizer, which does not run under valgrind";
#endif
    valgrind_ = valgrind_path();
    if (valgrind_.empty()) GTEST_SKIP() << "valgrind is not installed";
  }

  std::vector<std::string> under_valgrind(std::vector<std::string> argv) const {
    std::vector<std::string> vg = {valgrind_,
                                   "-q",
                                   "--error-exitcode=" + std::to_string(kValgrindError),
                                   "--leak-check=full",
                                   "--errors-for-leak-kinds=definite,indirect",
                                   "--show-leak-kinds=definite,indirect",
                                   "--log-file=" + logs_.path() + "/vg.%p"};
    argv.insert(argv.begin(), vg.begin(), vg.end());
    return argv;
  }

  /// Everything valgrind wrote (empty when it found nothing).
  std::string reports() const {
    std::string all;
    for (const auto &name : all_entries(logs_.path())) all += isoprobe_test::read_file(logs_.file(name));
    return all;
  }

  void expect_exit(int status, int code, const std::string &what) const {
    EXPECT_NE(status, -1) << what << " did not finish";
    EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == kValgrindError) << what << ": valgrind found errors";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == code) << what << ": status " << status;
  }

  std::string valgrind_;
  TempDir logs_;
};

TEST_F(Valgrind, ServersAndClientOnTheNormalPath) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  std::vector<std::unique_ptr<Child>> servers;
  for (int i = 0; i < 2; ++i) {
    std::string n = std::to_string(i);
    servers.push_back(std::make_unique<Child>(
        under_valgrind({ISOPROBE_COURSE_SERVER, "0", dir.path(), std::to_string(111 + i), "srv" + n, dir.path(),
                        "shm" + n, "sock" + n}),
        capture.path()));
  }
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 2, std::chrono::seconds(60)));
  Timed client = run_timed(under_valgrind({ISOPROBE_COURSE_CLIENT, dir.path()}), std::chrono::seconds(120));
  expect_exit(client.finished.status, 0, "client");
  EXPECT_EQ(client.finished.out, "Total Servers: 2\nHost: 2\nContainer: 0\nVM: 0\nMessages: shm0 sock0 shm1 sock1\n");
  for (auto &s : servers) expect_exit(s->wait(std::chrono::seconds(60)), 0, "server");
  EXPECT_EQ(reports(), "");
  measure("valgrind normal path", "2 servers + client clean; client took " + std::to_string(client.elapsed_ms) +
                                      " ms under valgrind");
}

TEST_F(Valgrind, ServersRefusingBadArguments) {
  TempDir dir, shm;
  Snapshot leak_check({dir.path()});
  struct Case {
    std::vector<std::string> program;
    std::string port, shm_path, proj, info_dir;
  };
  std::vector<Case> cases = {
      {{ISOPROBE_COURSE_SERVER}, "0", shm.path(), "113", dir.file("missing")},
      {{ISOPROBE_FAULTS_HELPER, "steps"}, "0", shm.path(), "114", dir.file("missing")},
      {{ISOPROBE_COURSE_SERVER}, "0", shm.path(), "0", dir.path()},
      {{ISOPROBE_COURSE_SERVER}, "0", shm.file("missing"), "115", dir.path()},
  };
  for (const Case &c : cases) {
    std::vector<std::string> argv = c.program;
    for (const auto &a : {c.port, c.shm_path, c.proj, std::string("srv"), c.info_dir, std::string("a"),
                          std::string("b")})
      argv.push_back(a);
    Timed server = run_timed(under_valgrind(argv), std::chrono::seconds(60));
    expect_exit(server.finished.status, 1, argv[0] + " " + c.proj + " " + c.info_dir);
    EXPECT_EQ(lines_of(server.finished.err).size(), 1u) << server.finished.err;
  }
  EXPECT_EQ(reports(), "");
  measure("valgrind server bad arguments", std::to_string(cases.size()) + " refusals (exit 1), no valgrind report");
}

TEST_F(Valgrind, ClientOnBadInputAndMisbehavingServers) {
  TempDir dir;
  FakeServer silent(FakeServer::Behaviour::HoldSilently);
  FakeServer flood(FakeServer::Behaviour::FloodForever);
  Snapshot leak_check({dir.path()});
  isoprobe_test::write_file(dir.file("bad-crlf-3-lines"), "127.0.0.1\r\n1\r\nx\r\n");
  isoprobe_test::write_file(dir.file("bad-empty"), "");
  isoprobe_test::write_file(dir.file("bad-port"), info_text("127.0.0.1", 70000, dir.path(), 1));
  isoprobe_test::write_file(dir.file("flood"), info_text("127.0.0.1", flood.port(), dir.path(), 116));
  isoprobe_test::write_file(dir.file("silent"), info_text("127.0.0.1", silent.port(), dir.path(), 117));
  ASSERT_EQ(mkfifo(dir.file("fifo").c_str(), 0644), 0);
  ASSERT_EQ(mkdir(dir.file("sub").c_str(), 0755), 0);
  Timed client = run_timed(under_valgrind({ISOPROBE_COURSE_CLIENT, dir.path()}), std::chrono::seconds(120));
  expect_exit(client.finished.status, 0, "client");
  EXPECT_EQ(lines_of(client.finished.out).at(0), "Total Servers: 5");
  EXPECT_EQ(lines_of(client.finished.err).size(), 3u) << client.finished.err;
  Timed missing = run_timed(under_valgrind({ISOPROBE_COURSE_CLIENT, dir.file("missing")}), std::chrono::seconds(60));
  expect_exit(missing.finished.status, 1, "client on a missing directory");
  EXPECT_TRUE(silent.wait_idle(std::chrono::seconds(10)) && flood.wait_idle(std::chrono::seconds(10)));
  for (const char *name : {"bad-crlf-3-lines", "bad-empty", "bad-port", "flood", "silent", "fifo", "sub"})
    isoprobe_test::remove_tree(dir.file(name));
  EXPECT_EQ(reports(), "");
  measure("valgrind client faults", "malformed files, FIFO, subdir, silent + flooding server, missing dir: "
                                    "no valgrind report; client took " +
                                        std::to_string(client.elapsed_ms) + " ms");
}

}  // namespace
