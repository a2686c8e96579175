// Every server function, through the C API (isoprobe_server_*) and the
// course's C++ API, checked from the outside: the socket with getsockopt /
// getsockname / a real connection, the segment with shmctl / shmat, the info
// file byte for byte.
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core_helpers.h"

using namespace core_test;
using isoprobe_test::TempDir;

namespace {

shmid_ds segment_stat(int shmid) {
  shmid_ds ds = {};
  EXPECT_EQ(shmctl(shmid, IPC_STAT, &ds), 0) << std::strerror(errno);
  return ds;
}

/// The bytes of segment `shmid` (attached read-only for the copy).
std::string segment_bytes(int shmid) {
  void *p = shmat(shmid, nullptr, SHM_RDONLY);
  if (p == reinterpret_cast<void *>(-1)) return "";
  std::string bytes(static_cast<const char *>(p), SHARED_MEMORY_SIZE);
  shmdt(p);
  return bytes;
}

void fill_segment(int shmid, char c) {
  void *p = shmat(shmid, nullptr, 0);
  ASSERT_NE(p, reinterpret_cast<void *>(-1)) << std::strerror(errno);
  std::memset(p, c, SHARED_MEMORY_SIZE);
  shmdt(p);
}

class ServerApi : public ::testing::Test {
 protected:
  TempDir dir;
  server_setup_information setup(const std::string &name = "srv.info", int proj = 31) {
    return make_setup(dir.path(), proj, name, dir.path());
  }
};

// --- start_communication ---------------------------------------------------

TEST_F(ServerApi, StartFillsListeningSocketSegmentAndNoClient) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK) << server.start_error.message;
  live_server_info &info = server.info();
  EXPECT_TRUE(is_listening_socket(info.server_fd));
  EXPECT_EQ(info.client_fd, -1);
  EXPECT_TRUE(info.info_file_path.empty());
  ASSERT_GE(info.shmid, 0);
  shmid_ds ds = segment_stat(info.shmid);
  EXPECT_EQ(ds.shm_segsz, static_cast<size_t>(SHARED_MEMORY_SIZE));
  EXPECT_EQ(ds.shm_cpid, getpid());
  EXPECT_EQ(ds.shm_perm.__key, key_of(dir.path(), 31)) << "the segment is named by ftok(shm_pathname, proj_id)";
  EXPECT_EQ(shmget(key_of(dir.path(), 31), 0, 0), info.shmid);
}

TEST_F(ServerApi, StartListensOnTheRequestedPort) {
  unsigned short port = isoprobe_test::free_port();
  server_setup_information s = make_setup(dir.path(), 32, "p.info", dir.path(), port);
  CServer server(s);
  ASSERT_EQ(server.start_status, ISOPROBE_OK) << server.start_error.message;
  EXPECT_EQ(port_of(server.address()), port);
}

TEST_F(ServerApi, StartFailureLeavesStructUntouchedAndNothingBehind) {
  server_setup_information s = make_setup(dir.file("missing"), 33, "x.info", dir.path());
  live_server_info info = empty_info();
  info.info_file_path = "sentinel";
  isoprobe_error err;
  ASSERT_EQ(isoprobe_server_start_communication(&s, &info, &err), ISOPROBE_ERROR_SYSTEM);
  EXPECT_EQ(err.status, ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(err.call, "ftok");
  EXPECT_EQ(err.errno_value, ENOENT);
  EXPECT_EQ(info.server_fd, -1);
  EXPECT_EQ(info.shmid, -1);
  EXPECT_EQ(info.info_file_path, "sentinel");
}

TEST_F(ServerApi, SecondServerOnTheSameKeyIsRefusedAndFirstKeepsItsSegment) {
  CServer first(setup("a.info"));
  ASSERT_EQ(first.start_status, ISOPROBE_OK);
  int fds_before = isoprobe_test::open_fd_count();
  CServer second(setup("b.info"));
  EXPECT_EQ(second.start_status, ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(second.start_error.call, "shmget");
  EXPECT_EQ(second.start_error.errno_value, EEXIST);
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_before) << "the refused server left a descriptor open";
  EXPECT_TRUE(isoprobe_test::shm_exists(first.info().shmid));
}

// --- create_info_file --------------------------------------------------------

TEST_F(ServerApi, InfoFileHasExactContentAtomicallyAndItsPathIsRecorded) {
  CServer server(setup("srv.info", 34));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  sockaddr_in a = server.address();
  EXPECT_EQ(isoprobe_test::read_file(dir.file("srv.info")), info_text(ip_of(a), port_of(a), dir.path(), 34));
  EXPECT_EQ(server.info().info_file_path, dir.file("srv.info"));
  EXPECT_EQ(all_entries(dir.path()), std::vector<std::string>{"srv.info"}) << "a temporary dot-file was left";
}

TEST_F(ServerApi, InfoFileIntoMissingDirectoryFailsInOpenAndLeavesServerIntact) {
  server_setup_information s = make_setup(dir.path(), 35, "x.info", dir.file("missing"));
  CServer server(s);
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_create_info_file(&server.setup(), &server.info(), &err), ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(err.call, "open");
  EXPECT_EQ(err.errno_value, ENOENT);
  EXPECT_TRUE(server.info().info_file_path.empty());
  EXPECT_TRUE(is_listening_socket(server.info().server_fd));
  EXPECT_TRUE(isoprobe_test::shm_exists(server.info().shmid));
}

TEST_F(ServerApi, InfoFileBeforeStartIsRefused) {
  live_server_info info = empty_info();
  server_setup_information s = setup();
  EXPECT_EQ(isoprobe_server_create_info_file(&s, &info, nullptr), ISOPROBE_ERROR_INVALID);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

TEST_F(ServerApi, InfoFileWithTheLongestNameTheFileSystemTakes) {
  // NAME_MAX (255) bytes is a valid file name; the temporary used for the
  // atomic publish must not push it over the limit.
  std::string longest(255, 'n');
  CServer server(setup(longest, 44));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  isoprobe_error err;
  ASSERT_EQ(isoprobe_server_create_info_file(&server.setup(), &server.info(), &err), ISOPROBE_OK) << err.message;
  EXPECT_EQ(all_entries(dir.path()), std::vector<std::string>{longest});
  ASSERT_EQ(server.shutdown(), ISOPROBE_OK);
  EXPECT_TRUE(all_entries(dir.path()).empty());
}

TEST_F(ServerApi, InfoFilePublishedAgainUnderANewNameLeavesOnlyTheNewOne) {
  CServer server(setup("first.info", 45));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  server_setup_information renamed = setup("second.info", 45);
  ASSERT_EQ(isoprobe_server_create_info_file(&renamed, &server.info(), nullptr), ISOPROBE_OK);
  EXPECT_EQ(server.info().info_file_path, dir.file("second.info"));
  EXPECT_EQ(all_entries(dir.path()), std::vector<std::string>{"second.info"}) << "the first info file was orphaned";
  ASSERT_EQ(server.shutdown(), ISOPROBE_OK);
  EXPECT_TRUE(all_entries(dir.path()).empty());
}

TEST_F(ServerApi, InfoFileDirectoryWithTrailingSlash) {
  server_setup_information s = make_setup(dir.path(), 46, "slash.info", dir.path() + "/");
  CServer server(s);
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  EXPECT_EQ(server.info().info_file_path, dir.file("slash.info"));
}

TEST_F(ServerApi, SecondServerOnTheSamePortFailsInBind) {
  CServer first(setup("a.info", 47));
  ASSERT_EQ(first.start_status, ISOPROBE_OK);
  server_setup_information s = make_setup(dir.path(), 48, "b.info", dir.path(), port_of(first.address()));
  CServer second(s);
  EXPECT_EQ(second.start_status, ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(second.start_error.call, "bind");
  EXPECT_EQ(second.start_error.errno_value, EADDRINUSE);
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 48)), ENOENT) << "the refused server's segment was left";
  EXPECT_TRUE(is_listening_socket(first.info().server_fd));
}

// --- get_connection ------------------------------------------------------------

TEST_F(ServerApi, GetConnectionAcceptsAClient) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  int client = connect_to(server.address());
  ASSERT_GE(client, 0) << std::strerror(errno);
  ASSERT_EQ(server.accept(5000), ISOPROBE_OK);
  int conn = server.info().client_fd;
  ASSERT_GE(conn, 0);
  EXPECT_FALSE(is_listening_socket(conn));
  EXPECT_EQ(port_of(peer_address(conn)), port_of(local_address(client))) << "client_fd is this client's connection";
  EXPECT_EQ(server.accept(10), ISOPROBE_ERROR_INVALID) << "a second client on the same server";
  close(client);
}

TEST_F(ServerApi, GetConnectionTimesOutWithoutClient) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_get_connection(&server.info(), 50, &err), ISOPROBE_ERROR_TIMEOUT);
  EXPECT_EQ(err.status, ISOPROBE_ERROR_TIMEOUT);
  EXPECT_EQ(server.info().client_fd, -1);
  EXPECT_TRUE(is_listening_socket(server.info().server_fd)) << "the listener survives a timeout";
}

// --- write_to_socket -----------------------------------------------------------

// write_to_socket may be called any number of times; shutdown ends the stream.
TEST_F(ServerApi, WriteToSocketTwiceThenShutdownDeliversBothThenEndOfStream) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  int client = connect_to(server.address());
  ASSERT_GE(client, 0);
  ASSERT_EQ(server.accept(5000), ISOPROBE_OK);
  ASSERT_EQ(server.send("hello-"), ISOPROBE_OK);
  ASSERT_EQ(server.send("socket"), ISOPROBE_OK) << "a second write must not fail";
  ASSERT_EQ(server.shutdown(), ISOPROBE_OK);
  std::string got;
  EXPECT_TRUE(read_to_eof(client, got, 5000)) << "no end-of-stream after shutdown";
  EXPECT_EQ(got, "hello-socket");
  close(client);
}

TEST_F(ServerApi, WriteToSocketSendsAMessageLargerThanTheSocketBuffers) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  int client = connect_to(server.address());
  ASSERT_GE(client, 0);
  ASSERT_EQ(server.accept(5000), ISOPROBE_OK);
  std::string big(4 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
  std::string got;
  bool eof = false;
  std::thread reader([&] { eof = read_to_eof(client, got, 10000); });
  EXPECT_EQ(server.send(big.c_str()), ISOPROBE_OK);
  EXPECT_EQ(server.shutdown(), ISOPROBE_OK);
  reader.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big);
  close(client);
}

TEST_F(ServerApi, WriteToSocketWithoutClientIsRefused) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  EXPECT_EQ(server.send("x"), ISOPROBE_ERROR_INVALID);
}

TEST_F(ServerApi, WriteToSocketAfterTheClientLeftIsASystemErrorNotSigpipe) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  int client = connect_to(server.address());
  ASSERT_GE(client, 0);
  ASSERT_EQ(server.accept(5000), ISOPROBE_OK);
  // SO_LINGER 0: close sends RST, so the server's send fails at once.
  linger lg = {1, 0};
  setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(client);
  std::string big(1 << 20, 'y');
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_write_to_socket(&server.info(), big.c_str(), &err), ISOPROBE_ERROR_SYSTEM);
  EXPECT_TRUE(err.errno_value == EPIPE || err.errno_value == ECONNRESET) << err.message;
}

// --- write_to_shm ----------------------------------------------------------------

TEST_F(ServerApi, WriteToShmStoresTheMessageNulTerminated) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  fill_segment(server.info().shmid, 'Z');
  ASSERT_EQ(server.write_shm("shm-message"), ISOPROBE_OK);
  std::string bytes = segment_bytes(server.info().shmid);
  EXPECT_EQ(bytes.substr(0, 12), std::string("shm-message\0", 12));
}

TEST_F(ServerApi, WriteToShmTakesAtMostSizeMinusOneBytes) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  std::string largest(SHARED_MEMORY_SIZE - 1, 'm');
  ASSERT_EQ(server.write_shm(largest.c_str()), ISOPROBE_OK);
  std::string bytes = segment_bytes(server.info().shmid);
  EXPECT_EQ(bytes, largest + '\0');

  ASSERT_EQ(server.write_shm("kept"), ISOPROBE_OK);
  std::string too_long(SHARED_MEMORY_SIZE, 'n');
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_write_to_shm(&server.info(), too_long.c_str(), &err), ISOPROBE_ERROR_INVALID);
  EXPECT_NE(std::string(err.message).find("4095"), std::string::npos) << err.message;
  EXPECT_EQ(segment_bytes(server.info().shmid).substr(0, 5), std::string("kept\0", 5)) << "refused write changed the segment";
}

TEST_F(ServerApi, WriteToShmWithoutSegmentIsRefused) {
  live_server_info info = empty_info();
  EXPECT_EQ(isoprobe_server_write_to_shm(&info, "x", nullptr), ISOPROBE_ERROR_INVALID);
}

// --- shutdown ----------------------------------------------------------------------

TEST_F(ServerApi, ShutdownFreesEverythingAndIsIdempotent) {
  CServer server(setup("srv.info", 36));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  int client = connect_to(server.address());
  ASSERT_GE(client, 0);
  ASSERT_EQ(server.accept(5000), ISOPROBE_OK);
  live_server_info before = server.info();
  ASSERT_EQ(server.shutdown(), ISOPROBE_OK);
  EXPECT_FALSE(fd_is_open(before.server_fd));
  EXPECT_FALSE(fd_is_open(before.client_fd));
  EXPECT_FALSE(isoprobe_test::shm_exists(before.shmid));
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 36)), ENOENT);
  EXPECT_TRUE(all_entries(dir.path()).empty());
  EXPECT_EQ(server.info().server_fd, -1);
  EXPECT_EQ(server.info().client_fd, -1);
  EXPECT_EQ(server.info().shmid, -1);
  EXPECT_TRUE(server.info().info_file_path.empty());
  std::string got;
  EXPECT_TRUE(read_to_eof(client, got, 5000)) << "the client sees the connection closed";
  close(client);
  EXPECT_EQ(server.shutdown(), ISOPROBE_OK) << "second shutdown";
}

// Someone cleaned the info directory while the server waited: the file is
// gone either way, so shutdown has nothing to report (the course's C++
// shutdown would otherwise exit 1 with "system error: unlink: ...").
TEST_F(ServerApi, ShutdownAfterTheInfoFileWasRemovedElsewhereSucceeds) {
  CServer server(setup("gone.info", 49));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  ASSERT_EQ(unlink(dir.file("gone.info").c_str()), 0);
  int shmid = server.info().shmid;
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_shutdown(&server.info(), &err), ISOPROBE_OK) << err.message;
  EXPECT_FALSE(isoprobe_test::shm_exists(shmid));
}

TEST_F(ServerApi, ShutdownRefusesAnAllZeroStructAndClosesNothing) {
  ASSERT_TRUE(fd_is_open(0) || open("/dev/null", O_RDONLY) == 0);
  live_server_info zero;
  std::memset(static_cast<void *>(&zero), 0, sizeof zero);  // raw bytes, as C would pass them
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_shutdown(&zero, &err), ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(err.status, ISOPROBE_ERROR_INVALID);
  EXPECT_TRUE(fd_is_open(0)) << "shutdown closed fd 0";
}

TEST_F(ServerApi, ShutdownRefusesGarbageAndClosesNothing) {
  live_server_info garbage;
  std::memset(static_cast<void *>(&garbage), 0xAB, sizeof garbage);
  EXPECT_EQ(isoprobe_server_shutdown(&garbage, nullptr), ISOPROBE_ERROR_INVALID);

  // Plausible handles mixed with one that is not this server's: still nothing touched.
  CServer server(setup("srv.info", 37));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  ASSERT_EQ(server.publish(), ISOPROBE_OK);
  ASSERT_TRUE(fd_is_open(0) || open("/dev/null", O_RDONLY) == 0);
  live_server_info mixed = server.info();
  mixed.client_fd = 0;  // not a socket
  EXPECT_EQ(isoprobe_server_shutdown(&mixed, nullptr), ISOPROBE_ERROR_INVALID);
  EXPECT_TRUE(fd_is_open(0));
  EXPECT_TRUE(is_listening_socket(server.info().server_fd));
  EXPECT_TRUE(isoprobe_test::shm_exists(server.info().shmid));
  EXPECT_EQ(isoprobe_test::list_dir(dir.path()), std::vector<std::string>{"srv.info"});
  live_server_info unterminated = server.info();
  std::memset(unterminated.info_file_path.data(), 'p', sizeof unterminated.info_file_path);
  EXPECT_EQ(isoprobe_server_shutdown(&unterminated, nullptr), ISOPROBE_ERROR_INVALID);
  EXPECT_TRUE(is_listening_socket(server.info().server_fd));
  EXPECT_TRUE(isoprobe_test::shm_exists(server.info().shmid));
}

// --- NULL pointers -------------------------------------------------------------------

TEST_F(ServerApi, NullPointersAreReportedNotDereferenced) {
  server_setup_information s = setup();
  live_server_info info = empty_info();
  isoprobe_error err;
  EXPECT_EQ(isoprobe_server_start_communication(nullptr, &info, &err), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(err.status, ISOPROBE_ERROR_NULL);
  EXPECT_NE(std::string(err.message).find("setup"), std::string::npos) << err.message;
  EXPECT_EQ(isoprobe_server_start_communication(&s, nullptr, &err), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 31)), ENOENT) << "a segment was created before the NULL check";
  EXPECT_EQ(isoprobe_server_create_info_file(nullptr, &info, nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_create_info_file(&s, nullptr, nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_get_connection(nullptr, 10, nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_write_to_socket(nullptr, "x", nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_write_to_shm(nullptr, "x", nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_shutdown(nullptr, nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_run(nullptr, "a", "b", nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_run_with_timeouts(&s, nullptr, "b", 10, 10, nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(isoprobe_server_run_with_timeouts(&s, "a", nullptr, 10, 10, nullptr), ISOPROBE_ERROR_NULL);

  CServer server(setup("n.info", 38));
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  EXPECT_EQ(server.write_shm(nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_EQ(server.send(nullptr), ISOPROBE_ERROR_NULL);
  EXPECT_TRUE(isoprobe_test::list_dir(dir.path()).empty());
}

TEST_F(ServerApi, ErrorRecordIsClearedOnSuccess) {
  CServer server(setup());
  ASSERT_EQ(server.start_status, ISOPROBE_OK);
  isoprobe_error err;
  std::memset(&err, 0x5A, sizeof err);
  EXPECT_EQ(isoprobe_server_write_to_shm(&server.info(), "ok", &err), ISOPROBE_OK);
  EXPECT_EQ(err.status, ISOPROBE_OK);
  EXPECT_EQ(err.errno_value, 0);
  EXPECT_STREQ(err.message, "");
}

// --- run ---------------------------------------------------------------------------------

TEST_F(ServerApi, RunWithoutClientTimesOutAndCleansUp) {
  server_setup_information s = setup("r.info", 39);
  int fds_before = isoprobe_test::open_fd_count();
  EXPECT_EQ(isoprobe_server_run_with_timeouts(&s, "shm", "sock", 100, 100, nullptr), ISOPROBE_OK);
  EXPECT_TRUE(all_entries(dir.path()).empty());
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 39)), ENOENT);
  EXPECT_EQ(isoprobe_test::open_fd_count(), fds_before);
}

/// Plays the client by hand: reads the info file, attaches the segment by
/// key, connects, reads the socket message to end-of-stream, closes.
void act_as_client(const std::string &info_path, std::string &shm_msg, std::string &sock_msg) {
  std::string content = isoprobe_test::read_file(info_path);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = content.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(content.substr(start, nl - start));
  ASSERT_EQ(lines.size(), 4u) << content;
  int shmid = shmget(key_of(lines[2], std::stoi(lines[3])), 0, 0);
  ASSERT_GE(shmid, 0) << std::strerror(errno);
  shm_msg = segment_bytes(shmid).c_str();
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(std::stoi(lines[1])));
  ASSERT_EQ(inet_pton(AF_INET, lines[0].c_str(), &a.sin_addr), 1);
  int sock = connect_to(a);
  ASSERT_GE(sock, 0) << std::strerror(errno);
  EXPECT_TRUE(read_to_eof(sock, sock_msg, 10000));
  close(sock);
}

TEST_F(ServerApi, RunServesOneClientAndCleansUp) {
  server_setup_information s = setup("r.info", 40);
  isoprobe_status status = ISOPROBE_ERROR_PANIC;
  std::thread server([&] { status = isoprobe_server_run_with_timeouts(&s, "from-shm", "from-socket", 10000, 10000, nullptr); });
  bool published = isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10));
  std::string shm_msg, sock_msg;
  if (published) act_as_client(dir.file("r.info"), shm_msg, sock_msg);
  server.join();
  ASSERT_TRUE(published);
  EXPECT_EQ(status, ISOPROBE_OK);
  EXPECT_EQ(shm_msg, "from-shm");
  EXPECT_EQ(sock_msg, "from-socket");
  EXPECT_TRUE(all_entries(dir.path()).empty());
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 40)), ENOENT);
}

TEST_F(ServerApi, RunRefusesAnOversizedShmMessageBeforeCreatingAnything) {
  server_setup_information s = setup("r.info", 41);
  std::string big(SHARED_MEMORY_SIZE, 'b');
  EXPECT_EQ(isoprobe_server_run_with_timeouts(&s, big.c_str(), "x", 10, 10, nullptr), ISOPROBE_ERROR_INVALID);
  EXPECT_TRUE(all_entries(dir.path()).empty());
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 41)), ENOENT);
}

// --- the course's C++ API --------------------------------------------------------------

TEST_F(ServerApi, CourseApiStepByStep) {
  server_setup_information s = setup("course.info", 42);
  live_server_info server;
  start_communication(s, server);
  EXPECT_TRUE(is_listening_socket(server.server_fd));
  EXPECT_EQ(server.client_fd, -1);
  ASSERT_GE(server.shmid, 0);
  EXPECT_EQ(segment_stat(server.shmid).shm_segsz, static_cast<size_t>(SHARED_MEMORY_SIZE));

  create_info_file(s, server);
  sockaddr_in a = local_address(server.server_fd);
  EXPECT_EQ(server.info_file_path, dir.file("course.info"));
  EXPECT_EQ(isoprobe_test::read_file(dir.file("course.info")), info_text(ip_of(a), port_of(a), dir.path(), 42));
  EXPECT_EQ(all_entries(dir.path()), std::vector<std::string>{"course.info"});

  write_to_shm(server, std::string("course-shm"));
  EXPECT_EQ(std::string(segment_bytes(server.shmid).c_str()), "course-shm");

  int client = connect_to(a);  // already queued: get_connection returns at once
  ASSERT_GE(client, 0);
  EXPECT_EQ(get_connection(server), 0);
  ASSERT_GE(server.client_fd, 0);
  write_to_socket(server, std::string("course-"));
  write_to_socket(server, std::string("socket"));  // again: the connection stays open

  live_server_info before = server;
  shutdown(server);  // ends the stream
  std::string got;
  EXPECT_TRUE(read_to_eof(client, got, 5000));
  EXPECT_EQ(got, "course-socket");
  EXPECT_FALSE(fd_is_open(before.server_fd));
  EXPECT_FALSE(fd_is_open(before.client_fd));
  EXPECT_FALSE(isoprobe_test::shm_exists(before.shmid));
  EXPECT_TRUE(all_entries(dir.path()).empty());
  shutdown(server);  // course code may call it twice; still fine
  close(client);
}

TEST_F(ServerApi, CourseRunServesOneClient) {
  server_setup_information s = setup("run.info", 43);
  std::thread server([&] { run(s, "run-shm", "run-socket"); });
  bool published = isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10));
  std::string shm_msg, sock_msg;
  if (published) act_as_client(dir.file("run.info"), shm_msg, sock_msg);
  server.join();
  ASSERT_TRUE(published);
  EXPECT_EQ(shm_msg, "run-shm");
  EXPECT_EQ(sock_msg, "run-socket");
  EXPECT_TRUE(all_entries(dir.path()).empty());
  EXPECT_EQ(segment_lookup_errno(key_of(dir.path(), 43)), ENOENT);
}

TEST_F(ServerApi, ManyServersAsThreadsOfOneProcess) {
  constexpr int kServers = 8;
  std::vector<server_setup_information> setups;
  for (int i = 0; i < kServers; ++i) setups.push_back(setup("t" + std::to_string(i), 50 + i));
  std::vector<isoprobe_status> statuses(kServers, ISOPROBE_ERROR_PANIC);
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i)
    threads.emplace_back([&, i] {
      std::string m = "m" + std::to_string(i);
      statuses[i] = isoprobe_server_run_with_timeouts(&setups[i], m.c_str(), m.c_str(), 10000, 10000, nullptr);
    });
  bool published = isoprobe_test::wait_for_files(dir.path(), kServers, std::chrono::seconds(10));
  std::vector<std::string> shm_msgs(kServers), sock_msgs(kServers);
  if (published)
    for (int i = 0; i < kServers; ++i) act_as_client(dir.file("t" + std::to_string(i)), shm_msgs[i], sock_msgs[i]);
  for (auto &t : threads) t.join();
  ASSERT_TRUE(published);
  for (int i = 0; i < kServers; ++i) {
    EXPECT_EQ(statuses[i], ISOPROBE_OK) << i;
    EXPECT_EQ(shm_msgs[i], "m" + std::to_string(i));
    EXPECT_EQ(sock_msgs[i], "m" + std::to_string(i));
  }
  EXPECT_TRUE(all_entries(dir.path()).empty());
}

}  // namespace
