#ifdef __cplusplus
#ifndef ISOPROBE_SERVER_CXX
#define ISOPROBE_SERVER_CXX
/*
 * The course's server API (C++), forwarding to the C functions above.
 * On failure: one line on stderr ("system error: ..." for a failed system
 * call), this server's socket, connection, segment and info file are freed,
 * then exit(1).
 *
 * get_connection and shutdown take `const live_server_info &` as the course
 * declares them, yet must record the accepted socket / the freed handles;
 * they write through const_cast (the objects passed are never const objects
 * in the course's workflow).
 */
#if __cplusplus >= 201703L
static_assert(std::is_aggregate<server_setup_information>::value,
              "server_setup_information s = {port, shm_pathname, proj_id, info_file_name, info_file_directory};");
#endif
static_assert(std::is_trivially_copyable<server_setup_information>::value &&
                  std::is_standard_layout<server_setup_information>::value,
              "server_setup_information is plain data");

namespace isoprobe {
namespace course {
[[noreturn]] inline void fail_server(live_server_info &server, const isoprobe_error &e) {
  print_error(e);
  isoprobe_server_shutdown(&server, nullptr);
  std::exit(1);
}
}  // namespace course
}  // namespace isoprobe

/** Creates the socket (listening on this machine's IP at setup_info.port) and the segment. */
inline void start_communication(const server_setup_information &setup_info, live_server_info &server) {
  isoprobe_error e;
  if (isoprobe_server_start_communication(&setup_info, &server, &e) != ISOPROBE_OK) {
    isoprobe::course::print_error(e);  // nothing was created
    std::exit(1);
  }
}

/** Writes the info file and stores its path in server.info_file_path. */
inline void create_info_file(const server_setup_information &setup_info, live_server_info &server) {
  isoprobe_error e;
  if (isoprobe_server_create_info_file(&setup_info, &server, &e) != ISOPROBE_OK)
    isoprobe::course::fail_server(server, e);
}

/** Waits up to 120 s for a client (select, then accept). 0: connected, -1: timeout. */
inline int get_connection(const live_server_info &server) {
  live_server_info &s = const_cast<live_server_info &>(server);
  isoprobe_error e;
  isoprobe_status st = isoprobe_server_get_connection(&s, ISOPROBE_ACCEPT_TIMEOUT_MS, &e);
  if (st == ISOPROBE_OK) return 0;
  if (st == ISOPROBE_ERROR_TIMEOUT) return -1;
  isoprobe::course::fail_server(s, e);
}

/** Sends msg to the connected client (within ISOPROBE_SEND_TIMEOUT_MS); may be called again. shutdown() ends the stream. */
inline void write_to_socket(const live_server_info &server, const std::string &msg) {
  live_server_info &s = const_cast<live_server_info &>(server);
  isoprobe_error e = isoprobe::course::invalid_argument("socket message contains a NUL byte");
  if (!isoprobe::course::is_c_string(msg) || isoprobe_server_write_to_socket(&s, msg.c_str(), &e) != ISOPROBE_OK)
    isoprobe::course::fail_server(s, e);
}

/** Writes msg, NUL-terminated, into the segment (at most SHARED_MEMORY_SIZE - 1 bytes). */
inline void write_to_shm(const live_server_info &server, const std::string &msg) {
  live_server_info &s = const_cast<live_server_info &>(server);
  isoprobe_error e = isoprobe::course::invalid_argument("shm message contains a NUL byte");
  if (!isoprobe::course::is_c_string(msg) || isoprobe_server_write_to_shm(&s, msg.c_str(), &e) != ISOPROBE_OK)
    isoprobe::course::fail_server(s, e);
}

/** Closes the sockets, removes the segment, deletes the info file. */
inline void shutdown(const live_server_info &server) {
  live_server_info &s = const_cast<live_server_info &>(server);
  isoprobe_error e;
  if (isoprobe_server_shutdown(&s, &e) != ISOPROBE_OK) {
    isoprobe::course::print_error(e);
    std::exit(1);
  }
}

/** The whole server: set up, publish, write shm_msg, wait for a client
 *  (120 s), send socket_msg, wait for the client to close, shut down. */
inline void run(const server_setup_information &setup_info, const std::string &shm_msg,
                const std::string &socket_msg) {
  isoprobe_error e = isoprobe::course::invalid_argument("message contains a NUL byte");
  if (!isoprobe::course::is_c_string(shm_msg) || !isoprobe::course::is_c_string(socket_msg) ||
      isoprobe_server_run(&setup_info, shm_msg.c_str(), socket_msg.c_str(), &e) != ISOPROBE_OK) {
    isoprobe::course::print_error(e);  // run freed everything it had created
    std::exit(1);
  }
}
#endif /* ISOPROBE_SERVER_CXX */
#endif /* __cplusplus */
