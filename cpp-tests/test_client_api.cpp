// Every client function, through the course's C++ API and the C API
// (isoprobe_client_*), against servers in this process (C API, on this or
// other threads) and spawned course_server programs.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core_helpers.h"

using namespace core_test;
using isoprobe_test::TempDir;
using std::chrono::seconds;

namespace {

int attach_count(int shmid) {
  shmid_ds ds = {};
  if (shmctl(shmid, IPC_STAT, &ds) != 0) return -1;
  return static_cast<int>(ds.shm_nattch);
}

void collect(void *context, const live_server_info *server) {
  static_cast<std::vector<live_server_info> *>(context)->push_back(*server);
}

/// count_servers through the C API.
isoprobe_status c_count(const std::string &dir, std::vector<live_server_info> &out, size_t *count,
                        isoprobe_error *err = nullptr, unsigned timeout_ms = ISOPROBE_CONNECT_TIMEOUT_MS) {
  return isoprobe_client_count_servers(dir.c_str(), timeout_ms, collect, &out, count, err);
}

std::string summary(int total, int host, int container, int vm, const std::string &messages) {
  return "Total Servers: " + std::to_string(total) + "\nHost: " + std::to_string(host) +
         "\nContainer: " + std::to_string(container) + "\nVM: " + std::to_string(vm) + "\nMessages:" + messages + "\n";
}

class ClientApi : public ::testing::Test {
 protected:
  TempDir info_dir;  // where servers publish
  TempDir keys;      // ftok paths
  std::vector<int> held_fds;

  void TearDown() override {
    for (int fd : held_fds) close(fd);
  }

  /// A path that exists, for ftok.
  std::string key_path(const std::string &name) {
    std::string p = keys.file(name);
    isoprobe_test::write_file(p, "");
    return p;
  }

  /// A loopback port nobody listens on (held for the test's duration).
  unsigned short refused_port() {
    unsigned short port = 0;
    held_fds.push_back(refusing_port(port));
    return port;
  }

  /// An info file announcing a server that cannot be reached either way.
  void write_unreachable(const std::string &name) {
    isoprobe_test::write_file(info_dir.file(name), info_text("127.0.0.1", refused_port(), key_path(name), 7));
  }

  std::unique_ptr<CServer> server(const std::string &name, int proj) {
    auto s = std::make_unique<CServer>(make_setup(key_path(name), proj, name, info_dir.path()));
    EXPECT_EQ(s->start_status, ISOPROBE_OK) << s->start_error.message;
    return s;
  }
};

// --- count_servers -------------------------------------------------------------

TEST_F(ClientApi, CountServersOnAnEmptyDirectoryFindsNothing) {
  std::vector<live_server_info> servers;
  EXPECT_EQ(count_servers(info_dir.path(), servers), 0);
  EXPECT_TRUE(servers.empty());
  size_t n = 99;
  EXPECT_EQ(c_count(info_dir.path(), servers, &n), ISOPROBE_OK);
  EXPECT_EQ(n, 0u);
}

TEST_F(ClientApi, CountServersAppendsSortedByNameSkippingDotFilesAndDirectories) {
  for (const char *name : {"charlie", "alpha", "bravo"}) write_unreachable(name);
  isoprobe_test::write_file(info_dir.file(".hidden"), "127.0.0.1\n1\nx\n1\n");
  ASSERT_EQ(mkdir(info_dir.file("delta-dir").c_str(), 0755), 0);

  std::vector<live_server_info> servers(1, empty_info());
  servers[0].info_file_path = "sentinel";
  servers[0].shmid = 1234;
  EXPECT_EQ(count_servers(info_dir.path(), servers), 3) << "returns the number found, not the vector's size";
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers[0].info_file_path, "sentinel") << "count_servers must not clear the vector";
  EXPECT_EQ(servers[0].shmid, 1234);
  const char *expected[] = {"alpha", "bravo", "charlie"};
  for (int i = 0; i < 3; ++i) {
    const live_server_info &s = servers[i + 1];
    EXPECT_EQ(s.info_file_path, info_dir.file(expected[i]));
    EXPECT_EQ(s.shmid, -1) << "no segment exists for " << expected[i];
    EXPECT_EQ(s.client_fd, -1) << "connection to " << expected[i] << " was refused";
    EXPECT_EQ(s.server_fd, -1);
  }
  disconnect(servers);
}

TEST_F(ClientApi, CountServersReachesALiveServerBothWays) {
  auto srv = server("live", 61);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  int fds_before = isoprobe_test::open_fd_count();
  int held = attach_count(srv->info().shmid);  // the server's own attachment
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  const live_server_info &c = servers[0];
  EXPECT_EQ(c.shmid, srv->info().shmid) << "the client found the server's segment by key";
  EXPECT_EQ(attach_count(c.shmid), held + 1) << "count_servers keeps the segment attached";
  ASSERT_GE(c.client_fd, 0);
  EXPECT_EQ(port_of(peer_address(c.client_fd)), port_of(srv->address()));
  EXPECT_EQ(c.info_file_path, info_dir.file("live"));
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_before + 1) << "one socket per server";
  disconnect(servers);
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_before);
}

TEST_F(ClientApi, CountServersClassifiesAMissingShmPathAsNoSegment) {
  auto srv = server("sockonly", 62);
  isoprobe_test::write_file(info_dir.file("sockonly"),
                            info_text(ip_of(srv->address()), port_of(srv->address()), keys.file("absent"), 62));
  std::vector<live_server_info> servers;
  size_t n = 0;
  ASSERT_EQ(c_count(info_dir.path(), servers, &n), ISOPROBE_OK);
  ASSERT_EQ(n, 1u);
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].shmid, -1);
  EXPECT_GE(servers[0].client_fd, 0);
  EXPECT_EQ(isoprobe_client_disconnect(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
}

TEST_F(ClientApi, CountServersNeverCreatesASegment) {
  write_unreachable("ghost");
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  EXPECT_EQ(segment_lookup_errno(key_of(keys.file("ghost"), 7)), ENOENT);
}

TEST_F(ClientApi, CountServersCApiRejectsNullsAndMissingDirectory) {
  std::vector<live_server_info> servers;
  isoprobe_error err;
  EXPECT_EQ(isoprobe_client_count_servers(nullptr, 10, collect, &servers, nullptr, &err), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_client_count_servers(info_dir.path().c_str(), 10, nullptr, nullptr, nullptr, &err),
            ISOPROBE_ERROR_NULL);
  EXPECT_EQ(c_count(info_dir.file("missing"), servers, nullptr, &err), ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(err.call, "opendir");
  EXPECT_EQ(err.errno_value, ENOENT);
  EXPECT_STREQ(err.message, "opendir: No such file or directory");
  EXPECT_TRUE(servers.empty());
}

// --- print_server_infos ----------------------------------------------------------

TEST_F(ClientApi, PrintWithNoServersStillPrintsMessagesLine) {
  std::vector<live_server_info> none;
  EXPECT_EQ(capture_stdout([&] { print_server_infos(none); }), summary(0, 0, 0, 0, ""));
  EXPECT_EQ(capture_stdout([&] { EXPECT_EQ(isoprobe_client_print_server_infos(nullptr, 0, nullptr), ISOPROBE_OK); }),
            summary(0, 0, 0, 0, ""));
}

TEST_F(ClientApi, PrintCountsAnUnreachableServerAsVm) {
  write_unreachable("vm");
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  EXPECT_EQ(capture_stdout([&] { print_server_infos(servers); }), summary(1, 0, 0, 1, ""));
  disconnect(servers);
}

// Host (both channels), a container reached only by shm, a container reached
// only by socket, and a VM — in file-name order, shm before socket.
TEST_F(ClientApi, PrintClassifiesAndOrdersMessagesExactly) {
  auto host = server("a-host", 63);
  ASSERT_EQ(host->write_shm("s1"), ISOPROBE_OK);
  ASSERT_EQ(host->publish(), ISOPROBE_OK);
  auto shm_only = server("b-shm", 64);
  ASSERT_EQ(shm_only->write_shm("s2"), ISOPROBE_OK);
  isoprobe_test::write_file(info_dir.file("b-shm"),
                            info_text("127.0.0.1", refused_port(), keys.file("b-shm"), 64));
  auto sock_only = server("c-sock", 65);
  ASSERT_EQ(sock_only->write_shm("never-read"), ISOPROBE_OK);
  isoprobe_test::write_file(info_dir.file("c-sock"), info_text(ip_of(sock_only->address()),
                                                               port_of(sock_only->address()),
                                                               keys.file("c-absent"), 65));
  write_unreachable("d-vm");

  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 4);
  // The client's connects sit in the listeners' queues: accept and answer.
  ASSERT_EQ(host->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(host->send_and_end("k1"), ISOPROBE_OK);
  ASSERT_EQ(sock_only->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(sock_only->send_and_end("k3"), ISOPROBE_OK);
  EXPECT_EQ(capture_stdout([&] { print_server_infos(servers); }), summary(4, 1, 2, 1, " s1 k1 s2 k3"));
  disconnect(servers);
}

TEST_F(ClientApi, PrintThroughTheCApiGoesToCStdout) {
  auto host = server("host", 66);
  ASSERT_EQ(host->write_shm("c-shm"), ISOPROBE_OK);
  ASSERT_EQ(host->publish(), ISOPROBE_OK);
  std::vector<live_server_info> servers;
  ASSERT_EQ(c_count(info_dir.path(), servers, nullptr), ISOPROBE_OK);
  ASSERT_EQ(host->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(host->send_and_end("c-sock\n"), ISOPROBE_OK);
  std::string out = capture_stdout([&] {
    std::printf("before|");  // stays ahead of the summary: same C stream
    EXPECT_EQ(isoprobe_client_print_server_infos(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
  });
  EXPECT_EQ(out, "before|" + summary(1, 1, 0, 0, " c-shm c-sock"));
  EXPECT_EQ(isoprobe_client_disconnect(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
  EXPECT_EQ(isoprobe_client_print_server_infos(nullptr, 1, nullptr), ISOPROBE_ERROR_NULL);
}

TEST_F(ClientApi, CourseOutputBeforeTheSummaryStaysInOrder) {
  std::vector<live_server_info> none;
  std::string out = capture_stdout([&] {
    std::cout << "iostream|";
    std::printf("stdio|");
    print_server_infos(none);
    std::cout << "after" << std::endl;
  });
  EXPECT_EQ(out, "iostream|stdio|" + summary(0, 0, 0, 0, "") + "after\n");
}

// select() with descriptors past FD_SETSIZE (1024): glibc's fd_set cannot
// hold them; the library's must. Listener, connection and the client's
// socket all get numbers above 1024 here.
TEST_F(ClientApi, DescriptorsAboveFdSetsizeWork) {
  constexpr int kHigh = 1100;
  rlimit lim;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  rlimit saved = lim;
  if (lim.rlim_cur < kHigh + 64) {
    if (lim.rlim_max < kHigh + 64) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << lim.rlim_max << " is too low";
    lim.rlim_cur = kHigh + 64;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }
  for (int fd = 0; fd < kHigh;) {
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    held_fds.push_back(fd);  // closed by TearDown too, should an assertion end the test
  }
  {
    auto srv = server("high", 77);
    ASSERT_EQ(srv->write_shm("hs"), ISOPROBE_OK);
    ASSERT_EQ(srv->publish(), ISOPROBE_OK);
    EXPECT_GE(srv->info().server_fd, 1024);
    std::vector<live_server_info> servers;
    ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
    EXPECT_GE(servers[0].client_fd, 1024);
    ASSERT_EQ(srv->accept(5000), ISOPROBE_OK);
    EXPECT_GE(srv->info().client_fd, 1024);
    ASSERT_EQ(srv->send_and_end("hk"), ISOPROBE_OK);
    EXPECT_EQ(capture_stdout([&] { print_server_infos(servers); }), summary(1, 1, 0, 0, " hs hk"));
    disconnect(servers);
  }
  for (int fd : held_fds) close(fd);
  held_fds.clear();
  setrlimit(RLIMIT_NOFILE, &saved);
}

TEST_F(ClientApi, DisconnectOfRecordsItDidNotOpenClosesNothing) {
  ASSERT_TRUE(fd_is_open(0) || open("/dev/null", O_RDONLY) == 0);
  std::vector<live_server_info> zeroed(2);
  std::memset(zeroed.data(), 0, zeroed.size() * sizeof zeroed[0]);
  disconnect(zeroed);
  EXPECT_TRUE(fd_is_open(0)) << "disconnect closed fd 0, which is not a socket";
}

// --- get_message_from_socket / get_message_from_shm ----------------------------------

TEST_F(ClientApi, GetMessagesThroughTheCourseApi) {
  auto srv = server("m", 67);
  ASSERT_EQ(srv->write_shm("shm-text"), ISOPROBE_OK);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  ASSERT_EQ(srv->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(srv->send_and_end("socket-text"), ISOPROBE_OK);
  std::string msg = "stale";
  get_message_from_shm(servers[0], msg);
  EXPECT_EQ(msg, "shm-text");
  get_message_from_socket(servers[0], msg);
  EXPECT_EQ(msg, "socket-text");
  get_message_from_shm(servers[0], msg);
  EXPECT_EQ(msg, "shm-text") << "reading the segment does not consume it";
  disconnect(servers);
}

TEST_F(ClientApi, GetMessagesThroughTheCApi) {
  auto srv = server("m", 68);
  ASSERT_EQ(srv->write_shm("abc"), ISOPROBE_OK);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  std::vector<live_server_info> servers;
  ASSERT_EQ(c_count(info_dir.path(), servers, nullptr), ISOPROBE_OK);
  ASSERT_EQ(servers.size(), 1u);
  live_server_info &s = servers[0];
  char buf[64];
  isoprobe_error err;
  EXPECT_EQ(isoprobe_client_get_message_from_socket(&s, buf, sizeof buf, 100, &err), ISOPROBE_ERROR_TIMEOUT)
      << "nothing was sent yet";
  ASSERT_EQ(isoprobe_client_get_message_from_shm(&s, buf, sizeof buf, &err), ISOPROBE_OK) << err.message;
  EXPECT_STREQ(buf, "abc");
  EXPECT_EQ(isoprobe_client_get_message_from_shm(&s, buf, 3, &err), ISOPROBE_ERROR_INVALID) << "no room for the NUL";
  EXPECT_EQ(isoprobe_client_get_message_from_shm(&s, nullptr, 10, &err), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_client_get_message_from_shm(nullptr, buf, sizeof buf, &err), ISOPROBE_ERROR_NULL);

  ASSERT_EQ(srv->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(srv->send_and_end("socket-msg \n"), ISOPROBE_OK);
  ASSERT_EQ(isoprobe_client_get_message_from_socket(&s, buf, sizeof buf, 5000, &err), ISOPROBE_OK) << err.message;
  EXPECT_STREQ(buf, "socket-msg") << "trailing whitespace is stripped";
  EXPECT_EQ(isoprobe_client_get_message_from_socket(nullptr, buf, sizeof buf, 10, &err), ISOPROBE_ERROR_NULL);

  EXPECT_EQ(isoprobe_client_disconnect(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
  EXPECT_EQ(isoprobe_client_get_message_from_socket(&s, buf, sizeof buf, 10, &err), ISOPROBE_ERROR_INVALID)
      << "client_fd is -1 after disconnect";
  EXPECT_EQ(isoprobe_client_get_message_from_shm(&s, buf, sizeof buf, &err), ISOPROBE_ERROR_INVALID);
}

TEST_F(ClientApi, SocketMessageTooLongForTheBufferIsRefusedNotTruncated) {
  auto srv = server("m", 69);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  std::vector<live_server_info> servers;
  ASSERT_EQ(c_count(info_dir.path(), servers, nullptr), ISOPROBE_OK);
  ASSERT_EQ(srv->accept(5000), ISOPROBE_OK);
  ASSERT_EQ(srv->send_and_end("0123456789"), ISOPROBE_OK);
  char buf[8];
  std::memset(buf, 'q', sizeof buf);
  EXPECT_EQ(isoprobe_client_get_message_from_socket(&servers[0], buf, sizeof buf, 5000, nullptr),
            ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(buf[0], 'q') << "the buffer was written although the message did not fit";
  EXPECT_EQ(isoprobe_client_disconnect(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
}

// --- disconnect ----------------------------------------------------------------------------

TEST_F(ClientApi, DisconnectClosesDetachesNeverRemovesAndIsIdempotent) {
  auto srv = server("d", 70);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  int fds_before = isoprobe_test::open_fd_count();
  int held = attach_count(srv->info().shmid);  // the server's own attachment
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  int sock = servers[0].client_fd;
  int shmid = servers[0].shmid;
  ASSERT_GE(sock, 0);
  ASSERT_EQ(attach_count(shmid), held + 1);
  disconnect(servers);
  EXPECT_EQ(servers[0].client_fd, -1);
  EXPECT_EQ(servers[0].shmid, -1);
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_before);
  EXPECT_EQ(attach_count(shmid), held) << "the segment is detached";
  EXPECT_TRUE(isoprobe_test::shm_exists(srv->info().shmid)) << "disconnect removed the server's segment";
  disconnect(servers);  // a second time: nothing left to do
  EXPECT_TRUE(isoprobe_test::shm_exists(srv->info().shmid));
  ASSERT_EQ(srv->accept(5000), ISOPROBE_OK);
  std::string rest;
  EXPECT_TRUE(read_to_eof(srv->info().client_fd, rest, 5000)) << "the server sees the client's close";
  EXPECT_EQ(isoprobe_client_disconnect(servers.data(), servers.size(), nullptr), ISOPROBE_OK);
  EXPECT_EQ(isoprobe_client_disconnect(nullptr, 0, nullptr), ISOPROBE_OK);
  EXPECT_EQ(isoprobe_client_disconnect(nullptr, 1, nullptr), ISOPROBE_ERROR_NULL);
}

TEST_F(ClientApi, DisconnectLeavesSegmentsForOtherClients) {
  auto srv = server("d", 71);
  ASSERT_EQ(srv->write_shm("shared"), ISOPROBE_OK);
  ASSERT_EQ(srv->publish(), ISOPROBE_OK);
  int held = attach_count(srv->info().shmid);  // the server's own attachment
  std::vector<live_server_info> first, second;
  ASSERT_EQ(count_servers(info_dir.path(), first), 1);
  ASSERT_EQ(count_servers(info_dir.path(), second), 1);
  EXPECT_EQ(attach_count(srv->info().shmid), held + 2);
  disconnect(first);
  EXPECT_EQ(attach_count(srv->info().shmid), held + 1) << "exactly one attachment was detached";
  std::string msg;
  get_message_from_shm(second[0], msg);
  EXPECT_EQ(msg, "shared");
  disconnect(second);
  EXPECT_EQ(attach_count(srv->info().shmid), held);
}

// --- run -------------------------------------------------------------------------------------

/// Servers on other threads of this process, through isoprobe_server_run_with_timeouts.
class ThreadedServers {
 public:
  ~ThreadedServers() {
    for (auto &t : threads_) t.join();
  }
  void add(const server_setup_information &setup, const std::string &shm, const std::string &sock) {
    setups_.push_back(std::make_unique<server_setup_information>(setup));
    statuses_.push_back(std::make_unique<isoprobe_status>(ISOPROBE_ERROR_PANIC));
    server_setup_information *s = setups_.back().get();
    isoprobe_status *st = statuses_.back().get();
    threads_.emplace_back([=] { *st = isoprobe_server_run_with_timeouts(s, shm.c_str(), sock.c_str(), 10000, 10000, nullptr); });
  }
  void join_all() {
    for (auto &t : threads_) t.join();
    threads_.clear();
  }
  isoprobe_status status(size_t i) const { return *statuses_[i]; }

 private:
  std::vector<std::unique_ptr<server_setup_information>> setups_;
  std::vector<std::unique_ptr<isoprobe_status>> statuses_;
  std::vector<std::thread> threads_;
};

TEST_F(ClientApi, CourseRunAgainstThreadedAndSpawnedServers) {
  TempDir capture;
  isoprobe_test::Child spawned({ISOPROBE_COURSE_SERVER, "0", key_path("b"), "72", "b", info_dir.path(), "sb", "kb"},
                               capture.path());
  ThreadedServers threaded;
  threaded.add(make_setup(key_path("a"), 73, "a", info_dir.path()), "sa", "ka");
  threaded.add(make_setup(key_path("c"), 74, "c", info_dir.path()), "sc", "kc");
  ASSERT_TRUE(isoprobe_test::wait_for_files(info_dir.path(), 3, seconds(10)));

  EXPECT_EQ(capture_stdout([&] { run(info_dir.path()); }), summary(3, 3, 0, 0, " sa ka sb kb sc kc"));

  threaded.join_all();
  EXPECT_EQ(threaded.status(0), ISOPROBE_OK);
  EXPECT_EQ(threaded.status(1), ISOPROBE_OK);
  int st = spawned.wait(seconds(15));
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << "course_server: " << spawned.err();
  EXPECT_TRUE(isoprobe_test::wait_for_empty(info_dir.path(), seconds(5)));
}

TEST_F(ClientApi, CApiRunPrintsTheSummary) {
  ThreadedServers threaded;
  threaded.add(make_setup(key_path("x"), 75, "x", info_dir.path()), "sx", "kx");
  write_unreachable("y");
  ASSERT_TRUE(isoprobe_test::wait_for_files(info_dir.path(), 2, seconds(10)));
  isoprobe_status st = ISOPROBE_ERROR_PANIC;
  EXPECT_EQ(capture_stdout([&] { st = isoprobe_client_run(info_dir.path().c_str(), nullptr); }),
            summary(2, 1, 0, 1, " sx kx"));
  EXPECT_EQ(st, ISOPROBE_OK);
  threaded.join_all();
  EXPECT_EQ(threaded.status(0), ISOPROBE_OK);
  isoprobe_error err;
  EXPECT_EQ(isoprobe_client_run(nullptr, &err), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_client_run(info_dir.file("missing").c_str(), &err), ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(err.call, "opendir");
}

TEST_F(ClientApi, StepByStepAgainstASpawnedCourseServer) {
  TempDir capture;
  isoprobe_test::Child spawned({ISOPROBE_COURSE_SERVER, "0", key_path("p"), "76", "p", info_dir.path(), "p-shm", "p-sock"},
                               capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(info_dir.path(), 1, seconds(10)));
  std::vector<live_server_info> servers;
  ASSERT_EQ(count_servers(info_dir.path(), servers), 1);
  ASSERT_GE(servers[0].shmid, 0);
  ASSERT_GE(servers[0].client_fd, 0);
  std::string msg;
  get_message_from_shm(servers[0], msg);
  EXPECT_EQ(msg, "p-shm");
  get_message_from_socket(servers[0], msg);
  EXPECT_EQ(msg, "p-sock");
  int shmid = servers[0].shmid;
  disconnect(servers);
  int st = spawned.wait(seconds(15));
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << "course_server: " << spawned.err();
  EXPECT_EQ(spawned.err(), "");
  EXPECT_FALSE(isoprobe_test::shm_exists(shmid)) << "the server removes its segment once the client left";
  EXPECT_TRUE(isoprobe_test::list_dir(info_dir.path()).empty());
}

}  // namespace
