/*
 * A course server written from the assignment text alone, the way students
 * write them, WITHOUT this project's library: System V segment named by
 * ftok(shm_path, proj_id), a TCP listener, the four-line info file, one
 * client served. Each STYLE is a habit seen in the wild:
 *
 *   plain      info file "IP\nport\npath\nproj\n", send, close
 *   nonl       info file written like `f << ip << "\n" << ... << proj` (no final newline)
 *   crlf       info file with CRLF line ends
 *   linger     sends, then keeps the connection open 10 s before closing
 *   proj0      proj id 0 (glibc's ftok takes it)
 *   localhost  announces "localhost" instead of an address
 *   ipv6       listens on the IPv6 loopback and announces "::1"
 *   reset      accepts, then resets the connection without sending
 *   big        sends an 8 MiB socket message; exits 1 if the client resets it
 *
 * usage: foreign_server STYLE DIR NAME SHM_PATH SHM_MESSAGE SOCKET_MESSAGE
 *
 * Serves one client (accept waits up to 30 s), then removes its segment and
 * info file and exits 0 (1 on any failure). SIGTERM/SIGINT end any wait
 * early, with the same cleanup.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static int shmid = -1;
static char info_path[4096];

static void cleanup(void) {
  if (shmid >= 0) shmctl(shmid, IPC_RMID, NULL);
  if (info_path[0] != '\0') unlink(info_path);
}

static void die(const char *what) {
  fprintf(stderr, "foreign_server: %s: %s\n", what, strerror(errno));
  cleanup();
  exit(1);
}

/* Waits up to ms for fd to become readable; 0 on timeout or signal. */
static int wait_readable(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int rc = poll(&p, 1, ms);
  return rc > 0;
}

static void send_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR && !stop) continue;
      die("send");
    }
    buf += w;
    n -= (size_t)w;
  }
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: foreign_server STYLE DIR NAME SHM_PATH SHM_MESSAGE SOCKET_MESSAGE\n");
    return 2;
  }
  const char *style = argv[1], *dir = argv[2], *name = argv[3], *shm_path = argv[4];
  const char *shm_msg = argv[5], *sock_msg = argv[6];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends poll and sleep */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int proj = strcmp(style, "proj0") == 0 ? 0 : 'F';
  key_t key = ftok(shm_path, proj);
  if (key == -1) die("ftok");
  shmid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0666);
  if (shmid < 0) die("shmget");
  char *mem = shmat(shmid, NULL, 0);
  if (mem == (void *)-1) die("shmat");
  snprintf(mem, 4096, "%s", shm_msg);
  shmdt(mem);

  int ipv6 = strcmp(style, "ipv6") == 0;
  int ls = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  int port;
  if (ipv6) {
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    socklen_t len6 = sizeof a6;
    if (bind(ls, (struct sockaddr *)&a6, sizeof a6) != 0 || listen(ls, 5) != 0 ||
        getsockname(ls, (struct sockaddr *)&a6, &len6) != 0)
      die("bind/listen");
    port = ntohs(a6.sin6_port);
  } else {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t len = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 5) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &len) != 0)
      die("bind/listen");
    port = ntohs(a.sin_port);
  }

  const char *host = ipv6 ? "::1" : strcmp(style, "localhost") == 0 ? "localhost" : "127.0.0.1";
  const char *eol = strcmp(style, "crlf") == 0 ? "\r\n" : "\n";
  const char *last = strcmp(style, "nonl") == 0 ? "" : eol;
  char tmp[4096];
  snprintf(info_path, sizeof info_path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) die("fopen");
  fprintf(f, "%s%s%d%s%s%s%d%s", host, eol, port, eol, shm_path, eol, proj, last);
  if (fclose(f) != 0 || rename(tmp, info_path) != 0) die("writing the info file");

  if (!wait_readable(ls, 30000)) {
    cleanup();
    return stop ? 0 : 1;
  }
  int c = accept(ls, NULL, NULL);
  if (c < 0) die("accept");
  int status = 0;
  if (strcmp(style, "reset") == 0) {
    struct linger lin = {1, 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
  } else if (strcmp(style, "big") == 0) {
    size_t n = 8u << 20;
    char *big = malloc(n);
    if (big == NULL) die("malloc");
    memset(big, 'x', n);
    send_all(c, big, n);
    free(big);
    shutdown(c, SHUT_WR);
    /* The client must read (or drain) it all and close: end of stream,
       not a reset. */
    char sink[4096];
    for (;;) {
      if (!wait_readable(c, 20000)) { status = 1; break; }
      ssize_t r = recv(c, sink, sizeof sink, 0);
      if (r == 0) break;
      if (r < 0 && errno == EINTR && !stop) continue;
      if (r < 0) {
        fprintf(stderr, "foreign_server: recv after the big message: %s\n", strerror(errno));
        status = 1;
        break;
      }
    }
  } else {
    send_all(c, sock_msg, strlen(sock_msg));
    if (strcmp(style, "linger") == 0) {
      /* Keep the connection open, as servers that wait for the client to
         read the segment do; a signal ends the wait. */
      struct timespec t = {10, 0};
      while (!stop && nanosleep(&t, &t) != 0 && errno == EINTR) {
      }
    }
  }
  close(c);
  close(ls);
  cleanup();
  return status;
}
