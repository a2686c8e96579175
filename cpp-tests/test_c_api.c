/*
 * The headers and the C API from plain C11 (built with -std=c11 -pedantic
 * -Werror): the struct layouts are pinned at compile time, then one process
 * runs a server on a pthread and the client in main, end to end, twice:
 * step by step (isoprobe_server_* / isoprobe_client_*), and through the two
 * run functions. Exits non-zero on any failed check, after cleaning up.
 */
#define _GNU_SOURCE /* mkdtemp, pipe2, dup2, inotify */

#include "globals.h"
#include "server.h"
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(offsetof(live_server_info, server_fd) == 0, "server_fd offset");
_Static_assert(offsetof(live_server_info, client_fd) == 4, "client_fd offset");
_Static_assert(offsetof(live_server_info, shmid) == 8, "shmid offset");
_Static_assert(offsetof(struct live_server_info, info_file_path) == 12, "info_file_path offset");
_Static_assert(sizeof(live_server_info) == 12 + ISOPROBE_STRING_CAPACITY, "live_server_info size");
_Static_assert(sizeof(struct live_server_info) == sizeof(live_server_info), "one type, two names");
_Static_assert(offsetof(server_setup_information, port) == 0, "port offset");
_Static_assert(offsetof(server_setup_information, shm_pathname) == 2, "shm_pathname offset");
_Static_assert(offsetof(server_setup_information, shm_proj_id) == 4100, "shm_proj_id offset");
_Static_assert(offsetof(struct server_setup_information, info_file_name) == 4104, "info_file_name offset");
_Static_assert(offsetof(server_setup_information, info_file_directory) == 8200, "info_file_directory offset");
_Static_assert(sizeof(isoprobe_string) == ISOPROBE_STRING_CAPACITY, "isoprobe_string size");
_Static_assert(SHARED_MEMORY_SIZE == 4096, "course segment size");
_Static_assert(ISOPROBE_OK == 0, "success is 0");

static int failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

#define CHECK_STATUS(call, expected)                                                      \
  do {                                                                                    \
    isoprobe_status s_ = (call);                                                          \
    if (s_ != (expected)) {                                                               \
      fprintf(stderr, "%s:%d: %s returned %d, expected %d\n", __FILE__, __LINE__, #call, \
              (int)s_, (int)(expected));                                                  \
      ++failures;                                                                         \
    }                                                                                     \
  } while (0)

static void set_string(isoprobe_string *dst, const char *src) {
  int n = snprintf(dst->data, sizeof dst->data, "%s", src);
  CHECK(n >= 0 && (size_t)n < sizeof dst->data);
}

static void make_setup(server_setup_information *setup, const char *dir, int proj, const char *name) {
  memset(setup, 0, sizeof *setup);
  setup->port = 0;
  set_string(&setup->shm_pathname, dir);
  setup->shm_proj_id = proj;
  set_string(&setup->info_file_name, name);
  set_string(&setup->info_file_directory, dir);
}

static int segment_exists(const char *path, int proj) { return shmget(ftok(path, proj), 0, 0) != -1; }

/* --- step by step: the test serves the client from a thread --------------- */

struct serving {
  struct live_server_info *server;
  isoprobe_status accepted, sent;
  char rest[16];
  ssize_t rest_len;
};

/* Accepts the client, sends the message, waits for the client's close. */
static void *serve_one(void *arg) {
  struct serving *s = arg;
  s->accepted = isoprobe_server_get_connection(s->server, 10000, NULL);
  if (s->accepted != ISOPROBE_OK) return NULL;
  s->sent = isoprobe_server_write_to_socket(s->server, "step-sock", NULL);
  /* write_to_socket leaves the connection open (shutdown ends it); the
   * message is complete, so end the stream here while the server stays up
   * for the checks after the client is done. */
  shutdown(s->server->client_fd, SHUT_WR);
  struct pollfd p = {s->server->client_fd, POLLIN, 0};
  if (poll(&p, 1, 10000) == 1) s->rest_len = read(s->server->client_fd, s->rest, sizeof s->rest);
  return NULL;
}

static void collect(void *context, const live_server_info *server) {
  live_server_info *out = context;
  if (out->info_file_path.data[0] == '\0') *out = *server; /* first one only */
}

static void step_by_step(const char *dir) {
  server_setup_information setup;
  make_setup(&setup, dir, 91, "step.info");
  live_server_info server;
  isoprobe_error err;
  CHECK_STATUS(isoprobe_server_start_communication(&setup, &server, &err), ISOPROBE_OK);
  CHECK(server.server_fd >= 0 && server.client_fd == -1 && server.shmid >= 0);
  CHECK_STATUS(isoprobe_server_write_to_shm(&server, "step-shm", NULL), ISOPROBE_OK);
  CHECK_STATUS(isoprobe_server_create_info_file(&setup, &server, NULL), ISOPROBE_OK);
  char expected_path[ISOPROBE_STRING_CAPACITY];
  snprintf(expected_path, sizeof expected_path, "%s/step.info", dir);
  CHECK(strcmp(server.info_file_path.data, expected_path) == 0);

  struct serving serving = {&server, ISOPROBE_ERROR_PANIC, ISOPROBE_ERROR_PANIC, {0}, -2};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, serve_one, &serving) == 0);

  live_server_info found;
  memset(&found, 0, sizeof found);
  size_t count = 0;
  CHECK_STATUS(isoprobe_client_count_servers(dir, ISOPROBE_CONNECT_TIMEOUT_MS, collect, &found, &count, &err),
               ISOPROBE_OK);
  CHECK(count == 1);
  CHECK(found.shmid == server.shmid);
  CHECK(found.client_fd >= 0);
  CHECK(found.server_fd == -1);
  CHECK(strcmp(found.info_file_path.data, expected_path) == 0);

  char buf[64];
  CHECK_STATUS(isoprobe_client_get_message_from_shm(&found, buf, sizeof buf, &err), ISOPROBE_OK);
  CHECK(strcmp(buf, "step-shm") == 0);
  CHECK_STATUS(isoprobe_client_get_message_from_socket(&found, buf, sizeof buf, 10000, &err), ISOPROBE_OK);
  CHECK(strcmp(buf, "step-sock") == 0);
  CHECK_STATUS(isoprobe_client_disconnect(&found, 1, &err), ISOPROBE_OK);
  CHECK(found.client_fd == -1 && found.shmid == -1);
  CHECK_STATUS(isoprobe_client_disconnect(&found, 1, &err), ISOPROBE_OK);

  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(serving.accepted == ISOPROBE_OK);
  CHECK(serving.sent == ISOPROBE_OK);
  CHECK(serving.rest_len == 0); /* the client closed, sending nothing */
  CHECK(segment_exists(dir, 91)); /* the client never removes it */

  CHECK_STATUS(isoprobe_server_shutdown(&server, &err), ISOPROBE_OK);
  CHECK(!segment_exists(dir, 91));
  CHECK(access(expected_path, F_OK) != 0);
  CHECK(server.server_fd == -1 && server.client_fd == -1 && server.shmid == -1);
  CHECK_STATUS(isoprobe_server_shutdown(&server, &err), ISOPROBE_OK);

  /* errors are values in C */
  CHECK_STATUS(isoprobe_server_start_communication(NULL, &server, NULL), ISOPROBE_ERROR_NULL);
  setup.shm_proj_id = 0;
  CHECK_STATUS(isoprobe_server_start_communication(&setup, &server, &err), ISOPROBE_ERROR_INVALID);
  CHECK(err.status == ISOPROBE_ERROR_INVALID && err.message[0] != '\0');
  char missing[ISOPROBE_STRING_CAPACITY];
  snprintf(missing, sizeof missing, "%s/missing", dir);
  CHECK_STATUS(isoprobe_client_count_servers(missing, 10, collect, &found, NULL, &err), ISOPROBE_ERROR_SYSTEM);
  CHECK(strcmp(err.call, "opendir") == 0 && err.errno_value == ENOENT);
}

/* --- the run functions ------------------------------------------------------- */

struct running {
  server_setup_information setup;
  isoprobe_status status;
};

static void *run_server(void *arg) {
  struct running *r = arg;
  r->status = isoprobe_server_run_with_timeouts(&r->setup, "run-shm", "run-sock", 10000, 10000, NULL);
  return NULL;
}

/* Waits (inotify) until `path` exists. */
static int wait_for_file(const char *dir, const char *path) {
  int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0 || inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CREATE) < 0) return 0;
  int found = access(path, F_OK) == 0;
  while (!found) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) break;
    char events[4096];
    if (read(fd, events, sizeof events) <= 0) break;
    found = access(path, F_OK) == 0;
  }
  close(fd);
  return found;
}

static void run_functions(const char *dir) {
  static struct running running; /* 12 KiB: off the stack */
  make_setup(&running.setup, dir, 92, "run.info");
  running.status = ISOPROBE_ERROR_PANIC;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, run_server, &running) == 0);
  char path[ISOPROBE_STRING_CAPACITY];
  snprintf(path, sizeof path, "%s/run.info", dir);
  CHECK(wait_for_file(dir, path));

  /* The summary goes to C's stdout: catch it in a pipe. */
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  fflush(stdout);
  int saved = dup(1);
  dup2(p[1], 1);
  close(p[1]);
  isoprobe_error err;
  isoprobe_status st = isoprobe_client_run(dir, &err);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  char out[512] = {0};
  size_t used = 0;
  ssize_t n;
  while (used < sizeof out - 1 && (n = read(p[0], out + used, sizeof out - 1 - used)) > 0) used += (size_t)n;
  close(p[0]);

  CHECK(st == ISOPROBE_OK);
  CHECK(strcmp(out, "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: run-shm run-sock\n") == 0);
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK(running.status == ISOPROBE_OK);
  CHECK(access(path, F_OK) != 0);
  CHECK(!segment_exists(dir, 92));
}

int main(void) {
  char dir[] = "/tmp/isoprobe-c-api-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  step_by_step(dir);
  run_functions(dir);
  if (rmdir(dir) != 0) {
    fprintf(stderr, "%s not empty at the end: %s\n", dir, strerror(errno));
    ++failures;
  }
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  puts("all C API checks passed");
  return 0;
}
