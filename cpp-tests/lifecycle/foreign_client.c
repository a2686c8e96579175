/* A client for the course exercise written from the assignment text alone,
 * in plain C and without isoprobe, the way students write one: read every
 * info file of the directory (sorted by name, dot-files skipped), attach the
 * segment with ftok + shmget (no IPC_CREAT) + shmat, connect with a
 * non-blocking connect and select() on writefds (5 s), then read the socket
 * message and print the course summary.
 *
 * usage: foreign_client until-close|single-read DIR
 *   until-close   reads each socket until the server closes it (10 s bound)
 *   single-read   one read() per socket once it is readable (5 s bound)
 *
 * Messages are printed as the bytes they are. Exit 0, or 1 with a
 * "system error: ..." line when the directory cannot be read. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SERVERS 256
#define MAX_MSG (1 << 20)

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads line `n` (0-based) of `text` into `out` without its newline. */
static void line(const char *text, int n, char *out, size_t cap) {
  const char *p = text;
  for (int i = 0; i < n && p; ++i) {
    p = strchr(p, '\n');
    if (p) ++p;
  }
  out[0] = '\0';
  if (!p) return;
  size_t len = strcspn(p, "\n");
  if (len >= cap) len = cap - 1;
  memcpy(out, p, len);
  out[len] = '\0';
}

static int connect_within(const char *ip, int port, int seconds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
    close(fd);
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  fd_set w;
  FD_ZERO(&w);
  FD_SET(fd, &w);
  struct timeval tv = {seconds, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (select(fd + 1, NULL, &w, NULL, &tv) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
      err != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static int readable_within(int fd, int seconds) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  struct timeval tv = {seconds, 0};
  return select(fd + 1, &r, NULL, NULL, &tv) == 1;
}

/* The socket message: until close, or one read. Returns its length. */
static size_t read_message(int fd, int until_close, char *buf) {
  size_t got = 0;
  while (got < MAX_MSG && readable_within(fd, until_close ? 10 : 5)) {
    ssize_t n = read(fd, buf + got, MAX_MSG - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (!until_close) break;
  }
  return got;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "until-close") != 0 && strcmp(argv[1], "single-read") != 0)) {
    fprintf(stderr, "usage: %s until-close|single-read DIR\n", argv[0]);
    return 2;
  }
  int until_close = strcmp(argv[1], "until-close") == 0;
  const char *dir = argv[2];
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "system error: opendir: %s\n", strerror(errno));
    return 1;
  }
  char *names[MAX_SERVERS];
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < MAX_SERVERS)
    if (e->d_name[0] != '.') names[count++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)count, sizeof names[0], by_name);

  int host = 0, container = 0, vm = 0;
  int fds[MAX_SERVERS];
  char *shm_msgs[MAX_SERVERS];
  for (int i = 0; i < count; ++i) {
    char path[8192], text[16384] = {0}, ip[256], port[64], shm_path[8192], proj[64];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "r");
    if (f) {
      size_t n = fread(text, 1, sizeof text - 1, f);
      text[n] = '\0';
      fclose(f);
    }
    line(text, 0, ip, sizeof ip);
    line(text, 1, port, sizeof port);
    line(text, 2, shm_path, sizeof shm_path);
    line(text, 3, proj, sizeof proj);
    shm_msgs[i] = NULL;
    key_t key = ftok(shm_path, atoi(proj));
    int shmid = key == -1 ? -1 : shmget(key, 0, 0);
    if (shmid >= 0) {
      void *addr = shmat(shmid, NULL, SHM_RDONLY);
      if (addr != (void *)-1) {
        shm_msgs[i] = strndup(addr, 4096);
        shmdt(addr);
      }
    }
    fds[i] = connect_within(ip, atoi(port), 5);
    int by_shm = shm_msgs[i] != NULL, by_socket = fds[i] >= 0;
    if (by_shm && by_socket)
      ++host;
    else if (by_shm || by_socket)
      ++container;
    else
      ++vm;
  }
  printf("Total Servers: %d\nHost: %d\nContainer: %d\nVM: %d\nMessages:", count, host, container, vm);
  char *buf = malloc(MAX_MSG);
  for (int i = 0; i < count; ++i) {
    if (shm_msgs[i]) printf(" %s", shm_msgs[i]);
    if (fds[i] >= 0) {
      size_t n = read_message(fds[i], until_close, buf);
      putchar(' ');
      fwrite(buf, 1, n, stdout);
      close(fds[i]);
    }
    free(shm_msgs[i]);
    free(names[i]);
  }
  printf("\n");
  free(buf);
  return 0;
}
