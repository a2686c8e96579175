// The C++ source-compatibility layer: code written against the course's
// headers (std::string fields, the course function names) compiles unchanged
// and does the obvious thing. Both headers twice, with <sys/socket.h>.
#include <sys/socket.h>

#include "client.h"
#include "server.h"
#include "client.h"
#include "server.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core_helpers.h"
#include "test_support.h"

// Layout pinned on the C++ side (the Rust side pins the same numbers).
static_assert(sizeof(isoprobe_string) == ISOPROBE_STRING_CAPACITY, "isoprobe_string size");
static_assert(offsetof(live_server_info, server_fd) == 0, "server_fd offset");
static_assert(offsetof(live_server_info, client_fd) == 4, "client_fd offset");
static_assert(offsetof(live_server_info, shmid) == 8, "shmid offset");
static_assert(offsetof(live_server_info, info_file_path) == 12, "info_file_path offset");
static_assert(sizeof(live_server_info) == 12 + ISOPROBE_STRING_CAPACITY, "live_server_info size");
static_assert(offsetof(server_setup_information, port) == 0, "port offset");
static_assert(offsetof(server_setup_information, shm_pathname) == 2, "shm_pathname offset");
static_assert(offsetof(server_setup_information, shm_proj_id) == 2 + ISOPROBE_STRING_CAPACITY + 2, "proj id offset");
static_assert(std::is_aggregate<server_setup_information>::value, "aggregate initialisation keeps working");
static_assert(std::is_trivially_copyable<live_server_info>::value, "live_server_info is plain data");
static_assert(SHARED_MEMORY_SIZE == 4096 && MAXHOSTNAME == 512, "course constants");

// The course's exact signatures exist (pointer-to-function with that type).
static void (*const k_start)(const server_setup_information &, live_server_info &) = start_communication;
static void (*const k_info)(const server_setup_information &, live_server_info &) = create_info_file;
static int (*const k_conn)(const live_server_info &) = get_connection;
static void (*const k_wsock)(const live_server_info &, const std::string &) = write_to_socket;
static void (*const k_wshm)(const live_server_info &, const std::string &) = write_to_shm;
static void (*const k_shutdown)(const live_server_info &) = shutdown;
static int (*const k_posix_shutdown)(int, int) = ::shutdown;
static void (*const k_srun)(const server_setup_information &, const std::string &, const std::string &) = run;
static int (*const k_count)(const std::string &, std::vector<live_server_info> &) = count_servers;
static void (*const k_print)(const std::vector<live_server_info> &) = print_server_infos;
static void (*const k_gsock)(const live_server_info &, std::string &) = get_message_from_socket;
static void (*const k_gshm)(const live_server_info &, std::string &) = get_message_from_shm;
static void (*const k_disc)(const std::vector<live_server_info> &) = disconnect;
static void (*const k_crun)(const std::string &) = run;

// The pointers above check the signatures when this file compiles; here
// every one of them is called, so each must reach the library's definition
// and do its job: one server and the client in this process, through the
// course's functions only.
TEST(Compat, EveryCourseFunctionRunsThroughItsExactSignature) {
  errno = 0;
  EXPECT_EQ(k_posix_shutdown(-1, SHUT_RDWR), -1);
  EXPECT_EQ(errno, EBADF) << "::shutdown is still the POSIX call, not the course's overload";
  EXPECT_NE((const void *)k_srun, (const void *)k_crun) << "server and client run are distinct overloads";

  isoprobe_test::TempDir info_dir, keys;
  server_setup_information setup = {};
  setup.port = 0;
  setup.shm_pathname = keys.path();
  setup.shm_proj_id = 93;
  setup.info_file_name = "compat";
  setup.info_file_directory = info_dir.path();
  live_server_info server = {};
  k_start(setup, server);
  k_info(setup, server);
  k_wshm(server, "shm-compat");
  std::vector<live_server_info> found;
  ASSERT_EQ(k_count(info_dir.path(), found), 1);
  ASSERT_EQ(k_conn(server), 0) << "the client's connect is waiting in the backlog";
  k_wsock(server, "socket-compat");
  EXPECT_EQ(core_test::capture_stdout([&] { k_print(found); }),
            "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: shm-compat socket-compat\n");
  std::string shm_msg = "stale", socket_msg = "stale";
  k_gshm(found[0], shm_msg);
  k_gsock(found[0], socket_msg);
  EXPECT_EQ(shm_msg, "shm-compat") << "the segment is read again";
  EXPECT_EQ(socket_msg, "") << "print_server_infos read the socket's message, up to the server's end of stream";
  k_disc(found);
  EXPECT_EQ(found[0].client_fd, -1) << "disconnect marks the record closed";
  k_shutdown(server);
  EXPECT_TRUE(isoprobe_test::list_dir(info_dir.path()).empty()) << "shutdown removed the info file";
  EXPECT_EQ(core_test::capture_stdout([&] { k_crun(info_dir.path()); }),
            "Total Servers: 0\nHost: 0\nContainer: 0\nVM: 0\nMessages:\n");
}

TEST(Compat, AggregateInitialisationFromLiterals) {
  server_setup_information s = {8080, "abcd", 10, "f.txt", "dir"};
  EXPECT_EQ(s.port, 8080);
  EXPECT_EQ(s.shm_pathname, "abcd");
  EXPECT_EQ(s.shm_proj_id, 10);
  EXPECT_EQ(s.info_file_name, std::string("f.txt"));
  EXPECT_EQ(std::string("dir"), s.info_file_directory);
}

TEST(Compat, AssignFromCharPointerAndStdString) {
  char arg[] = "/tmp/from-argv";
  char *argv2 = arg;
  server_setup_information s = {};
  s.shm_pathname = argv2;
  std::string some_std_string = "info-dir";
  s.info_file_directory = some_std_string;
  EXPECT_STREQ(s.shm_pathname.c_str(), "/tmp/from-argv");
  EXPECT_EQ(s.info_file_directory, some_std_string);
  EXPECT_EQ(s.info_file_directory.size(), some_std_string.size());
  EXPECT_FALSE(s.info_file_directory.empty());
  s.info_file_directory = "";
  EXPECT_TRUE(s.info_file_directory.empty());
}

TEST(Compat, ComparisonsBothWaysAndBetweenStrings) {
  live_server_info a = {}, b = {};
  a.info_file_path = "/x/y";
  b.info_file_path = std::string("/x/y");
  EXPECT_TRUE(a.info_file_path == std::string("/x/y"));
  EXPECT_TRUE(std::string("/x/y") == a.info_file_path);
  EXPECT_TRUE(a.info_file_path == "/x/y");
  EXPECT_TRUE("/x/y" == a.info_file_path);
  EXPECT_TRUE(a.info_file_path == b.info_file_path);
  EXPECT_FALSE(a.info_file_path != b.info_file_path);
  EXPECT_FALSE(a.info_file_path == "/x/y/z");
  EXPECT_FALSE(a.info_file_path == "/x");
  EXPECT_TRUE(a.info_file_path != std::string("/x"));
  EXPECT_EQ(a.info_file_path, std::string("/x/y"));
  EXPECT_EQ(std::string("/x/y"), a.info_file_path);
}

TEST(Compat, ConversionsStreamsAndFiles) {
  isoprobe_test::TempDir dir;
  live_server_info server = {};
  server.info_file_path = dir.file("info.txt");
  isoprobe_test::write_file(dir.file("info.txt"), "content\n");
  std::string p = server.info_file_path;
  EXPECT_EQ(p, dir.file("info.txt"));
  std::ifstream f(server.info_file_path);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  EXPECT_EQ(line, "content");
  std::ostringstream out;
  out << server.info_file_path;
  EXPECT_EQ(out.str(), p);
  EXPECT_EQ(std::string(server.info_file_path.c_str()), p);
}

TEST(Compat, TooLongIsRejectedLoudlyNeverTruncated) {
  server_setup_information s = {};
  s.shm_pathname = "keep";
  std::string exactly(ISOPROBE_STRING_CAPACITY - 1, 'a');
  s.info_file_name = exactly;
  EXPECT_EQ(s.info_file_name.size(), exactly.size());
  std::string one_past(ISOPROBE_STRING_CAPACITY, 'a');
  EXPECT_THROW(s.shm_pathname = one_past, std::length_error);
  EXPECT_THROW(s.shm_pathname = one_past.c_str(), std::length_error);
  EXPECT_EQ(s.shm_pathname, "keep") << "a refused assignment leaves the old value";
  EXPECT_THROW(s.shm_pathname = std::string("a\0b", 3), std::invalid_argument);
}
