/*
 * Stand-in for the isoprobe server, used only by lab/vm/selftest.sh until the
 * real server exists. Build static: gcc -static -O2 -o server standin-server.c
 *
 * usage: server PORT SHM_PATH PROJ_ID INFO_NAME INFO_DIR SHM_MSG SOCKET_MSG [WAIT_S]
 *
 * Finds its first non-loopback IPv4 address (getifaddrs), creates a System V
 * shm segment (ftok(SHM_PATH, PROJ_ID)) holding SHM_MSG, listens on PORT,
 * writes INFO_DIR/INFO_NAME as "IP\nPORT\nSHM_PATH\nPROJ_ID\n", then waits up
 * to WAIT_S seconds (default 5) for one TCP connection, answers SOCKET_MSG,
 * removes the segment and exits 0. Prints its argv (%-escaped) and progress
 * on stdout so the self-test can check argument passing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

static void print_escaped(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '%' && *p != '\\')
            putchar(*p);
        else
            printf("%%%02X", *p);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: %s PORT SHM_PATH PROJ_ID INFO_NAME INFO_DIR SHM_MSG SOCKET_MSG [WAIT_S]\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        printf("STANDIN-ARGV[%d]=", i);
        print_escaped(argv[i]);
        putchar('\n');
    }
    int port = atoi(argv[1]);
    int proj = atoi(argv[3]);
    int wait_s = argc == 9 ? atoi(argv[8]) : 5;

    char ip[INET_ADDRSTRLEN] = "";
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) {
        perror("getifaddrs");
        return 1;
    }
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof ip);
        break;
    }
    freeifaddrs(ifs);
    if (!ip[0]) {
        fprintf(stderr, "no non-loopback IPv4 address\n");
        return 1;
    }

    key_t key = ftok(argv[2], proj);
    if (key == -1) {
        perror("ftok");
        return 1;
    }
    int shmid = shmget(key, 4096, IPC_CREAT | 0666);
    if (shmid == -1) {
        perror("shmget");
        return 1;
    }
    char *mem = shmat(shmid, NULL, 0);
    if (mem == (void *)-1) {
        perror("shmat");
        return 1;
    }
    snprintf(mem, 4096, "%s", argv[6]);

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4) != 0) {
        perror("socket/bind/listen");
        return 1;
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[5], argv[4]);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "%s\n%d\n%s\n%d\n", ip, port, argv[2], proj);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0) {
        perror("write info file");
        return 1;
    }
    printf("STANDIN-INFO-WRITTEN %s ip=%s port=%d shmid=%d\n", path, ip, port, shmid);

    struct pollfd pfd = {.fd = ls, .events = POLLIN};
    int r = poll(&pfd, 1, wait_s * 1000);
    if (r > 0) {
        int c = accept(ls, NULL, NULL);
        if (c >= 0) {
            ssize_t n = write(c, argv[7], strlen(argv[7]));
            (void)n;
            close(c);
            printf("STANDIN-CONNECTION served\n");
        }
    } else {
        printf("STANDIN-NO-CONNECTION after %d s\n", wait_s);
    }
    shmdt(mem);
    shmctl(shmid, IPC_RMID, NULL);
    return 0;
}
