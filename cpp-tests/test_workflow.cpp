// The grading workflow on the host, with the course-style programs: three
// servers publish into one directory, the client prints the exact summary,
// and every server then finishes on its own, leaving nothing behind.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core_helpers.h"

using namespace core_test;
using isoprobe_test::Child;
using isoprobe_test::TempDir;
using std::chrono::seconds;

namespace {

struct ServerSpec {
  std::string name;
  int proj_id;
  std::string shm_msg, socket_msg;
};

bool exited_zero(int status) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

TEST(Workflow, ThreeHostServersAndTheClient) {
  TempDir info_dir, keys, capture;
  // Started out of name order: the client must sort by file name.
  const std::vector<ServerSpec> specs = {{"server-2", 102, "s2", "k2"}, {"server-3", 103, "s3", "k3"},
                                         {"server-1", 101, "s1", "k1"}};
  std::vector<std::unique_ptr<Child>> servers;
  std::vector<key_t> keys_used;
  for (const ServerSpec &s : specs) {
    std::string key_path = keys.file(s.name);
    isoprobe_test::write_file(key_path, "");
    keys_used.push_back(key_of(key_path, s.proj_id));
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{ISOPROBE_COURSE_SERVER, "0", key_path, std::to_string(s.proj_id), s.name,
                                 info_dir.path(), s.shm_msg, s.socket_msg},
        capture.path()));
  }
  ASSERT_TRUE(isoprobe_test::wait_for_files(info_dir.path(), 3, seconds(15)))
      << "servers did not publish; stderr of the first: " << servers[0]->err();

  isoprobe_test::Finished client = isoprobe_test::run({ISOPROBE_COURSE_CLIENT, info_dir.path()}, seconds(30));
  EXPECT_TRUE(client.exited_with(0)) << "status " << client.status << ", stderr: " << client.err;
  EXPECT_EQ(client.out, "Total Servers: 3\nHost: 3\nContainer: 0\nVM: 0\nMessages: s1 k1 s2 k2 s3 k3\n");
  EXPECT_EQ(client.err, "");

  // Each server waits for the client to close, then shuts down by itself.
  for (size_t i = 0; i < servers.size(); ++i) {
    int status = servers[i]->wait(seconds(15));
    EXPECT_TRUE(exited_zero(status)) << specs[i].name << ": status " << status << ", stderr: " << servers[i]->err();
    EXPECT_EQ(servers[i]->err(), "") << specs[i].name;
    EXPECT_EQ(servers[i]->out(), "") << specs[i].name;
  }
  EXPECT_EQ(all_entries(info_dir.path()), std::vector<std::string>{}) << "info files left behind";
  for (size_t i = 0; i < keys_used.size(); ++i)
    EXPECT_EQ(segment_lookup_errno(keys_used[i]), ENOENT) << specs[i].name << "'s segment is still there";
}

// The client on a directory whose servers are gone (stale info files: the
// port refuses, no segment has that key) counts them as VMs, says nothing on
// stderr, and exits 0.
TEST(Workflow, ClientOnStaleInfoFilesReportsVms) {
  TempDir info_dir, keys;
  unsigned short port = 0;
  int held = refusing_port(port);
  for (const char *name : {"gone-a", "gone-b"}) {
    std::string key_path = keys.file(name);
    isoprobe_test::write_file(key_path, "");
    isoprobe_test::write_file(info_dir.file(name), info_text("127.0.0.1", port, key_path, 9));
  }
  isoprobe_test::Finished client = isoprobe_test::run({ISOPROBE_COURSE_CLIENT, info_dir.path()}, seconds(30));
  close(held);
  EXPECT_TRUE(client.exited_with(0)) << client.err;
  EXPECT_EQ(client.out, "Total Servers: 2\nHost: 0\nContainer: 0\nVM: 2\nMessages:\n");
  EXPECT_EQ(client.err, "");
  EXPECT_EQ(isoprobe_test::list_dir(info_dir.path()).size(), 2u) << "the client never deletes info files";
}

// The info directory is cleaned while the server waits (its file deleted);
// a client that already knew the address is still served, and the server
// exits 0 without complaint: a file already gone needs no unlinking.
TEST(Workflow, ServerWhoseInfoFileWasDeletedStillExitsCleanly) {
  TempDir info_dir, keys, capture;
  std::string key_path = keys.file("k");
  isoprobe_test::write_file(key_path, "");
  Child server({ISOPROBE_COURSE_SERVER, "0", key_path, "104", "srv", info_dir.path(), "shm", "sock"}, capture.path());
  ASSERT_TRUE(isoprobe_test::wait_for_files(info_dir.path(), 1, seconds(15))) << server.err();
  std::string content = isoprobe_test::read_file(info_dir.file("srv"));
  ASSERT_EQ(unlink(info_dir.file("srv").c_str()), 0);

  std::vector<std::string> lines;
  for (size_t start = 0, nl; (nl = content.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(content.substr(start, nl - start));
  ASSERT_EQ(lines.size(), 4u) << content;
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(std::stoi(lines[1])));
  ASSERT_EQ(inet_pton(AF_INET, lines[0].c_str(), &a.sin_addr), 1);
  int sock = connect_to(a);
  ASSERT_GE(sock, 0);
  std::string msg;
  EXPECT_TRUE(read_to_eof(sock, msg, 10000));
  EXPECT_EQ(msg, "sock");
  close(sock);

  int status = server.wait(seconds(15));
  EXPECT_TRUE(exited_zero(status)) << "status " << status << ", stderr: " << server.err();
  EXPECT_EQ(server.err(), "");
  EXPECT_EQ(segment_lookup_errno(key_of(key_path, 104)), ENOENT);
}

}  // namespace
