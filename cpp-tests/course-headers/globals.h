// The course's own globals.h, with std::string fields, as the assignment
// describes it. Kept for tests that must prove a program is plain course code
// (it compiles against these headers as well as against include/), and as the
// default headers of the grading kit for submissions that ship none.
#ifndef COURSE_GLOBALS_H
#define COURSE_GLOBALS_H

#include <string>

struct live_server_info {
  int server_fd;
  int client_fd;
  int shmid;
  std::string info_file_path;
};

#endif
