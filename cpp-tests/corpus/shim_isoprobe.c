/* The isoprobe side of the shim (see shim.h): plain C over the C API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "server.h"
#include "shim.h"

static int failed(const isoprobe_error *e) {
  fprintf(stderr, "%s: %s\n", e->status == ISOPROBE_ERROR_SYSTEM ? "system error" : "isoprobe error", e->message);
  return -1;
}

static int copy(isoprobe_string *dst, const char *src) {
  size_t n = strlen(src);
  if (n >= sizeof dst->data) {
    fprintf(stderr, "isoprobe error: %zu bytes do not fit a field\n", n);
    return -1;
  }
  memcpy(dst->data, src, n + 1);
  return 0;
}

static int to_setup(const shim_setup *in, server_setup_information *out) {
  memset(out, 0, sizeof *out);
  out->port = in->port;
  out->shm_proj_id = in->shm_proj_id;
  return copy(&out->shm_pathname, in->shm_pathname) || copy(&out->info_file_name, in->info_file_name) ||
                 copy(&out->info_file_directory, in->info_file_directory)
             ? -1
             : 0;
}

static void to_info(const shim_server *in, live_server_info *out) {
  out->server_fd = in->server_fd;
  out->client_fd = in->client_fd;
  out->shmid = in->shmid;
  memcpy(out->info_file_path.data, in->info_file_path, sizeof out->info_file_path.data);
}

static void to_shim(const live_server_info *in, shim_server *out) {
  out->server_fd = in->server_fd;
  out->client_fd = in->client_fd;
  out->shmid = in->shmid;
  memcpy(out->info_file_path, in->info_file_path.data, sizeof out->info_file_path);
}

int shim_start_communication(const shim_setup *setup, shim_server *server) {
  server_setup_information s;
  live_server_info info;
  isoprobe_error e;
  if (to_setup(setup, &s) != 0) return -1;
  if (isoprobe_server_start_communication(&s, &info, &e) != ISOPROBE_OK) return failed(&e);
  to_shim(&info, server);
  return 0;
}

int shim_create_info_file(const shim_setup *setup, shim_server *server) {
  server_setup_information s;
  live_server_info info;
  isoprobe_error e;
  if (to_setup(setup, &s) != 0) return -1;
  to_info(server, &info);
  if (isoprobe_server_create_info_file(&s, &info, &e) != ISOPROBE_OK) return failed(&e);
  to_shim(&info, server);
  return 0;
}

int shim_write_to_shm(const shim_server *server, const char *msg) {
  live_server_info info;
  isoprobe_error e;
  to_info(server, &info);
  return isoprobe_server_write_to_shm(&info, msg, &e) == ISOPROBE_OK ? 0 : failed(&e);
}

int shim_shutdown(shim_server *server) {
  live_server_info info;
  isoprobe_error e;
  to_info(server, &info);
  isoprobe_status st = isoprobe_server_shutdown(&info, &e);
  to_shim(&info, server);
  return st == ISOPROBE_OK ? 0 : failed(&e);
}

struct collector {
  void (*add)(void *, const shim_server *);
  void *context;
};

static void collect(void *context, const live_server_info *server) {
  struct collector *c = context;
  shim_server s;
  to_shim(server, &s);
  c->add(c->context, &s);
}

int shim_count_servers(const char *dir, void (*add)(void *, const shim_server *), void *context) {
  struct collector c = {add, context};
  size_t found = 0;
  isoprobe_error e;
  if (isoprobe_client_count_servers(dir, ISOPROBE_CONNECT_TIMEOUT_MS, collect, &c, &found, &e) != ISOPROBE_OK)
    return failed(&e);
  return 0;
}

int shim_get_message_from_shm(const shim_server *server, char *buf, size_t capacity) {
  live_server_info info;
  isoprobe_error e;
  to_info(server, &info);
  return isoprobe_client_get_message_from_shm(&info, buf, capacity, &e) == ISOPROBE_OK ? 0 : failed(&e);
}

int shim_disconnect(shim_server *servers, size_t n) {
  isoprobe_error e;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    live_server_info info;
    to_info(&servers[i], &info);
    if (isoprobe_client_disconnect(&info, 1, &e) != ISOPROBE_OK) rc = failed(&e);
    to_shim(&info, &servers[i]);
  }
  return rc;
}
