// The processes the fault suite needs besides course_server/course_client:
//
//   faults_helper as-user UID GID PROG ARGS...   drop root (setgroups, setgid, setuid), exec PROG
//   faults_helper nofile SOFT HARD PROG ARGS...  set RLIMIT_NOFILE, exec PROG
//   faults_helper steps PORT SHM_PATH PROJ NAME DIR SHM_MSG SOCKET_MSG
//       the course's server API step by step (start_communication,
//       create_info_file, write_to_shm, get_connection, write_to_socket,
//       shutdown), as a student's main() would call it
//   faults_helper run-timeouts ACCEPT_MS CLOSE_MS PORT SHM_PATH PROJ NAME DIR SHM_MSG SOCKET_MSG
//       the C API's isoprobe_server_run_with_timeouts; on failure the
//       course's one error line and exit 1
//   faults_helper run-nul shm|socket PORT SHM_PATH PROJ NAME DIR
//       the course's run() with a NUL byte inside one of the messages
//   faults_helper peak-rss OUT_FILE PROG ARGS...
//       runs PROG, writes its peak RSS in KiB to OUT_FILE, ends like PROG.
//       (A test binary cannot read this from wait4 itself: a child started
//       with posix_spawn shares the parent's memory until exec, and Linux
//       folds that peak into the child's ru_maxrss. This helper is small.)
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "server.h"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "faults_helper: bad arguments (see the comment at the top of faults_helper.cpp)\n");
  std::exit(2);
}

[[noreturn]] void exec_rest(char **argv) {
  execv(argv[0], argv);
  std::fprintf(stderr, "faults_helper: execv %s: %s\n", argv[0], std::strerror(errno));
  std::exit(127);
}

server_setup_information setup_from(char **args) {
  server_setup_information setup = {};
  setup.port = static_cast<unsigned short>(std::atoi(args[0]));
  setup.shm_pathname = args[1];
  setup.shm_proj_id = std::atoi(args[2]);
  setup.info_file_name = args[3];
  setup.info_file_directory = args[4];
  return setup;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) usage();
  std::string mode = argv[1];
  if (mode == "as-user" && argc >= 5) {
    uid_t uid = static_cast<uid_t>(std::atol(argv[2]));
    gid_t gid = static_cast<gid_t>(std::atol(argv[3]));
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
      std::fprintf(stderr, "faults_helper: dropping to %u:%u: %s\n", uid, gid, std::strerror(errno));
      return 126;
    }
    exec_rest(argv + 4);
  }
  if (mode == "nofile" && argc >= 5) {
    struct rlimit lim = {static_cast<rlim_t>(std::atol(argv[2])), static_cast<rlim_t>(std::atol(argv[3]))};
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      std::fprintf(stderr, "faults_helper: setrlimit: %s\n", std::strerror(errno));
      return 126;
    }
    exec_rest(argv + 4);
  }
  if (mode == "peak-rss" && argc >= 4) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("faults_helper: fork");
      return 126;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // killed with this helper on a test timeout
      exec_rest(argv + 3);
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    if (FILE *out = std::fopen(argv[2], "w")) {
      std::fprintf(out, "%ld\n", ru.ru_maxrss);
      std::fclose(out);
    }
    if (WIFSIGNALED(status)) {
      signal(WTERMSIG(status), SIG_DFL);
      raise(WTERMSIG(status));
    }
    return WEXITSTATUS(status);
  }
  if (mode == "steps" && argc == 9) {
    server_setup_information setup = setup_from(argv + 2);
    live_server_info server = {};
    start_communication(setup, server);
    create_info_file(setup, server);
    write_to_shm(server, argv[7]);
    if (get_connection(server) == 0) write_to_socket(server, argv[8]);
    shutdown(server);
    return 0;
  }
  if (mode == "run-timeouts" && argc == 11) {
    server_setup_information setup = setup_from(argv + 4);
    isoprobe_error e;
    if (isoprobe_server_run_with_timeouts(&setup, argv[9], argv[10], static_cast<unsigned>(std::atol(argv[2])),
                                          static_cast<unsigned>(std::atol(argv[3])), &e) != ISOPROBE_OK) {
      isoprobe::course::print_error(e);
      return 1;
    }
    return 0;
  }
  if (mode == "run-nul" && argc == 8) {
    server_setup_information setup = setup_from(argv + 3);
    std::string with_nul("before\0after", 12);
    bool in_shm = std::string(argv[2]) == "shm";
    run(setup, in_shm ? with_nul : "plain", in_shm ? "plain" : with_nul);
    return 0;
  }
  usage();
}
