// Server programs for the lifecycle suite, written against the course's C++
// API as students write them (fork after setup, signal handlers, chdir,
// several writes). Each mode announces that it is ready by creating a file
// in READY (written, then renamed, so an inotify wait sees it complete).
//
//   lifecycle_helper serve READY DIR NAME PROJ [dfl | ign SIG | handle SIG]
//       start, create_info_file, write_to_shm("shm-NAME"), ready; then one
//       client gets "sock-NAME" and the server shuts down. `ign` sets SIG to
//       SIG_IGN and `handle` installs a handler (which shuts the server down
//       and exits 3) before start_communication.
//   lifecycle_helper daemon READY DIR NAME PROJ
//       start, create_info_file, fork; the parent prints the child's pid and
//       exits at once; the child writes "shm-NAME", is ready, serves one
//       client "sock-NAME" and shuts down.
//   lifecycle_helper fork-hold READY DIR NAME PROJ parent|child
//       start, create_info_file, write_to_shm("parent"), fork. The child (with
//       `child`, after write_to_shm("child")) writes READY/held "PPID CPID"
//       and waits for signals. The parent waits for the child, writes its
//       wait status to READY/child-status, then waits for signals.
//   lifecycle_helper chdir READY BASE OTHER
//       in BASE: start with shm path "shm" and info directory "info" (both
//       relative), create_info_file, copy the info file to READY/info-copy,
//       chdir(OTHER), shutdown.
//   lifecycle_helper writes READY DIR NAME PROJ MSG...
//       step by step; the one client gets every MSG by its own write_to_socket.
//   lifecycle_helper flood READY DIR NAME PROJ MIB
//       step by step; the one client is sent MIB MiB in one write_to_socket.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "server.h"

namespace {

live_server_info g_server = {};

[[noreturn]] void usage() {
  std::fprintf(stderr, "lifecycle_helper: bad arguments (see the comment at the top of lifecycle_helper.cpp)\n");
  std::exit(2);
}

void ready(const std::string &dir, const std::string &name, const std::string &content) {
  std::string tmp = dir + "/." + name + ".tmp", path = dir + "/" + name;
  {
    std::ofstream out(tmp);
    out << content;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::perror("lifecycle_helper: rename");
    std::exit(2);
  }
}

server_setup_information setup_for(const std::string &dir, const std::string &name, int proj) {
  server_setup_information s = {};
  s.port = 0;
  s.shm_pathname = dir;
  s.shm_proj_id = proj;
  s.info_file_name = name;
  s.info_file_directory = dir;
  return s;
}

extern "C" void shut_down_and_exit(int) {
  // What students write: clean up in the handler, then leave.
  isoprobe_server_shutdown(&g_server, nullptr);
  _exit(3);
}

[[noreturn]] void wait_for_signals() {
  for (;;) pause();
}

}  // namespace

int main(int argc, char **argv) {
  // Signals whose default action dumps core must not litter the test's
  // directories with core files.
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (argc < 3) usage();
  std::string mode = argv[1], ready_dir = argv[2];
  std::string me = std::to_string(getpid());

  if (mode == "serve" && (argc == 6 || argc == 7 || argc == 8)) {
    std::string name = argv[4];
    if (argc == 8 && std::string(argv[6]) == "ign") {
      signal(std::atoi(argv[7]), SIG_IGN);
    } else if (argc == 8 && std::string(argv[6]) == "handle") {
      struct sigaction sa = {};
      sa.sa_handler = shut_down_and_exit;
      sigaction(std::atoi(argv[7]), &sa, nullptr);
    } else if (argc != 6 && !(argc == 7 && std::string(argv[6]) == "dfl")) {
      usage();
    }
    server_setup_information setup = setup_for(argv[3], name, std::atoi(argv[5]));
    start_communication(setup, g_server);
    create_info_file(setup, g_server);
    write_to_shm(g_server, "shm-" + name);
    ready(ready_dir, name + ".ready", me);
    if (get_connection(g_server) == 0) write_to_socket(g_server, "sock-" + name);
    shutdown(g_server);
    return 0;
  }

  if (mode == "daemon" && argc == 6) {
    std::string name = argv[4];
    server_setup_information setup = setup_for(argv[3], name, std::atoi(argv[5]));
    start_communication(setup, g_server);
    create_info_file(setup, g_server);
    std::fflush(nullptr);
    pid_t child = fork();
    if (child < 0) {
      std::perror("lifecycle_helper: fork");
      return 2;
    }
    if (child > 0) {
      std::printf("%d\n", static_cast<int>(child));
      return 0;  // the parent leaves first, as a daemonising program does
    }
    setsid();
    write_to_shm(g_server, "shm-" + name);
    ready(ready_dir, name + ".ready", std::to_string(getpid()));
    if (get_connection(g_server) == 0) write_to_socket(g_server, "sock-" + name);
    shutdown(g_server);
    return 0;
  }

  if (mode == "fork-hold" && argc == 7) {
    std::string who = argv[6];
    if (who != "parent" && who != "child") usage();
    server_setup_information setup = setup_for(argv[3], argv[4], std::atoi(argv[5]));
    start_communication(setup, g_server);
    create_info_file(setup, g_server);
    write_to_shm(g_server, "parent");
    pid_t child = fork();
    if (child < 0) {
      std::perror("lifecycle_helper: fork");
      return 2;
    }
    if (child == 0) {
      if (who == "child") write_to_shm(g_server, "child");
      ready(ready_dir, "held", std::to_string(getppid()) + " " + std::to_string(getpid()));
      wait_for_signals();
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
    }
    ready(ready_dir, "child-status", std::to_string(status));
    wait_for_signals();
  }

  if (mode == "chdir" && argc == 5) {
    if (chdir(argv[3]) != 0) {
      std::perror("lifecycle_helper: chdir");
      return 2;
    }
    server_setup_information setup = setup_for("info", "srv", 7);
    setup.shm_pathname = "shm";
    start_communication(setup, g_server);
    create_info_file(setup, g_server);
    std::ifstream in(g_server.info_file_path.c_str());
    std::stringstream text;
    text << in.rdbuf();
    ready(ready_dir, "info-copy", text.str());
    if (chdir(argv[4]) != 0) {
      std::perror("lifecycle_helper: chdir");
      return 2;
    }
    shutdown(g_server);
    return 0;
  }

  if ((mode == "writes" && argc >= 7) || (mode == "flood" && argc == 7)) {
    std::string name = argv[4];
    server_setup_information setup = setup_for(argv[3], name, std::atoi(argv[5]));
    start_communication(setup, g_server);
    create_info_file(setup, g_server);
    write_to_shm(g_server, "shm-" + name);
    ready(ready_dir, name + ".ready", me);
    if (get_connection(g_server) == 0) {
      if (mode == "writes") {
        for (int i = 6; i < argc; ++i) write_to_socket(g_server, argv[i]);
      } else {
        write_to_socket(g_server, std::string(static_cast<size_t>(std::atoi(argv[6])) << 20, 'x'));
      }
    }
    shutdown(g_server);
    return 0;
  }
  usage();
}
