// The C API under abuse: NULL pointers, uninitialised or foreign
// live_server_info records, handles freed twice or behind the library's
// back, and bad arguments. Every call must return an error status (never
// crash, never touch what is not its own) and leave nothing behind.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "faults_support.h"

using namespace faults;
using isoprobe_test::Child;
using isoprobe_test::TempDir;

namespace {

void noop_callback(void *, const live_server_info *) {}

std::string segment_text(int shmid) {
  void *p = shmat(shmid, nullptr, SHM_RDONLY);
  if (p == reinterpret_cast<void *>(-1)) return "<not attachable>";
  std::string s(static_cast<const char *>(p), strnlen(static_cast<const char *>(p), SHARED_MEMORY_SIZE));
  shmdt(p);
  return s;
}

unsigned short local_port(int fd) {
  sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

bool one_line(const isoprobe_error &e) {
  return std::strlen(e.message) > 0 && std::strchr(e.message, '\n') == nullptr;
}

TEST(CApi, NullPointersAreRefusedEverywhere) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 21, "srv", dir.path());
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  live_server_info copy = server;
  char buf[64];
  int calls = 0;
  auto expect_null = [&](isoprobe_status st, const char *what) {
    ++calls;
    EXPECT_EQ(st, ISOPROBE_ERROR_NULL) << what;
  };
  for (isoprobe_error *err : {&e, static_cast<isoprobe_error *>(nullptr)}) {
    expect_null(isoprobe_server_start_communication(nullptr, &server, err), "start(setup NULL)");
    expect_null(isoprobe_server_start_communication(&setup, nullptr, err), "start(server NULL)");
    expect_null(isoprobe_server_create_info_file(nullptr, &server, err), "create_info_file(setup NULL)");
    expect_null(isoprobe_server_create_info_file(&setup, nullptr, err), "create_info_file(server NULL)");
    expect_null(isoprobe_server_get_connection(nullptr, 0, err), "get_connection(NULL)");
    expect_null(isoprobe_server_write_to_socket(nullptr, "m", err), "write_to_socket(server NULL)");
    expect_null(isoprobe_server_write_to_socket(&server, nullptr, err), "write_to_socket(msg NULL)");
    expect_null(isoprobe_server_write_to_shm(nullptr, "m", err), "write_to_shm(server NULL)");
    expect_null(isoprobe_server_write_to_shm(&server, nullptr, err), "write_to_shm(msg NULL)");
    expect_null(isoprobe_server_shutdown(nullptr, err), "shutdown(NULL)");
    expect_null(isoprobe_server_run(nullptr, "a", "b", err), "run(setup NULL)");
    expect_null(isoprobe_server_run(&setup, nullptr, "b", err), "run(shm_msg NULL)");
    expect_null(isoprobe_server_run(&setup, "a", nullptr, err), "run(socket_msg NULL)");
    expect_null(isoprobe_server_run_with_timeouts(nullptr, "a", "b", 1, 1, err), "run_with_timeouts(setup NULL)");
    expect_null(isoprobe_client_count_servers(nullptr, 1, noop_callback, nullptr, nullptr, err),
                "count_servers(directory NULL)");
    expect_null(isoprobe_client_count_servers(dir.path().c_str(), 1, nullptr, nullptr, nullptr, err),
                "count_servers(callback NULL)");
    expect_null(isoprobe_client_print_server_infos(nullptr, 1, err), "print_server_infos(NULL, 1)");
    expect_null(isoprobe_client_get_message_from_socket(nullptr, buf, sizeof buf, 1, err),
                "get_message_from_socket(server NULL)");
    expect_null(isoprobe_client_get_message_from_shm(nullptr, buf, sizeof buf, err),
                "get_message_from_shm(server NULL)");
    expect_null(isoprobe_client_disconnect(nullptr, 1, err), "disconnect(NULL, 1)");
    expect_null(isoprobe_client_run(nullptr, err), "client run(NULL)");
  }
  EXPECT_EQ(std::string(e.message), "directory is NULL");
  EXPECT_EQ(std::memcmp(&copy, &server, sizeof server), 0) << "refused calls leave the record alone";
  // The empty cases are fine.
  EXPECT_EQ(isoprobe_client_disconnect(nullptr, 0, &e), ISOPROBE_OK);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(isoprobe_client_print_server_infos(nullptr, 0, &e), ISOPROBE_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "Total Servers: 0\nHost: 0\nContainer: 0\nVM: 0\nMessages:\n");
  EXPECT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << e.message;
  measure("C API NULL pointers", std::to_string(calls) + " calls, each ISOPROBE_ERROR_NULL; fds " +
                                     std::to_string(leak_check.fds()) + " -> " +
                                     std::to_string(isoprobe_test::open_fd_count()));
}

live_server_info filled_with(unsigned char byte) {
  live_server_info r;
  std::memset(static_cast<void *>(&r), byte, sizeof r);  // raw bytes, as C could pass them
  return r;
}

// Records that were never filled by start_communication: garbage, zeroes
// (fd 0 is stdin), huge descriptors. Every server call refuses them and
// nothing of this process (stdin included) is closed or changed.
TEST(CApi, UninitialisedRecordsAreRefused) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 22, "srv", dir.path());
  int refused = 0;
  for (unsigned char byte : {0xAB, 0x00, 0x7F, 0xFF}) {
    SCOPED_TRACE("record filled with byte " + std::to_string(byte));
    live_server_info r = filled_with(byte);
    if (byte == 0) r.info_file_path.data()[0] = '\0';
    isoprobe_error e;
    auto expect_refusal = [&](isoprobe_status st, const char *what) {
      ++refused;
      EXPECT_NE(st, ISOPROBE_OK) << what;
      EXPECT_NE(st, ISOPROBE_ERROR_PANIC) << what;
      EXPECT_TRUE(one_line(e)) << what;
    };
    expect_refusal(isoprobe_server_create_info_file(&setup, &r, &e), "create_info_file");
    expect_refusal(isoprobe_server_get_connection(&r, 10, &e), "get_connection");
    expect_refusal(isoprobe_server_write_to_socket(&r, "m", &e), "write_to_socket");
    expect_refusal(isoprobe_server_write_to_shm(&r, "m", &e), "write_to_shm");
    expect_refusal(isoprobe_server_shutdown(&r, &e), "shutdown");
    char buf[64];
    expect_refusal(isoprobe_client_get_message_from_socket(&r, buf, sizeof buf, 10, &e), "get_message_from_socket");
    EXPECT_NE(fcntl(0, F_GETFD), -1) << "stdin still open";
  }
  EXPECT_TRUE(all_entries(dir.path()).empty());
  measure("C API uninitialised live_server_info",
          std::to_string(refused) + " calls on garbage/zero/huge records, all refused with one line; fds " +
              std::to_string(leak_check.fds()) + " -> " + std::to_string(isoprobe_test::open_fd_count()));
}

// A record naming another process's live segment (a stale copy, or a
// guess): root may attach any segment, so only the library's own check
// keeps it from writing into or removing a segment that is not its own.
TEST(CApi, ForeignSegmentIsNeitherWrittenNorRemoved) {
  TempDir dir, capture;
  Snapshot leak_check({dir.path()});
  Child other({ISOPROBE_COURSE_SERVER, "0", dir.path(), "23", "other", dir.path(), "theirs", "sock"}, capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(dir.path(), 1, std::chrono::seconds(10))) << other.err();
  int foreign = -1;
  for (int id : isoprobe_test::own_shm_ids()) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_cpid == other.pid()) foreign = id;
  }
  ASSERT_GE(foreign, 0);
  live_server_info r = filled_with(0xFF);  // server_fd, client_fd = -1
  r.shmid = foreign;
  r.info_file_path.data()[0] = '\0';
  isoprobe_error e;
  EXPECT_EQ(isoprobe_server_write_to_shm(&r, "overwritten", &e), ISOPROBE_ERROR_INVALID) << e.message;
  EXPECT_EQ(segment_text(foreign), "theirs");
  EXPECT_EQ(isoprobe_server_shutdown(&r, &e), ISOPROBE_ERROR_INVALID) << e.message;
  EXPECT_TRUE(isoprobe_test::shm_exists(foreign));
  other.signal(SIGTERM);
  EXPECT_NE(other.wait(std::chrono::seconds(5)), -1);
  measure("C API foreign segment", std::string("write_to_shm and shutdown refused: ") + e.message);
}

TEST(CApi, ShutdownAndDisconnectAreIdempotent) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 24, "srv", dir.path());
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_write_to_shm(&server, "m", &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_create_info_file(&setup, &server, &e), ISOPROBE_OK) << e.message;
  Found found = count_servers_c(dir.path());
  ASSERT_EQ(found.status, ISOPROBE_OK) << found.error.message;
  ASSERT_EQ(found.servers.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(isoprobe_client_disconnect(found.servers.data(), found.servers.size(), &e), ISOPROBE_OK) << e.message;
    EXPECT_EQ(found.servers[0].client_fd, -1);
    EXPECT_EQ(found.servers[0].shmid, -1);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << "call " << i << ": " << e.message;
    EXPECT_EQ(server.server_fd, -1);
    EXPECT_EQ(server.shmid, -1);
  }
  // The course's C++ functions: a second call must neither fail (exit) nor free anything twice.
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  create_info_file(setup, server);
  std::vector<live_server_info> servers;
  EXPECT_EQ(count_servers(dir.path(), servers), 1);
  disconnect(servers);
  disconnect(servers);
  shutdown(server);
  shutdown(server);
  EXPECT_TRUE(all_entries(dir.path()).empty());
  measure("shutdown/disconnect repeated", "3x each through the C API and 2x through the C++ API, all OK; fds " +
                                              std::to_string(leak_check.fds()) + " -> " +
                                              std::to_string(isoprobe_test::open_fd_count()));
}

// Someone removed the server's info file and segment (rm, ipcrm) before it
// shut down: shutdown still closes the sockets, and reports success, since
// everything it was asked to free is gone.
TEST(CApi, ShutdownAfterItsFileAndSegmentWereRemovedBehindItsBack) {
  TempDir dir;
  Snapshot leak_check({dir.path()});
  server_setup_information setup = make_setup(dir.path(), 25, "srv", dir.path());
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(isoprobe_server_create_info_file(&setup, &server, &e), ISOPROBE_OK) << e.message;
  ASSERT_EQ(unlink(dir.file("srv").c_str()), 0);
  ASSERT_EQ(shmctl(server.shmid, IPC_RMID, nullptr), 0);
  int listener = server.server_fd;
  EXPECT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << e.message;
  EXPECT_EQ(fcntl(listener, F_GETFD), -1) << "listening socket closed";
  measure("shutdown after rm + ipcrm", std::string("status ") + (e.status == ISOPROBE_OK ? "OK" : e.message) +
                                           "; fds " + std::to_string(leak_check.fds()) + " -> " +
                                           std::to_string(isoprobe_test::open_fd_count()));
}

TEST(CApi, BadServerArgumentsAreErrorReturnsAndLeaveNothing) {
  TempDir dir, shm;
  Snapshot leak_check({dir.path(), shm.path()});
  live_server_info untouched = filled_with(0x5A);
  struct Case {
    std::string label;
    server_setup_information setup;
    isoprobe_status status;
    std::string call;
  };
  std::vector<Case> cases;
  auto base = [&] { return make_setup(shm.path(), 26, "srv", dir.path()); };
  {
    Case c{"shm path missing", base(), ISOPROBE_ERROR_SYSTEM, "ftok"};
    c.setup.shm_pathname = shm.file("missing");
    cases.push_back(c);
  }
  {
    Case c{"proj id 0", base(), ISOPROBE_ERROR_INVALID, ""};
    c.setup.shm_proj_id = 0;
    cases.push_back(c);
  }
  {
    Case c{"shm path unterminated (one past capacity)", base(), ISOPROBE_ERROR_INVALID, ""};
    std::memset(c.setup.shm_pathname.data(), 'p', sizeof c.setup.shm_pathname);
    cases.push_back(c);
  }
  {
    Case c{"info dir unterminated (one past capacity)", base(), ISOPROBE_ERROR_INVALID, ""};
    std::memset(c.setup.info_file_directory.data(), 'd', sizeof c.setup.info_file_directory);
    cases.push_back(c);
  }
  {
    Case c{"shm path at capacity", base(), ISOPROBE_ERROR_SYSTEM, "ftok"};
    c.setup.shm_pathname = shm.path() + "/" + std::string(ISOPROBE_STRING_CAPACITY - 2 - shm.path().size(), 'p');
    cases.push_back(c);
  }
  {
    // Bytes that are not UTF-8 are a valid name; a slash is not.
    Case c{"info file name with a slash", base(), ISOPROBE_ERROR_INVALID, ""};
    c.setup.info_file_name = "a/\xff\xfe";
    cases.push_back(c);
  }
  for (Case &c : cases) {
    live_server_info server = untouched;
    isoprobe_error e;
    EXPECT_EQ(isoprobe_server_start_communication(&c.setup, &server, &e), c.status) << c.label << ": " << e.message;
    EXPECT_STREQ(e.call, c.call.c_str()) << c.label;
    EXPECT_TRUE(one_line(e)) << c.label;
    EXPECT_EQ(std::memcmp(&server, &untouched, sizeof server), 0) << c.label << ": record changed on failure";
    EXPECT_EQ(isoprobe_server_run_with_timeouts(&c.setup, "a", "b", 10, 10, &e), c.status) << c.label;
    measure("C API start_communication: " + c.label, e.message);
  }
  // Port in use, missing info directory, too long message: after start.
  server_setup_information setup = base();
  live_server_info server;
  isoprobe_error e;
  ASSERT_EQ(isoprobe_server_start_communication(&setup, &server, &e), ISOPROBE_OK) << e.message;
  server_setup_information same_port = make_setup(dir.path(), 27, "srv2", dir.path(),
                                                  local_port(server.server_fd));
  live_server_info second = untouched;
  EXPECT_EQ(isoprobe_server_start_communication(&same_port, &second, &e), ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(e.call, "bind");
  EXPECT_EQ(e.errno_value, EADDRINUSE);
  server_setup_information missing_dir = setup;
  missing_dir.info_file_directory = dir.file("missing");
  EXPECT_EQ(isoprobe_server_create_info_file(&missing_dir, &server, &e), ISOPROBE_ERROR_SYSTEM);
  EXPECT_STREQ(e.call, "open");
  EXPECT_EQ(e.errno_value, ENOENT);
  std::string at_capacity(SHARED_MEMORY_SIZE - 1, 'm'), one_past(SHARED_MEMORY_SIZE, 'm');
  EXPECT_EQ(isoprobe_server_write_to_shm(&server, at_capacity.c_str(), &e), ISOPROBE_OK) << e.message;
  EXPECT_EQ(segment_text(server.shmid), at_capacity);
  EXPECT_EQ(isoprobe_server_write_to_shm(&server, one_past.c_str(), &e), ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(segment_text(server.shmid), at_capacity) << "a refused message leaves the old one";
  EXPECT_EQ(isoprobe_server_run_with_timeouts(&setup, one_past.c_str(), "b", 10, 10, &e), ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(isoprobe_server_shutdown(&server, &e), ISOPROBE_OK) << e.message;
}

// A caller's buffer of exactly the message size plus its NUL is enough;
// one byte less is an error return, never a truncation or an overflow.
TEST(CApi, ClientBuffersAtExactlyTheMessageSize) {
  TempDir dir;
  FakeServer fits(FakeServer::Behaviour::WriteAndClose, "hello"), too_small(FakeServer::Behaviour::WriteAndClose, "hello");
  Snapshot leak_check({dir.path()});
  OwnSegment segment(dir.path(), 28, 0666, "12345");
  isoprobe_test::write_file(dir.file("a"), info_text("127.0.0.1", fits.port(), dir.path(), 28));
  isoprobe_test::write_file(dir.file("b"), info_text("127.0.0.1", too_small.port(), dir.path(), 28));
  Found found = count_servers_c(dir.path());
  ASSERT_EQ(found.status, ISOPROBE_OK) << found.error.message;
  ASSERT_EQ(found.servers.size(), 2u);
  char buf[16];
  std::memset(buf, '#', sizeof buf);
  isoprobe_error e;
  EXPECT_EQ(isoprobe_client_get_message_from_shm(&found.servers[0], buf, 6, &e), ISOPROBE_OK) << e.message;
  EXPECT_STREQ(buf, "12345");
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(isoprobe_client_get_message_from_shm(&found.servers[0], buf, 5, &e), ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(buf[0], '#') << "nothing written on refusal";
  EXPECT_EQ(isoprobe_client_get_message_from_socket(&found.servers[0], buf, 6, 5000, &e), ISOPROBE_OK) << e.message;
  EXPECT_STREQ(buf, "hello");
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(isoprobe_client_get_message_from_socket(&found.servers[1], buf, 5, 5000, &e), ISOPROBE_ERROR_INVALID);
  EXPECT_EQ(buf[5], '#');
  EXPECT_EQ(isoprobe_client_disconnect(found.servers.data(), found.servers.size(), &e), ISOPROBE_OK) << e.message;
  EXPECT_TRUE(fits.wait_idle(std::chrono::seconds(5)) && too_small.wait_idle(std::chrono::seconds(5)));
  isoprobe_test::remove_tree(dir.file("a"));
  isoprobe_test::remove_tree(dir.file("b"));
}

}  // namespace
