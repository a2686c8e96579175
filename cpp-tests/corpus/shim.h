/* The course API for the course's own std::string headers, forwarding to
 * isoprobe's C API, so that the workflow corpus program can run against
 * both. Neutral types only: shim_course.cpp sees the course's structs,
 * shim_isoprobe.c (C, so no C++ type of the same name meets the course's)
 * sees isoprobe's. Each function returns 0, or -1 after printing the error
 * line the course API would print. */
#ifndef CORPUS_SHIM_H
#define CORPUS_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHIM_PATH_CAPACITY 4096

typedef struct shim_setup {
  unsigned short port;
  const char *shm_pathname;
  int shm_proj_id;
  const char *info_file_name;
  const char *info_file_directory;
} shim_setup;

typedef struct shim_server {
  int server_fd;
  int client_fd;
  int shmid;
  char info_file_path[SHIM_PATH_CAPACITY];
} shim_server;

int shim_start_communication(const shim_setup *setup, shim_server *server);
int shim_create_info_file(const shim_setup *setup, shim_server *server);
int shim_write_to_shm(const shim_server *server, const char *msg);
int shim_shutdown(shim_server *server);
int shim_count_servers(const char *dir, void (*add)(void *context, const shim_server *server), void *context);
int shim_get_message_from_shm(const shim_server *server, char *buf, size_t capacity);
int shim_disconnect(shim_server *servers, size_t n);

#ifdef __cplusplus
}
#endif

#endif
