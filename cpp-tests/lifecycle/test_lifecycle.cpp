// Process lifecycle of a server: the patterns programs around the course API
// actually use (fork after setup, signals, restarts after a crash, two
// servers of one name, chdir, several writes, a client that never reads).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>

#include "lifecycle_support.h"

using namespace lifecycle;

namespace {

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override { become_subreaper(); }
};

// The pids the helper's child wrote to READY/held; false when it wrote none
// (it failed first), so that no case ever signals pid 0 (its own group).
bool read_held(const TempDir &ready, int &ppid, int &cpid) {
  std::istringstream pids(isoprobe_test::read_file(ready.file("held")));
  return static_cast<bool>(pids >> ppid >> cpid) && ppid > 0 && cpid > 0;
}

int read_pid(const std::string &text) {
  std::istringstream in(text);
  int pid = -1;
  in >> pid;
  return pid;
}

}  // namespace

// The daemon pattern: set up, fork, the parent leaves at once, the child
// serves. The child must be able to do everything, and leave nothing.
TEST_F(Lifecycle, ForkedChildServesCompletelyAfterTheParentLeft) {
  TempDir dir, ready, logs;
  KeyGuard key(dir.path(), 41);
  faults::Snapshot leak_check({dir.path()});
  Child parent(helper({"daemon", ready.path(), dir.path(), "d", "41"}), logs.path());
  ASSERT_EQ(parent.wait(milliseconds(20000)), 0) << parent.err();
  Adopted child(read_pid(parent.out()));
  ASSERT_GT(child.pid(), 0) << parent.out();
  ASSERT_TRUE(wait_ready(ready.path(), 1)) << "the child never got ready";
  auto start = Clock::now();
  isoprobe_test::Finished f = isoprobe_test::run(foreign_client("until-close", dir.path()), milliseconds(30000));
  long long took = ms_since(start);
  EXPECT_TRUE(f.exited_with(0)) << f.err;
  EXPECT_EQ(f.out, host_summary(1, " shm-d sock-d"));
  EXPECT_LT(took, 5000) << "the client waited for something";
  int status = child.wait(milliseconds(20000));
  EXPECT_TRUE(status == 0) << "the serving child " << describe_status(status);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty()) << "info file left behind";
  EXPECT_EQ(segment_for(dir.path(), 41), -1) << "segment left behind";
  faults::measure("fork daemon", "client " + std::to_string(took) + " ms; child " + describe_status(status));
}

// A forked child that only inherited the server (never used it) is killed:
// the parent's server stays whole; the parent's own SIGTERM then removes it.
TEST_F(Lifecycle, ChildSigtermLeavesTheParentsServer) {
  TempDir dir, ready, logs;
  KeyGuard key(dir.path(), 42);
  faults::Snapshot leak_check({dir.path()});
  Child parent(helper({"fork-hold", ready.path(), dir.path(), "srv", "42", "parent"}), logs.path());
  ASSERT_TRUE(wait_ready(ready.path(), 1));
  int ppid = 0, cpid = 0;
  ASSERT_TRUE(read_held(ready, ppid, cpid)) << "the child failed before it was ready: "
                                            << isoprobe_test::read_file(ready.file("child-status")) << " "
                                            << parent.err();
  ASSERT_EQ(ppid, parent.pid());
  ASSERT_EQ(kill(cpid, SIGTERM), 0);
  ASSERT_TRUE(wait_ready(ready.path(), 2)) << "the parent did not see its child end";
  int child_status = std::stoi(isoprobe_test::read_file(ready.file("child-status")));
  EXPECT_TRUE(WIFSIGNALED(child_status) && WTERMSIG(child_status) == SIGTERM) << describe_status(child_status);
  EXPECT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"srv"}) << "the child removed the info file";
  EXPECT_GE(segment_for(dir.path(), 42), 0) << "the child removed the parent's segment";

  parent.signal(SIGTERM);
  int status = parent.wait(milliseconds(20000));
  EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << describe_status(status);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  EXPECT_EQ(segment_for(dir.path(), 42), -1);
}

// The child took the server over (it used it): the parent's SIGTERM leaves
// it alone, the child's own SIGTERM removes it.
TEST_F(Lifecycle, ParentSigtermLeavesTheServerTheChildTookOver) {
  TempDir dir, ready, logs;
  KeyGuard key(dir.path(), 43);
  faults::Snapshot leak_check({dir.path()});
  Child parent(helper({"fork-hold", ready.path(), dir.path(), "srv", "43", "child"}), logs.path());
  ASSERT_TRUE(wait_ready(ready.path(), 1));
  int ppid = 0, cpid = 0;
  ASSERT_TRUE(read_held(ready, ppid, cpid)) << "the child failed before it was ready: "
                                            << isoprobe_test::read_file(ready.file("child-status")) << " "
                                            << parent.err();
  Adopted child(cpid);
  parent.signal(SIGTERM);
  int status = parent.wait(milliseconds(20000));
  EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << describe_status(status);
  EXPECT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"srv"}) << "the parent removed the child's file";
  int id = segment_for(dir.path(), 43);
  EXPECT_GE(id, 0) << "the parent removed the child's segment";
  if (id >= 0) {
    void *p = shmat(id, nullptr, SHM_RDONLY);
    ASSERT_NE(p, reinterpret_cast<void *>(-1));
    EXPECT_STREQ(static_cast<const char *>(p), "child");
    shmdt(p);
  }
  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  int child_status = child.wait(milliseconds(20000));
  EXPECT_TRUE(child_status != -1 && WIFSIGNALED(child_status) && WTERMSIG(child_status) == SIGTERM)
      << describe_status(child_status);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  EXPECT_EQ(segment_for(dir.path(), 43), -1);
}

// Every signal whose default action ends the process removes the segment,
// the info file and the socket, and the process still dies by that signal.
TEST_F(Lifecycle, EveryTerminatingSignalCleansUpAndEndsTheProcessBySignal) {
  const std::vector<std::pair<int, const char *>> signals = {
      {SIGHUP, "HUP"},       {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGTERM, "TERM"},   {SIGUSR1, "USR1"},
      {SIGUSR2, "USR2"},     {SIGALRM, "ALRM"}, {SIGPIPE, "PIPE"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},
      {SIGXCPU, "XCPU"},     {SIGXFSZ, "XFSZ"}, {SIGABRT, "ABRT"}, {SIGSYS, "SYS"},     {SIGIO, "IO"},
      {SIGPWR, "PWR"},       {SIGRTMIN, "RTMIN"}};
  std::string summary;
  int proj = 100;
  for (const auto &[sig, name] : signals) {
    TempDir dir, ready, logs;
    KeyGuard key(dir.path(), proj);
    Child server(helper({"serve", ready.path(), dir.path(), "srv", std::to_string(proj)}), logs.path());
    ASSERT_TRUE(wait_ready(ready.path(), 1)) << name;
    faults::Info info = faults::read_info(dir.file("srv"));
    server.signal(sig);
    int status = server.wait(milliseconds(20000));
    EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << "SIG" << name << ": " << describe_status(status) << "; " << server.err();
    EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty()) << "SIG" << name << ": info file left behind";
    EXPECT_EQ(segment_for(dir.path(), proj), -1) << "SIG" << name << ": segment left behind";
    EXPECT_FALSE(faults::is_listening(info.port)) << "SIG" << name << ": socket still listening";
    summary += std::string(summary.empty() ? "" : " ") + name;
    ++proj;
  }
  faults::measure("terminating signals cleaned up", summary);
}

// A handler or SIG_IGN the program installed wins over the library's cleanup.
TEST_F(Lifecycle, ProgramHandlerAndSigIgnAreRespected) {
  {
    TempDir dir, ready, logs;
    KeyGuard key(dir.path(), 44);
    Child server(helper({"serve", ready.path(), dir.path(), "srv", "44", "handle", std::to_string(SIGTERM)}),
                 logs.path());
    ASSERT_TRUE(wait_ready(ready.path(), 1));
    server.signal(SIGTERM);
    int status = server.wait(milliseconds(20000));
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 3)
        << "the program's handler did not run: " << describe_status(status);
    EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty()) << "the handler's shutdown removes the file";
    EXPECT_EQ(segment_for(dir.path(), 44), -1);
  }
  {
    TempDir dir, ready, logs;
    KeyGuard key(dir.path(), 45);
    Child server(helper({"serve", ready.path(), dir.path(), "srv", "45", "ign", std::to_string(SIGHUP)}),
                 logs.path());
    ASSERT_TRUE(wait_ready(ready.path(), 1));
    faults::Info info = faults::read_info(dir.file("srv"));
    server.signal(SIGHUP);  // ignored: discarded when sent
    int fd = connect_local(info.port);
    ASSERT_GE(fd, 0) << "the server died of an ignored SIGHUP";
    std::string got;
    EXPECT_TRUE(read_to_eof(fd, got, milliseconds(10000)));
    close(fd);
    EXPECT_EQ(got, "sock-srv");
    int status = server.wait(milliseconds(20000));
    EXPECT_EQ(status, 0) << describe_status(status);
    EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  }
}

// A server killed by SIGKILL leaves its segment (nothing can run at
// SIGKILL); starting it again reclaims it, saying so in one line.
TEST_F(Lifecycle, StaleSegmentOfAKilledServerIsReclaimedOnRestart) {
  TempDir dir, ready, ready2, logs, logs2;
  KeyGuard key(dir.path(), 46);
  faults::Snapshot leak_check({dir.path()});
  int stale = -1;
  {
    Child first(helper({"serve", ready.path(), dir.path(), "srv", "46"}), logs.path());
    ASSERT_TRUE(wait_ready(ready.path(), 1));
    first.signal(SIGKILL);
    ASSERT_NE(first.wait(milliseconds(20000)), -1);
    stale = segment_for(dir.path(), 46);
    ASSERT_GE(stale, 0) << "SIGKILL cannot clean up; the segment must still be there";
  }
  Child second(helper({"serve", ready2.path(), dir.path(), "srv", "46"}), logs2.path());
  ASSERT_TRUE(wait_ready(ready2.path(), 1)) << "the restart failed: " << second.err();
  int now = segment_for(dir.path(), 46);
  EXPECT_GE(now, 0);
  EXPECT_NE(now, stale) << "the stale segment was reused instead of reclaimed";
  EXPECT_FALSE(isoprobe_test::shm_exists(stale));
  std::string err = second.err();
  EXPECT_EQ(faults::count_lines_with(err, "reclaimed stale segment"), 1u) << err;
  EXPECT_EQ(faults::lines_of(err).size(), 1u) << err;
  second.signal(SIGTERM);
  EXPECT_NE(second.wait(milliseconds(20000)), -1);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  faults::measure("stale restart", err.substr(0, err.find('\n')));
}

// A segment under the key that a live process created is never taken.
TEST_F(Lifecycle, SegmentOfALiveProcessStillFailsWithFileExists) {
  TempDir dir, ready;
  key_t k = ftok(dir.path().c_str(), 47);
  int mine = shmget(k, 4096, IPC_CREAT | IPC_EXCL | 0600);
  ASSERT_GE(mine, 0);
  isoprobe_test::Finished f =
      isoprobe_test::run(helper({"serve", ready.path(), dir.path(), "srv", "47"}), milliseconds(20000));
  EXPECT_TRUE(f.exited_with(1)) << describe_status(f.status);
  EXPECT_EQ(f.err, "system error: shmget: File exists\n");
  EXPECT_TRUE(isoprobe_test::shm_exists(mine));
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  shmctl(mine, IPC_RMID, nullptr);
}

// Two servers with one info-file name: the second replaces the file, and
// the first one's end (by signal, or normal) leaves the second's file.
TEST_F(Lifecycle, SecondServerWithTheSameNameKeepsItsFile) {
  TempDir dir, r1, r2, r3, logs1, logs2, logs3;
  KeyGuard k1(dir.path(), 48), k2(dir.path(), 49), k3(dir.path(), 50);
  faults::Snapshot leak_check({dir.path()});
  Child first(helper({"serve", r1.path(), dir.path(), "srv", "48"}), logs1.path());
  ASSERT_TRUE(wait_ready(r1.path(), 1));
  Child second(helper({"serve", r2.path(), dir.path(), "srv", "49"}), logs2.path());
  ASSERT_TRUE(wait_ready(r2.path(), 1));
  faults::Info info2 = faults::read_info(dir.file("srv"));
  EXPECT_EQ(info2.proj_id, 49) << "the second server replaces the file";
  first.signal(SIGTERM);
  EXPECT_NE(first.wait(milliseconds(20000)), -1);
  ASSERT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"srv"})
      << "the first server's SIGTERM removed the second's file";
  EXPECT_EQ(faults::read_info(dir.file("srv")).proj_id, 49);

  // Now the normal end of the second while a third holds the name.
  Child third(helper({"serve", r3.path(), dir.path(), "srv", "50"}), logs3.path());
  ASSERT_TRUE(wait_ready(r3.path(), 1));
  int fd = connect_local(info2.port);
  ASSERT_GE(fd, 0);
  std::string got;
  EXPECT_TRUE(read_to_eof(fd, got, milliseconds(10000)));
  close(fd);
  EXPECT_EQ(got, "sock-srv");
  EXPECT_EQ(second.wait(milliseconds(20000)), 0);
  ASSERT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"srv"})
      << "the second server's shutdown removed the third's file";
  EXPECT_EQ(faults::read_info(dir.file("srv")).proj_id, 50);
  third.signal(SIGTERM);
  EXPECT_NE(third.wait(milliseconds(20000)), -1);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

// A relative info directory is resolved when the file is created: a later
// chdir cannot make shutdown remove a same-named file elsewhere. A relative
// shm path is announced absolute.
TEST_F(Lifecycle, ChdirAfterARelativeDirectoryCannotRedirectShutdown) {
  TempDir base, other, ready;
  ASSERT_EQ(mkdir(base.file("info").c_str(), 0755), 0);
  isoprobe_test::write_file(base.file("shm"), "");
  ASSERT_EQ(mkdir(other.file("info").c_str(), 0755), 0);
  isoprobe_test::write_file(other.file("info/srv"), "decoy");
  KeyGuard key(base.file("shm"), 7);
  isoprobe_test::Finished f =
      isoprobe_test::run(helper({"chdir", ready.path(), base.path(), other.path()}), milliseconds(20000));
  EXPECT_TRUE(f.exited_with(0)) << f.err;
  std::vector<std::string> lines = faults::lines_of(isoprobe_test::read_file(ready.file("info-copy")));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], base.file("shm")) << "the shm path is announced absolute";
  EXPECT_TRUE(isoprobe_test::list_dir(base.file("info")).empty()) << "the real info file stayed";
  EXPECT_EQ(isoprobe_test::read_file(other.file("info/srv")), "decoy") << "shutdown removed a stranger's file";
  EXPECT_EQ(segment_for(base.file("shm"), 7), -1);
}

// write_to_socket any number of times; shutdown ends the stream.
TEST_F(Lifecycle, SeveralWritesReachAClientThatReadsUntilClose) {
  TempDir dir, ready, logs;
  KeyGuard key(dir.path(), 51);
  faults::Snapshot leak_check({dir.path()});
  Child server(helper({"writes", ready.path(), dir.path(), "w", "51", "one-", "two-", "three"}), logs.path());
  ASSERT_TRUE(wait_ready(ready.path(), 1));
  isoprobe_test::Finished f = isoprobe_test::run(foreign_client("until-close", dir.path()), milliseconds(30000));
  EXPECT_TRUE(f.exited_with(0)) << f.err;
  EXPECT_EQ(f.out, host_summary(1, " shm-w one-two-three"));
  int status = server.wait(milliseconds(20000));
  EXPECT_EQ(status, 0) << describe_status(status) << ": " << server.err();
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

// A client that connects and never reads: the server's write gives up
// within the send timeout with one error line (a timeout, not a failed
// system call: no errno is made up), exit 1, no leak.
TEST_F(Lifecycle, ClientThatNeverReadsEndsTheServerWithinTheSendTimeout) {
  TempDir dir, ready, logs;
  KeyGuard key(dir.path(), 52);
  faults::Snapshot leak_check({dir.path()});
  Child server(helper({"flood", ready.path(), dir.path(), "f", "52", "64"}), logs.path());
  ASSERT_TRUE(wait_ready(ready.path(), 1));
  faults::Info info = faults::read_info(dir.file("f"));
  int fd = connect_local(info.port);
  ASSERT_GE(fd, 0);
  auto start = Clock::now();
  int status = server.wait(milliseconds(20000));
  long long took = ms_since(start);
  close(fd);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1) << describe_status(status);
  EXPECT_EQ(server.err(), "isoprobe error: send: timed out after 5000 ms\n");
  EXPECT_LT(took, 15000) << "the send was not bounded";
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
  EXPECT_EQ(segment_for(dir.path(), 52), -1);
  faults::measure("client that never reads", "server exit 1 after " + std::to_string(took) + " ms");
}

// Directory, info-file name, shm path and messages that are not UTF-8 are
// bytes like any other, end to end.
TEST_F(Lifecycle, NamesPathsAndMessagesThatAreNotUtf8PassAsBytes) {
  TempDir base, logs;
  std::string dir = base.file("d\xe9");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  KeyGuard key(dir, 53);
  faults::Snapshot leak_check({dir});
  Child server({ISOPROBE_COURSE_SERVER, "0", dir, "53", "srv-\xff\xfe", dir, "\xe9t\xe9", "\xff\x01sock"},
               logs.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir, 1, milliseconds(20000))) << server.err();
  EXPECT_EQ(isoprobe_test::list_dir(dir), std::vector<std::string>{"srv-\xff\xfe"});
  EXPECT_EQ(faults::read_info(dir + "/srv-\xff\xfe").shm_path, dir);
  isoprobe_test::Finished f = isoprobe_test::run(foreign_client("until-close", dir), milliseconds(30000));
  EXPECT_EQ(f.out, host_summary(1, " \xe9t\xe9 \xff\x01sock"));
  int status = server.wait(milliseconds(20000));
  EXPECT_EQ(status, 0) << describe_status(status) << ": " << server.err();
  EXPECT_TRUE(isoprobe_test::list_dir(dir).empty());
}
