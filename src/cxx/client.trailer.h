#ifdef __cplusplus
#ifndef ISOPROBE_CLIENT_CXX
#define ISOPROBE_CLIENT_CXX
#include <iostream>
#include <new>
#include <vector>
/*
 * The course's client API (C++), forwarding to the C functions above.
 * On a failed system call: one "system error: ..." line on stderr, the
 * client's sockets and attachments are released, then exit(1).
 *
 * disconnect takes `const std::vector<live_server_info> &` as the course
 * declares it, yet resets the handles it frees (so a second call is a no-op);
 * it writes through const_cast.
 */
struct isoprobe_cxx_collector {
  std::vector<live_server_info> *servers;
  bool out_of_memory;
};

/** Appends each server count_servers finds; never lets an exception reach C. */
extern "C" inline void isoprobe_cxx_collect_server(void *context, const live_server_info *server) {
  isoprobe_cxx_collector *c = static_cast<isoprobe_cxx_collector *>(context);
  try {
    c->servers->push_back(*server);
  } catch (...) {
    live_server_info lost = *server;
    isoprobe_client_disconnect(&lost, 1, nullptr);
    c->out_of_memory = true;
  }
}

namespace isoprobe {
namespace course {
[[noreturn]] inline void fail_client(live_server_info *servers, std::size_t n, const isoprobe_error &e) {
  print_error(e);
  isoprobe_client_disconnect(servers, n, nullptr);
  std::exit(1);
}
}  // namespace course
}  // namespace isoprobe

/** Reads the info files in the directory (sorted by name), attaches each
 *  segment, connects to each socket and reads the servers that already
 *  send (one 5 s deadline for all together), and appends one
 *  live_server_info per file. Returns the number of servers found. */
inline int count_servers(const std::string &client_files_directory, std::vector<live_server_info> &servers) {
  isoprobe_cxx_collector collector = {&servers, false};
  std::size_t first = servers.size();
  std::size_t found = 0;
  isoprobe_error e = isoprobe::course::invalid_argument("directory name contains a NUL byte");
  if (!isoprobe::course::is_c_string(client_files_directory) ||
      isoprobe_client_count_servers(client_files_directory.c_str(), ISOPROBE_CONNECT_TIMEOUT_MS,
                                    isoprobe_cxx_collect_server, &collector, &found, &e) != ISOPROBE_OK)
    isoprobe::course::fail_client(servers.data() + first, servers.size() - first, e);
  if (collector.out_of_memory) throw std::bad_alloc();
  return static_cast<int>(found);
}

/** Reads all messages and prints the summary (Total Servers / Host /
 *  Container / VM / Messages) on stdout. */
inline void print_server_infos(const std::vector<live_server_info> &servers) {
  std::cout.flush();
  isoprobe_error e;
  if (isoprobe_client_print_server_infos(servers.data(), servers.size(), &e) != ISOPROBE_OK)
    isoprobe::course::fail_client(const_cast<live_server_info *>(servers.data()), servers.size(), e);
}

/** Reads the server's socket message into msg (empty when none came in 5 s). */
inline void get_message_from_socket(const live_server_info &server, std::string &msg) {
  std::string buf(ISOPROBE_MAX_SOCKET_MESSAGE + 1, '\0');
  isoprobe_error e;
  isoprobe_status st = isoprobe_client_get_message_from_socket(&server, &buf[0], buf.size(), ISOPROBE_READ_TIMEOUT_MS, &e);
  if (st == ISOPROBE_OK)
    msg.assign(buf.c_str());
  else if (st == ISOPROBE_ERROR_TIMEOUT)
    msg.clear();
  else
    isoprobe::course::fail_client(&const_cast<live_server_info &>(server), 1, e);
}

/** Reads the NUL-terminated message at the start of the server's segment into msg. */
inline void get_message_from_shm(const live_server_info &server, std::string &msg) {
  char buf[SHARED_MEMORY_SIZE + 1];
  isoprobe_error e;
  if (isoprobe_client_get_message_from_shm(&server, buf, sizeof buf, &e) != ISOPROBE_OK)
    isoprobe::course::fail_client(&const_cast<live_server_info &>(server), 1, e);
  msg.assign(buf);
}

/** Closes every socket and detaches the attachments count_servers made for
 *  these records (never one the program made itself; never removes a segment). */
inline void disconnect(const std::vector<live_server_info> &servers) {
  isoprobe_error e;
  if (isoprobe_client_disconnect(const_cast<live_server_info *>(servers.data()), servers.size(), &e) != ISOPROBE_OK) {
    isoprobe::course::print_error(e);
    std::exit(1);
  }
}

/** The whole client: count_servers, print_server_infos, disconnect. */
inline void run(const std::string &client_files_directory) {
  std::cout.flush();
  isoprobe_error e = isoprobe::course::invalid_argument("directory name contains a NUL byte");
  if (!isoprobe::course::is_c_string(client_files_directory) ||
      isoprobe_client_run(client_files_directory.c_str(), &e) != ISOPROBE_OK) {
    isoprobe::course::print_error(e);  // run released everything it had opened
    std::exit(1);
  }
}
#endif /* ISOPROBE_CLIENT_CXX */
#endif /* __cplusplus */
