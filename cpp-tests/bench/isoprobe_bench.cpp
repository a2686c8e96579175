// isoprobe_bench: the numbers behind the README's benchmark table (issue 5).
// Every row is measured in this one run, side by side, so ratios hold on a
// noisy machine. No row asserts a timing: each prints what it measured next
// to its target, and the table says whether the target was met.
//
//   B1  course_client wall time, 2 live host servers + K black-holed ones
//   B2  course_server: client's close() -> server process exit (pidfd)
//   B3  classify N live host servers in-process (count_servers + print),
//       per server, next to a minimal C loop doing the same system calls
//   B4  course_client peak RSS at each N; archive and program sizes
//   B5  the end-to-end lab (host + container + VM), when a lab runner exists;
//       the VM's boot split into stages, PVH boot vs bzImage boot side by
//       side (lab/vm/bench-boot.sh, alternating rounds)
//   B6  course_client wall time, 4 lingering host servers (foreign servers
//       that send, then keep the connection open 10 s)
//   B7  course_client wall time, 20 black-holed + 2 lingering + 1 normal
//   B8  Apptainer server start -> info file (lab/run apptainer:1), as root
//       and unprivileged
//
// usage: isoprobe_bench [--quick] [--only B1,B2,...] [--lab-runner PATH]
//                       [--lab-timeout SECONDS] [--boot-rounds N]
// --quick: one tiny case per row (the ctest smoke test); no B5, no B8.
// --serve N DIR: only start the B3 servers and keep them until stdin closes.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "client.h"
#include "server_farm.h"
#include "test_support.h"

using namespace bench;
using isoprobe_test::read_file;
using isoprobe_test::TempDir;
using isoprobe_test::write_file;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct Options {
  bool quick = false;
  std::set<std::string> only;  // empty: every row
  std::string lab_runner;      // empty: detect
  int lab_timeout_s = 0;       // 0: what is left of the 5-minute budget
  int boot_rounds = 5;         // B5 VM boot: PVH/bzImage pairs
  size_t serve_n = 0;          // --serve N DIR: only run a farm (for profiling)
  std::string serve_dir;
  bool wants(const std::string &row) const { return only.empty() || only.count(row) != 0; }
};

struct Context {
  Options opt;
  std::string root;  // the bench's temporary directory
  KeyPlanner *keys = nullptr;
  std::vector<Row> rows;
  std::vector<std::string> notes;
  int64_t started_ns = 0;
};

std::string course_server() { return ISOPROBE_COURSE_SERVER; }
std::string course_client() { return ISOPROBE_COURSE_CLIENT; }

void progress(const std::string &line) { std::cerr << "isoprobe_bench: " << line << std::endl; }

std::string make_dir(const std::string &path) {
  if (mkdir(path.c_str(), 0700) != 0) fail_errno("mkdir " + path);
  return path;
}

std::string yes_no(bool ok) { return ok ? "yes" : "**no**"; }

struct InfoFile {
  std::string ip;
  int port = 0;
};

InfoFile parse_info(const std::string &text) {
  std::istringstream s(text);
  InfoFile f;
  std::string port;
  if (!std::getline(s, f.ip) || !std::getline(s, port)) throw std::runtime_error("malformed info file: " + text);
  f.port = std::atoi(port.c_str());
  return f;
}

sockaddr_in ipv4(const std::string &ip, int port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad IPv4 address " + ip);
  return a;
}

// An owned descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd &&o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd &operator=(Fd &&o) noexcept {
    reset();
    fd = o.fd;
    o.fd = -1;
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

// ---------------------------------------------------------------- B1

// A listener on 127.0.0.1 whose accept queue is full: listen(fd, 0) admits
// one connection, which is made and never accepted; the kernel then drops
// every further SYN (accept-queue overflow), so a connect to it stays pending
// until the client gives up, exactly like a server behind a firewall that
// drops packets. No iptables, no namespace, nothing leaves loopback.
struct BlackHole {
  Fd listener, filler;
  int port = 0;
  BlackHole() {
    listener = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.fd < 0) fail_errno("socket");
    sockaddr_in a = ipv4("127.0.0.1", 0);
    socklen_t len = sizeof a;
    if (bind(listener.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(listener.fd, 0) != 0 ||
        getsockname(listener.fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      fail_errno("black hole listener");
    port = ntohs(a.sin_port);
    filler = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (filler.fd < 0 || connect(filler.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
      fail_errno("filling the black hole's accept queue");
  }
};

// True when a non-blocking connect to a black hole is still pending after `wait`.
bool black_hole_drops_syns(milliseconds wait) {
  BlackHole hole;
  Fd probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in a = ipv4("127.0.0.1", hole.port);
  int rc = connect(probe.fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  if (rc == 0 || errno != EINPROGRESS) return false;
  struct pollfd p = {probe.fd, POLLOUT, 0};
  return poll(&p, 1, static_cast<int>(wait.count())) == 0;
}

void bench_b1(Context &ctx) {
  const milliseconds probe_wait(ctx.opt.quick ? 300 : 1500);
  if (!black_hole_drops_syns(probe_wait)) {
    ctx.rows.push_back({"B1", "client run, 2 host + K black-holed servers", "not measured: loopback did not drop SYNs to a full accept queue on this kernel", "≤ 5.5 s", "—"});
    return;
  }
  ctx.notes.push_back("B1 black-holed servers: a loopback listener with listen(fd, 0) whose one accept-queue slot is taken by a connection never accepted; the kernel drops further SYNs, so connect() hangs (checked before B1: still pending after " +
                      std::to_string(probe_wait.count()) + " ms). Their info files name a key with no segment, so both channels fail: they count as VM.");
  std::vector<int> ks = ctx.opt.quick ? std::vector<int>{1} : std::vector<int>{1, 10, 100};
  for (int k : ks) {
    check_interrupted();
    std::string dir = make_dir(ctx.root + "/b1-" + std::to_string(k));
    std::string logs = make_dir(ctx.root + "/b1-" + std::to_string(k) + "-logs");
    std::vector<std::unique_ptr<Child>> servers;
    for (int i = 1; i <= 2; ++i) {
      KeyPlanner::Key key = ctx.keys->next();
      std::string n = std::to_string(i);
      servers.push_back(std::make_unique<Child>(
          std::vector<std::string>{course_server(), "0", key.path, std::to_string(key.proj_id), "live-" + n, dir,
                                   "b1-shm-" + n, "b1-sock-" + n},
          logs + "/server" + n + ".out", logs + "/server" + n + ".err"));
    }
    if (!wait_for_files(dir, 2, seconds(30))) throw std::runtime_error("B1: the two course_servers did not publish");
    std::vector<BlackHole> holes(static_cast<size_t>(k));
    for (int j = 0; j < k; ++j) {
      KeyPlanner::Key unused = ctx.keys->next();  // nobody creates it: shmget fails with ENOENT
      char name[32];
      std::snprintf(name, sizeof name, "hole-%03d", j);
      write_file(dir + "/" + name, "127.0.0.1\n" + std::to_string(holes[j].port) + "\n" + unused.path + "\n" +
                                       std::to_string(unused.proj_id) + "\n");
    }
    const int64_t t0 = now_ns();
    Child client({course_client(), dir}, logs + "/client.out", logs + "/client.err");
    if (!client.wait(seconds(60))) throw std::runtime_error("B1: course_client did not finish in 60 s");
    const double wall = static_cast<double>(client.exit_seen_ns() - t0);
    const std::string want = "Total Servers: " + std::to_string(k + 2) + "\nHost: 2\nContainer: 0\nVM: " +
                             std::to_string(k) + "\nMessages: b1-shm-1 b1-sock-1 b1-shm-2 b1-sock-2\n";
    const std::string got = read_file(logs + "/client.out");
    const bool correct = WIFEXITED(client.status()) && WEXITSTATUS(client.status()) == 0 && got == want;
    for (auto &s : servers)
      if (!s->wait(seconds(20))) progress("B1: a course_server did not exit after the client left");
    progress("B1 K=" + std::to_string(k) + ": " + format_duration_ns(wall) + (correct ? "" : " (WRONG OUTPUT)"));
    ctx.rows.push_back({"B1", "client run (course_client), 2 host + " + std::to_string(k) + " black-holed",
                        format_duration_ns(wall) + (correct ? "" : " — wrong output: " + got), "≤ 5.5 s",
                        yes_no(correct && wall <= 5.5e9)});
  }
}

// ---------------------------------------------------------------- B6 + B7

// Runs course_client on `dir`, which holds `lingering` foreign servers that
// send and then keep their connection open (cpp-tests/interop/foreign_server.c,
// style linger), `normal` course_servers and `holes` black-holed servers;
// adds one row.
void client_against_lingering(Context &ctx, const std::string &row, const std::string &what, int lingering,
                              int normal, int holes, const std::string &target, double target_s) {
  check_interrupted();
  std::string dir = make_dir(ctx.root + "/" + row);
  std::string logs = make_dir(ctx.root + "/" + row + "-logs");
  std::vector<std::unique_ptr<Child>> servers;
  std::string messages;
  int files = 0;
  for (int i = 1; i <= lingering; ++i, ++files) {
    std::string n = "linger-" + std::to_string(i);
    std::string shm_path = ctx.root + "/" + row + "-" + n + ".ftok";
    write_file(shm_path, "ftok names this file\n");
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{ISOPROBE_FOREIGN_SERVER, "linger", dir, n, shm_path, row + "-shm-" + n,
                                 row + "-sock-" + n},
        logs + "/" + n + ".out", logs + "/" + n + ".err"));
    messages += " " + row + "-shm-" + n + " " + row + "-sock-" + n;
  }
  for (int i = 1; i <= normal; ++i, ++files) {
    KeyPlanner::Key key = ctx.keys->next();
    std::string n = "normal-" + std::to_string(i);
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{course_server(), "0", key.path, std::to_string(key.proj_id), n, dir,
                                 row + "-shm-" + n, row + "-sock-" + n},
        logs + "/" + n + ".out", logs + "/" + n + ".err"));
    messages += " " + row + "-shm-" + n + " " + row + "-sock-" + n;
  }
  if (!wait_for_files(dir, static_cast<size_t>(files), seconds(30)))
    throw std::runtime_error(row + ": the servers did not publish");
  std::vector<BlackHole> black(static_cast<size_t>(holes));
  for (int j = 0; j < holes; ++j) {
    KeyPlanner::Key unused = ctx.keys->next();
    char name[32];
    std::snprintf(name, sizeof name, "hole-%03d", j);
    write_file(dir + "/" + name, "127.0.0.1\n" + std::to_string(black[j].port) + "\n" + unused.path + "\n" +
                                     std::to_string(unused.proj_id) + "\n");
  }
  const int64_t t0 = now_ns();
  Child client({course_client(), dir}, logs + "/client.out", logs + "/client.err");
  if (!client.wait(seconds(60))) throw std::runtime_error(row + ": course_client did not finish in 60 s");
  const double wall = static_cast<double>(client.exit_seen_ns() - t0);
  // Sorted by name: "hole-*" sort before "linger-*" and "normal-*"; holes have no messages.
  const std::string want = "Total Servers: " + std::to_string(files + holes) + "\nHost: " + std::to_string(files) +
                           "\nContainer: 0\nVM: " + std::to_string(holes) + "\nMessages:" + messages + "\n";
  const std::string got = read_file(logs + "/client.out");
  const bool correct = WIFEXITED(client.status()) && WEXITSTATUS(client.status()) == 0 && got == want;
  for (auto &s : servers) s->stop();  // SIGTERM ends the linger; each removes its segment
  progress(row + ": " + format_duration_ns(wall) + (correct ? "" : " (WRONG OUTPUT)"));
  ctx.rows.push_back({row, what, format_duration_ns(wall) + (correct ? "" : " — wrong output: " + got), target,
                      yes_no(correct && wall <= target_s * 1e9)});
}

void bench_b6(Context &ctx) {
  client_against_lingering(ctx, "B6", "client run (course_client), 4 lingering host servers", 4, 0, 0, "≤ 0.5 s",
                           0.5);
}

void bench_b7(Context &ctx) {
  if (!black_hole_drops_syns(milliseconds(ctx.opt.quick ? 300 : 1500))) {
    ctx.rows.push_back({"B7", "client run, 20 black-holed + 2 lingering + 1 normal",
                        "not measured: loopback did not drop SYNs to a full accept queue on this kernel", "≤ 5.5 s",
                        "—"});
    return;
  }
  client_against_lingering(ctx, "B7", "client run (course_client), 20 black-holed + 2 lingering + 1 normal", 2, 1,
                           ctx.opt.quick ? 2 : 20, "≤ 5.5 s", 5.5);
}

// ---------------------------------------------------------------- B2

void bench_b2(Context &ctx) {
  const int reps = ctx.opt.quick ? 3 : 15;
  std::string dir = make_dir(ctx.root + "/b2");
  std::string logs = make_dir(ctx.root + "/b2-logs");
  std::vector<double> samples;
  bool all_clean = true;
  for (int r = 0; r < reps; ++r) {
    check_interrupted();
    KeyPlanner::Key key = ctx.keys->next();
    std::string name = "b2-" + std::to_string(r);
    Child server({course_server(), "0", key.path, std::to_string(key.proj_id), name, dir, "m", "n"},
                 logs + "/" + name + ".out", logs + "/" + name + ".err");
    if (!wait_for_files(dir, 1, seconds(30))) throw std::runtime_error("B2: course_server did not publish");
    InfoFile info = parse_info(read_file(dir + "/" + name));
    Fd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = ipv4(info.ip, info.port);
    if (connect(sock.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) fail_errno("B2 connect");
    // Read the message to its end, as a client does before it disconnects.
    char buf[256];
    for (;;) {
      if (!wait_readable(sock.fd, seconds(30))) throw std::runtime_error("B2: no message from course_server");
      ssize_t n = read(sock.fd, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0 && errno != EINTR) fail_errno("B2 read");
    }
    const int64_t t0 = now_ns();
    sock.reset();
    if (!server.wait(seconds(30))) throw std::runtime_error("B2: course_server did not exit after the close");
    samples.push_back(static_cast<double>(server.exit_seen_ns() - t0));
    all_clean = all_clean && WIFEXITED(server.status()) && WEXITSTATUS(server.status()) == 0 && isoprobe_test::list_dir(dir).empty();
  }
  const double med = median(samples), max = maximum(samples);
  progress("B2: median " + format_duration_ns(med) + ", max " + format_duration_ns(max));
  ctx.rows.push_back({"B2",
                      "server (course_server run()): client close() → process exit, " + std::to_string(reps) + " runs",
                      "median " + format_duration_ns(med) + ", max " + format_duration_ns(max) +
                          (all_clean ? "" : " — a server failed or left its info file"),
                      "≤ 50 ms", yes_no(all_clean && max <= 50e6)});
}

// ---------------------------------------------------------------- B3

struct Sample {
  double wall_ns, cpu_ns;
};

// fd 1 points at `path` while this lives (the library prints the summary on stdout).
class StdoutTo {
 public:
  explicit StdoutTo(const std::string &path) {
    std::fflush(stdout);
    std::cout.flush();
    Fd file(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (file.fd < 0) fail_errno("open " + path);
    saved_ = dup(1);
    if (saved_ < 0 || dup2(file.fd, 1) < 0) fail_errno("dup2");
  }
  ~StdoutTo() {
    std::fflush(stdout);
    dup2(saved_, 1);
    close(saved_);
  }

 private:
  int saved_ = -1;
};

extern "C" void collect_server(void *context, const live_server_info *server) {
  // As the course's count_servers does: one push_back per server.
  static_cast<std::vector<live_server_info> *>(context)->push_back(*server);
}

// The library, as a course client uses it: count_servers (attach every
// segment, connect to every server) then print_server_infos (read every
// message, classify, print). disconnect is not timed.
Sample library_client(const std::string &dir, const std::string &out_path, const std::string &want) {
  std::vector<live_server_info> servers;
  isoprobe_error e{};
  isoprobe_status st1, st2 = ISOPROBE_OK;
  int64_t w0, c0, w1, c1;
  {
    StdoutTo redirect(out_path);
    w0 = now_ns();
    c0 = thread_cpu_ns();
    st1 = isoprobe_client_count_servers(dir.c_str(), ISOPROBE_CONNECT_TIMEOUT_MS, collect_server, &servers, nullptr, &e);
    if (st1 == ISOPROBE_OK) st2 = isoprobe_client_print_server_infos(servers.data(), servers.size(), &e);
    c1 = thread_cpu_ns();
    w1 = now_ns();
  }
  isoprobe_client_disconnect(servers.data(), servers.size(), nullptr);
  if (st1 != ISOPROBE_OK || st2 != ISOPROBE_OK) throw std::runtime_error(std::string("library client: ") + e.message);
  if (read_file(out_path) != want) throw std::runtime_error("library client printed a wrong summary");
  return {static_cast<double>(w1 - w0), static_cast<double>(c1 - c0)};
}

// The floor: the same system calls with no library around them, as a bare C
// loop would make them. List the directory (d_type, no stat), read each info
// file (open/read/close), ftok + shmget + shmat + copy the shm string, then a
// blocking connect to every server (loopback completes it in the call), then
// read every socket to end-of-stream, then print the same summary.
Sample floor_client(const std::string &dir, const std::string &out_path, const std::string &want) {
  struct Server {
    int fd = -1;
    void *shm = nullptr;
    sockaddr_in addr{};
    std::string shm_msg, sock_msg;
  };
  std::vector<Server> servers;
  struct Teardown {
    std::vector<Server> &s;
    ~Teardown() {
      for (auto &x : s) {
        if (x.fd >= 0) close(x.fd);
        if (x.shm != nullptr) shmdt(x.shm);
      }
    }
  } teardown{servers};
  Fd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out.fd < 0) fail_errno("open " + out_path);

  const int64_t w0 = now_ns(), c0 = thread_cpu_ns();
  std::vector<std::string> names;
  DIR *d = opendir(dir.c_str());
  if (d == nullptr) fail_errno("opendir");
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    struct stat st;  // only file systems without d_type cost a stat
    if (e->d_type == DT_REG ||
        (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)))
      names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  servers.resize(names.size());
  char buf[4200];
  for (size_t i = 0; i < names.size(); ++i) {
    std::string path = dir + "/" + names[i];
    int f = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f < 0) fail_errno("open " + path);
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    if (n <= 0) throw std::runtime_error("floor: empty info file");
    buf[n] = '\0';
    char *save = nullptr;
    char *ip = strtok_r(buf, "\n", &save);
    char *port = strtok_r(nullptr, "\n", &save);
    char *shm_path = strtok_r(nullptr, "\n", &save);
    char *proj = strtok_r(nullptr, "\n", &save);
    if (ip == nullptr || port == nullptr || shm_path == nullptr || proj == nullptr)
      throw std::runtime_error("floor: malformed info file");
    Server &s = servers[i];
    s.addr.sin_family = AF_INET;
    s.addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
    inet_pton(AF_INET, ip, &s.addr.sin_addr);
    key_t key = ftok(shm_path, std::atoi(proj));
    int id = key == -1 ? -1 : shmget(key, 0, 0);
    if (id >= 0) {
      void *p = shmat(id, nullptr, SHM_RDONLY);
      if (p != reinterpret_cast<void *>(-1)) {
        s.shm = p;
        s.shm_msg.assign(static_cast<const char *>(p), strnlen(static_cast<const char *>(p), SHARED_MEMORY_SIZE));
      }
    }
  }
  for (Server &s : servers) {
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s.fd < 0) fail_errno("socket");
    if (connect(s.fd, reinterpret_cast<sockaddr *>(&s.addr), sizeof s.addr) != 0) fail_errno("floor connect");
  }
  for (Server &s : servers) {
    for (;;) {
      ssize_t n = read(s.fd, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("floor read");
      }
      s.sock_msg.append(buf, static_cast<size_t>(n));
    }
  }
  std::string summary = "Total Servers: " + std::to_string(servers.size()) + "\nHost: " +
                        std::to_string(servers.size()) + "\nContainer: 0\nVM: 0\nMessages:";
  for (const Server &s : servers) summary += " " + s.shm_msg + " " + s.sock_msg;
  summary += "\n";
  if (write(out.fd, summary.data(), summary.size()) != static_cast<ssize_t>(summary.size())) fail_errno("write");
  const int64_t c1 = thread_cpu_ns(), w1 = now_ns();
  if (read_file(out_path) != want) throw std::runtime_error("floor client printed a wrong summary");
  return {static_cast<double>(w1 - w0), static_cast<double>(c1 - c0)};
}

// ---------------------------------------------------------------- B4

struct PeakRss {
  long vmhwm_kib = -1;     // the client's own peak (VmHWM at its exit), -1 if unavailable
  long ru_maxrss_kib = -1;  // wait4's ru_maxrss (counts the parent's RSS at fork)
  int status = -1;
};

long vmhwm_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long kib = -1;
  while (std::getline(f, line))
    if (std::sscanf(line.c_str(), "VmHWM: %ld kB", &kib) == 1) break;
  return kib;
}

// Runs course_client DIR and reads its peak RSS. wait4's ru_maxrss is not the
// child's own: exec folds the pre-exec (forked) memory into it. So the child
// runs under ptrace with PTRACE_O_TRACEEXIT, which stops it at exit before its
// memory is released, and VmHWM of the new image is read from /proc then.
PeakRss client_peak_rss(const std::string &dir, const std::string &out_path) {
  PeakRss r;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    reset_signals_in_child();
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(out, 1) < 0) _exit(126);
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);  // if refused: no VmHWM, ru_maxrss only
    std::string client = course_client();
    execl(client.c_str(), client.c_str(), dir.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  note_child_pid(pid);
  struct rusage ru {};
  for (;;) {
    int st = 0;
    pid_t w = wait4(pid, &st, 0, &ru);
    if (w < 0) {
      if (errno == EINTR) {
        try {
          check_interrupted();
        } catch (...) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
          throw;
        }
        continue;
      }
      fail_errno("wait4");
    }
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      r.status = st;
      r.ru_maxrss_kib = ru.ru_maxrss;
      return r;
    }
    if (!WIFSTOPPED(st)) continue;
    const int event = st >> 16;
    int deliver = 0;
    if (WSTOPSIG(st) == SIGTRAP && event == 0 && r.vmhwm_kib < 0) {
      // The stop after exec: ask for a stop at exit too; EXITKILL ends the
      // child if the bench dies while it is traced.
      ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void *>(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
    } else if (event == PTRACE_EVENT_EXIT) {
      r.vmhwm_kib = vmhwm_kib(pid);
    } else if (WSTOPSIG(st) != SIGTRAP) {
      deliver = WSTOPSIG(st);
    }
    ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void *>(static_cast<long>(deliver)));
  }
}

// Path of `prog` in $PATH, or "".
std::string which(const std::string &prog) {
  const char *path = std::getenv("PATH");
  std::istringstream s(path ? path : "/usr/bin:/bin");
  std::string d;
  while (std::getline(s, d, ':'))
    if (!d.empty() && access((d + "/" + prog).c_str(), X_OK) == 0) return d + "/" + prog;
  return "";
}

long long stripped_size(Context &ctx, const std::string &program) {
  std::string strip = which("strip");
  if (strip.empty()) return -1;
  std::string out = ctx.root + "/stripped";
  Child c({strip, "-o", out, program}, "", ctx.root + "/strip.err");
  if (!c.wait(seconds(60)) || !WIFEXITED(c.status()) || WEXITSTATUS(c.status()) != 0) return -1;
  long long size = file_size(out);
  unlink(out.c_str());
  return size;
}

// ---------------------------------------------------------------- B3 + B4 driver

void bench_b3_b4(Context &ctx) {
  std::vector<size_t> ns = ctx.opt.quick ? std::vector<size_t>{10} : std::vector<size_t>{10, 100, 1000};
  if (ctx.opt.wants("B3"))
    ctx.notes.push_back(
        "B3: the servers are one forked process running N library servers (server C API) on one epoll loop. The "
        "library client is count_servers + print_server_infos (C API, in this process, stdout to a file); the "
        "floor is a bare loop making the same system calls (readdir, open/read of each info file, ftok + shmget + "
        "shmat + copy, blocking connect, read to EOF) against the same servers, alternating with it. CPU = the "
        "client thread's CPU time.");
  std::vector<std::pair<size_t, long>> rss;  // (N, KiB)
  bool rss_from_vmhwm = true;
  for (size_t n : ns) {
    check_interrupted();
    std::string dir = make_dir(ctx.root + "/b3-" + std::to_string(n));
    progress("B3 N=" + std::to_string(n) + ": starting the servers");
    ServerFarm farm(dir, *ctx.keys, n);
    const std::string out = ctx.root + "/b3-summary";
    if (ctx.opt.wants("B3")) {
      const int reps = ctx.opt.quick ? 3 : n <= 10 ? 41 : n <= 100 ? 15 : 7;
      // One untimed round each warms the page cache, dentries and allocator.
      library_client(dir, out, farm.expected_summary());
      floor_client(dir, out, farm.expected_summary());
      std::vector<double> lib_wall, lib_cpu, floor_wall, floor_cpu;
      for (int r = 0; r < reps; ++r) {  // alternating, so drift hits both alike
        check_interrupted();
        Sample a = library_client(dir, out, farm.expected_summary());
        Sample b = floor_client(dir, out, farm.expected_summary());
        lib_wall.push_back(a.wall_ns / n);
        lib_cpu.push_back(a.cpu_ns / n);
        floor_wall.push_back(b.wall_ns / n);
        floor_cpu.push_back(b.cpu_ns / n);
      }
      const double lw = median(lib_wall), lc = median(lib_cpu), fw = median(floor_wall), fc = median(floor_cpu);
      const double ratio = lw / fw, cpu_ratio = lc / fc;
      progress("B3 N=" + std::to_string(n) + ": library " + format_duration_ns(lw) + "/server, floor " +
               format_duration_ns(fw) + "/server, ratio " + fixed(ratio, 2));
      const bool judged = n == 1000;
      ctx.rows.push_back({"B3",
                          "classify N=" + std::to_string(n) + " host servers, per server (median of " +
                              std::to_string(reps) + ")",
                          "library " + format_duration_ns(lw) + " (CPU " + format_duration_ns(lc) + ") · floor " +
                              format_duration_ns(fw) + " (CPU " + format_duration_ns(fc) + ") · **" +
                              fixed(ratio, 2) + "×** (CPU " + fixed(cpu_ratio, 2) + "×); total " +
                              format_duration_ns(lw * n),
                          judged ? "≤ 1.5× floor" : "recorded", judged ? yes_no(ratio <= 1.5) : "—"});
    }
    if (ctx.opt.wants("B4")) {
      PeakRss p = client_peak_rss(dir, out);
      const bool correct = WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0 && read_file(out) == farm.expected_summary();
      if (!correct) throw std::runtime_error("B4: course_client failed or printed a wrong summary");
      if (p.vmhwm_kib < 0) rss_from_vmhwm = false;
      rss.emplace_back(n, p.vmhwm_kib >= 0 ? p.vmhwm_kib : p.ru_maxrss_kib);
      progress("B4 N=" + std::to_string(n) + ": peak RSS " + format_bytes(rss.back().second * 1024LL));
    }
    if (!farm.stop()) throw std::runtime_error("the server farm did not shut down cleanly");
  }
  if (!ctx.opt.wants("B4")) return;
  for (size_t i = 0; i < rss.size(); ++i) {
    std::string growth;
    if (i > 0) {
      double per = static_cast<double>(rss[i].second - rss[i - 1].second) * 1024 /
                   static_cast<double>(rss[i].first - rss[i - 1].first);
      growth = " (+" + format_bytes(static_cast<long long>(std::max(0.0, per))) + "/server since N=" +
               std::to_string(rss[i - 1].first) + ")";
    }
    const bool judged = rss[i].first == 1000;
    ctx.rows.push_back({"B4", "client peak RSS (course_client), N=" + std::to_string(rss[i].first),
                        format_bytes(rss[i].second * 1024LL) + growth, judged ? "< 64 MiB" : "recorded",
                        judged ? yes_no(rss[i].second * 1024LL < 64LL << 20) : "—"});
  }
  ctx.notes.push_back(rss_from_vmhwm
                          ? "B4 RSS: VmHWM of course_client read at its exit (ptrace PTRACE_O_TRACEEXIT stop); wait4's ru_maxrss would include the forking parent's memory."
                          : "B4 RSS: ptrace unavailable, so wait4's ru_maxrss (includes the bench's own RSS at fork: an upper bound).");
  const std::string lib = ISOPROBE_RUST_LIB;
  ctx.rows.push_back({"B4", "libisoprobe.a (= libserver.a = libclient.a)", format_bytes(file_size(lib)), "recorded", "—"});
  for (const std::string &prog : {course_server(), std::string(ISOPROBE_COURSE_SERVER_STATIC)}) {
    std::string name = prog.substr(prog.rfind('/') + 1);
    ctx.rows.push_back({"B4", name + " linked (as built / stripped)",
                        format_bytes(file_size(prog)) + " / " + format_bytes(stripped_size(ctx, prog)), "recorded",
                        "—"});
  }
}

// ---------------------------------------------------------------- B5

// The lab runner: lab/run (the environment lab) or, failing that, a demo
// script. Each is another branch's work; B5 uses whichever this tree has.
std::string find_lab_runner(const Options &opt) {
  if (!opt.lab_runner.empty()) return opt.lab_runner;
  const std::string src = ISOPROBE_SOURCE_DIR;
  for (const char *rel : {"lab/run", "scripts/demo.sh"}) {
    std::string p = src + "/" + rel;
    struct stat st;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// The number of seconds in the first match of `re` (group 1), or NaN.
double seconds_in(const std::string &text, const std::regex &re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? std::atof(m[1].str().c_str()) : NAN;
}

// The first line starting with `prefix`, without it ("" if none).
std::string line_after(const std::string &text, const std::string &prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return "";
}

void bench_b5(Context &ctx) {
  const std::string what = "end-to-end lab: 1 host + 1 container + 1 VM server, start → client summary";
  const std::string target = "recorded, VM boot split out";
  if (ctx.opt.quick) {
    ctx.rows.push_back({"B5", what, "not run in --quick mode", target, "—"});
    return;
  }
  std::string runner = find_lab_runner(ctx.opt);
  if (runner.empty()) {
    progress("B5: lab runner not available (no executable lab/run or scripts/demo.sh in " +
             std::string(ISOPROBE_SOURCE_DIR) + ")");
    ctx.rows.push_back({"B5", what, "lab runner not available (no lab/run or scripts/demo.sh in this tree)", target, "—"});
    return;
  }
  // lab/run takes the programs and what to start; anything else runs as is.
  std::vector<std::string> argv{runner};
  if (runner.size() >= 8 && runner.compare(runner.size() - 8, 8, "/lab/run") == 0)
    argv.insert(argv.end(), {"--server", course_server(), "--client", course_client(), "--static-server",
                             ISOPROBE_COURSE_SERVER_STATIC, "host:1", "container:1", "vm:1"});
  // The whole bench should stay within 5 minutes; the lab gets what is left.
  const double used_s = static_cast<double>(now_ns() - ctx.started_ns) / 1e9;
  int budget = ctx.opt.lab_timeout_s;
  if (budget <= 0) budget = std::max(30, static_cast<int>(290 - used_s));
  progress("B5: running " + runner + " (at most " + std::to_string(budget) + " s)");
  const std::string log = ctx.root + "/b5.log";
  const int64_t t0 = now_ns();
  Child lab(argv, log, log + ".err", /*own_group=*/true);
  const bool finished = lab.wait(seconds(budget));
  if (!finished) lab.stop();
  const double total = static_cast<double>((finished ? lab.exit_seen_ns() : now_ns()) - t0) / 1e9;
  const std::string out = read_file(log), err = read_file(log + ".err"), text = out + "\n" + err;
  const int code = WIFEXITED(lab.status()) ? WEXITSTATUS(lab.status()) : -1;
  if (finished && code == 77) {
    std::string reason = line_after(err, "lab: unavailable: ");
    if (reason.empty()) {
      // Another runner: the last line it printed on stderr.
      std::istringstream lines(err);
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) reason = line;
    }
    if (reason.empty()) reason = "exit 77";
    progress("B5: lab runner not available (" + reason + ")");
    ctx.rows.push_back({"B5", what, "lab runner not available (" + reason + ")", target, "—"});
    return;
  }
  if (!finished || code != 0) {
    progress("B5: the lab runner failed; its output:\n" + text);
    ctx.rows.push_back({"B5", what,
                        finished ? "lab runner failed (exit " + std::to_string(code) + ")"
                                 : "lab runner timed out after " + std::to_string(budget) + " s",
                        target, "**no**"});
    return;
  }
  // lab/run says "lab: 3 info file(s) present after 6.0 s; vm-1: 5.9 s from
  // boot start to info file" and "vm: <mechanism>"; other runners may say
  // "boot ... N s".
  const double ready = seconds_in(text, std::regex(R"(info file\(s\) present after ([0-9.]+) s)"));
  double boot = seconds_in(text, std::regex(R"(([0-9.]+) s from (?:boot|qemu) start to info file)"));
  std::string boot_what = "VM boot (boot start → info file)";
  if (std::isnan(boot)) {
    boot = seconds_in(text, std::regex(R"(\(stand-in\): ([0-9.]+) s)"));
    boot_what = "VM stand-in start (no QEMU)";
  }
  if (std::isnan(boot)) {
    boot = seconds_in(text, std::regex(R"(boot[^0-9\n]*([0-9]+(\.[0-9]+)?) s\b)", std::regex::icase));
    boot_what = "VM boot";
  }
  std::string result = fixed(total, 1) + " s total";
  if (!std::isnan(ready)) result += "; all servers up after " + fixed(ready, 1) + " s";
  result += "; " + boot_what + ": " + (std::isnan(boot) ? std::string("not reported") : fixed(boot, 1) + " s");
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Host: (\d+)\s+Container: (\d+)\s+VM: (\d+))")))
    result += "; client: Host " + m[1].str() + ", Container " + m[2].str() + ", VM " + m[3].str();
  const std::string vm_how = line_after(out, "vm: ");
  if (!vm_how.empty()) ctx.notes.push_back("B5 VM: " + vm_how);
  const std::string container_how = line_after(out, "container: ");
  if (!container_how.empty()) ctx.notes.push_back("B5 container: " + container_how);
  progress("B5: " + result);
  ctx.rows.push_back({"B5", what, result, target, "—"});
}

// The VM's boot, PVH vs bzImage: lab/vm/bench-boot.sh boots the guest (with
// course_server_static) on both paths in alternating rounds and prints, per
// path, the median of each stage and of the total (QEMU start -> info file
// on the host) and the ratio of the medians.
void bench_b5_boot(Context &ctx) {
  const std::string what = "VM boot, PVH vs bzImage (QEMU start → info file on the host, median of " +
                           std::to_string(ctx.opt.boot_rounds) + " alternating rounds each)";
  const std::string target = "≥ 2.5× faster, ≤ 4 s";
  if (ctx.opt.quick) {
    ctx.rows.push_back({"B5", what, "not run in --quick mode", target, "—"});
    return;
  }
  const std::string script = std::string(ISOPROBE_SOURCE_DIR) + "/lab/vm/bench-boot.sh";
  const char *cache_env = std::getenv("ISOPROBE_LAB_CACHE");
  const std::string cache =
      cache_env != nullptr && *cache_env != '\0' ? cache_env : std::string(ISOPROBE_SOURCE_DIR) + "/.lab-cache";
  progress("B5: " + std::to_string(ctx.opt.boot_rounds) + " rounds of PVH and bzImage boots (lab/vm/bench-boot.sh)");
  const std::string log = ctx.root + "/b5-boot.log";
  Child bench({script, "--rounds", std::to_string(ctx.opt.boot_rounds), cache, ISOPROBE_COURSE_SERVER_STATIC}, log,
              log + ".err", /*own_group=*/true);
  // Each pair takes about 15 s unloaded; a failing boot gives up after 120 s.
  const bool finished = bench.wait(seconds(120 + 90 * ctx.opt.boot_rounds));
  if (!finished) bench.stop();
  const std::string out = read_file(log), err = read_file(log + ".err");
  const int code = WIFEXITED(bench.status()) ? WEXITSTATUS(bench.status()) : -1;
  if (finished && code == 77) {
    std::string reason = line_after(err, "bench-boot.sh: unavailable: ");
    progress("B5: VM boot bench not available (" + reason + ")");
    ctx.rows.push_back({"B5", what, "not available (" + reason + ")", target, "—"});
    return;
  }
  if (!finished || code != 0) {
    progress("B5: the VM boot bench failed; its output:\n" + out + err);
    ctx.rows.push_back({"B5", what, finished ? "failed (exit " + std::to_string(code) + ")" : "timed out", target,
                        "**no**"});
    return;
  }
  // "path PATH n=N total_median=S total_min=S kernel=S init=S ready=S info=S | MECHANISM"
  struct PathResult {
    bool seen = false;
    double median = NAN, min = NAN, kernel = NAN, init = NAN, ready = NAN, info = NAN;
    std::string how;
  };
  auto parse = [&](const std::string &path) {
    PathResult r;
    const std::string line = line_after(out, "path " + path + " ");
    if (line.empty()) return r;
    r.seen = true;
    auto field = [&](const std::string &name) {
      return seconds_in(line, std::regex("\\b" + name + "=([0-9.]+)"));
    };
    r.median = field("total_median");
    r.min = field("total_min");
    r.kernel = field("kernel");
    r.init = field("init");
    r.ready = field("ready");
    r.info = field("info");
    const size_t bar = line.find(" | ");
    if (bar != std::string::npos) r.how = line.substr(bar + 3);
    return r;
  };
  const PathResult pvh = parse("pvh"), bz = parse("bzimage");
  if (!pvh.seen || !bz.seen) {
    ctx.rows.push_back({"B5", what, "no result in bench-boot.sh's output", target, "**no**"});
    return;
  }
  // The machine the PVH boot used, from its mechanism line ("pvh vmlinux, microvm").
  std::smatch m;
  std::string pvh_machine = "PVH";
  if (std::regex_search(pvh.how, m, std::regex(R"(pvh vmlinux, (\w+))"))) pvh_machine = "PVH " + m[1].str();
  auto stages = [&](const PathResult &r) {
    return fixed(r.kernel, 2) + " s → " + fixed(r.init, 2) + " s → " + fixed(r.ready, 2) + " s → " +
           fixed(r.info, 2) + " s; total " + fixed(r.median, 2) + " s (min " + fixed(r.min, 2) + " s)";
  };
  const std::string stage_what = " boot stages (medians): QEMU start → kernel start → /init → READY → info file";
  ctx.rows.push_back({"B5", "VM " + pvh_machine + " (vmlinux)" + stage_what, stages(pvh), "recorded", "—"});
  ctx.rows.push_back({"B5", "VM bzImage via SeaBIOS (pc)" + stage_what, stages(bz), "recorded", "—"});
  const double ratio = bz.median / pvh.median;
  const bool met = ratio >= 2.5 && pvh.median <= 4.0;
  ctx.rows.push_back({"B5", what,
                      pvh_machine + " " + fixed(pvh.median, 2) + " s · bzImage " + fixed(bz.median, 2) + " s · **" +
                          fixed(ratio, 2) + "×**",
                      target, met ? "yes" : "no"});
  ctx.notes.push_back("B5 VM boot, PVH: " + pvh.how);
  ctx.notes.push_back("B5 VM boot, bzImage: " + bz.how);
  progress("B5: VM boot " + pvh_machine + " " + fixed(pvh.median, 2) + " s vs bzImage " + fixed(bz.median, 2) +
           " s (" + fixed(ratio, 2) + "×)");
}

// ---------------------------------------------------------------- B8

// One Apptainer server in the lab (lab/run apptainer:1, plus `extra`):
// lab/run's "apptainer-1: X s from apptainer run to info file". The first
// run on a machine also builds the private Debian roots and the images.
void bench_b8_once(Context &ctx, const std::string &runner, const std::string &how,
                   const std::vector<std::string> &extra) {
  const std::string what = "Apptainer server start → info file (apptainer run, " + how + ")";
  const std::string target = "recorded";
  std::vector<std::string> argv{runner, "--server", course_server(), "--client", course_client(), "apptainer:1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const int budget = ctx.opt.lab_timeout_s > 0 ? ctx.opt.lab_timeout_s : 600;
  progress("B8 (" + how + "): running lab/run apptainer:1 (at most " + std::to_string(budget) + " s)");
  const std::string log = ctx.root + "/b8.log";
  const int64_t t0 = now_ns();
  Child lab(argv, log, log + ".err", /*own_group=*/true);
  const bool finished = lab.wait(seconds(budget));
  if (!finished) lab.stop();
  const double total = static_cast<double>((finished ? lab.exit_seen_ns() : now_ns()) - t0) / 1e9;
  const std::string out = read_file(log), err = read_file(log + ".err");
  const int code = WIFEXITED(lab.status()) ? WEXITSTATUS(lab.status()) : -1;
  if (finished && code == 77) {
    std::string reason = line_after(err, "lab: unavailable: ");
    if (reason.empty()) reason = line_after(err, "lab: ");
    progress("B8: Apptainer not available (" + reason + ")");
    ctx.rows.push_back({"B8", what, "Apptainer not available (" + reason + ")", target, "—"});
    return;
  }
  const double start = seconds_in(out, std::regex(R"(apptainer-1: ([0-9.]+) s from apptainer run to info file)"));
  if (!finished || code != 0 || std::isnan(start)) {
    progress("B8: the lab failed; its output:\n" + out + "\n" + err);
    ctx.rows.push_back({"B8", what,
                        finished ? "lab failed (exit " + std::to_string(code) + ")"
                                 : "lab timed out after " + std::to_string(budget) + " s",
                        target, "**no**"});
    return;
  }
  std::string result = fixed(start, 2) + " s; lab start → exit " + fixed(total, 1) + " s";
  const double built = seconds_in(err + out, std::regex(R"(built the course image .* in ([0-9.]+) s)"));
  if (!std::isnan(built)) result += " (incl. building the course image, " + fixed(built, 1) + " s)";
  progress("B8 (" + how + "): " + result);
  ctx.rows.push_back({"B8", what, result, target, "—"});
  const std::string line = line_after(out, "apptainer: ");
  if (!line.empty() && how == "root") ctx.notes.push_back("B8 Apptainer: " + line);
}

void bench_b8(Context &ctx) {
  std::string runner = find_lab_runner(ctx.opt);
  if (ctx.opt.quick || runner.size() < 8 || runner.compare(runner.size() - 8, 8, "/lab/run") != 0) {
    ctx.rows.push_back({"B8", "Apptainer server start → info file",
                        ctx.opt.quick ? "not run in --quick mode" : "needs lab/run", "recorded", "—"});
    return;
  }
  bench_b8_once(ctx, runner, "root", {});
  if (geteuid() == 0)
    bench_b8_once(ctx, runner, "unprivileged: nobody, user-namespace mode", {"--apptainer-as", "nobody"});
}

// --serve: a farm for profiling a client by hand.
int serve(Context &ctx) {
  try {
    ServerFarm farm(ctx.opt.serve_dir, *ctx.keys, ctx.opt.serve_n);
    std::cerr << "isoprobe_bench: " << ctx.opt.serve_n << " servers in " << ctx.opt.serve_dir
              << "; close stdin (Ctrl-D) to stop\n";
    char c;
    while (read(0, &c, 1) > 0) {
    }
    check_interrupted();
    return farm.stop() ? 0 : 1;
  } catch (const std::exception &e) {
    std::cerr << "isoprobe_bench: " << e.what() << "\n";
    return 1;
  }
}

Options parse_options(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only") {
      std::istringstream s(value());
      std::string r;
      while (std::getline(s, r, ',')) o.only.insert(r);
    } else if (a == "--lab-runner") {
      o.lab_runner = value();
    } else if (a == "--lab-timeout") {
      o.lab_timeout_s = std::atoi(value().c_str());
    } else if (a == "--boot-rounds") {
      o.boot_rounds = std::atoi(value().c_str());
      if (o.boot_rounds < 1) throw std::runtime_error("--boot-rounds needs a positive number");
    } else if (a == "--serve") {
      o.serve_n = static_cast<size_t>(std::atol(value().c_str()));
      o.serve_dir = value();
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: isoprobe_bench [--quick] [--only B1,B2,B3,B4,B5,B6,B7,B8] [--lab-runner PATH] [--lab-timeout S]\n"
                   "                      [--boot-rounds N]   (B5 VM boot: N PVH/bzImage pairs, default 5)\n"
                   "       isoprobe_bench --serve N DIR   (N host servers in DIR until stdin closes: profile a\n"
                   "                                       client against them, e.g. strace -c course_client DIR)\n";
      std::exit(0);
    } else {
      throw std::runtime_error("unknown argument " + a + " (see --help)");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char **argv) {
  Context ctx;
  try {
    ctx.opt = parse_options(argc, argv);
  } catch (const std::exception &e) {
    std::cerr << "isoprobe_bench: " << e.what() << "\n";
    return 2;
  }
  install_signal_flag();
  ctx.started_ns = now_ns();
  // 1000 servers: 1000 listeners and connections in the farm, 1000 sockets
  // in the client. Children inherit the raised limit.
  const unsigned long nofile = raise_nofile(8192);
  int rc = 0;
  int leftovers = 0;
  {
    TempDir root("isoprobe-bench");
    ctx.root = root.path();
    KeyPlanner keys(make_dir(root.path() + "/keys"));
    ctx.keys = &keys;
    if (ctx.opt.serve_n > 0) {
      rc = serve(ctx);
      return keys.sweep() == 0 ? rc : 1;
    }
    try {
      if (nofile < 2200 && !ctx.opt.quick)
        ctx.notes.push_back("RLIMIT_NOFILE is only " + std::to_string(nofile) + ": N=1000 may fail");
      if (ctx.opt.wants("B1")) bench_b1(ctx);
      if (ctx.opt.wants("B2")) bench_b2(ctx);
      if (ctx.opt.wants("B3") || ctx.opt.wants("B4")) bench_b3_b4(ctx);
      if (ctx.opt.wants("B5")) bench_b5(ctx);
      if (ctx.opt.wants("B5")) bench_b5_boot(ctx);
      if (ctx.opt.wants("B6")) bench_b6(ctx);
      if (ctx.opt.wants("B7")) bench_b7(ctx);
      if (ctx.opt.wants("B8")) bench_b8(ctx);
    } catch (const std::exception &e) {
      // A Ctrl-C reaches the servers too; what failed then is a consequence.
      if (interrupted()) {
        std::cerr << "isoprobe_bench: interrupted by a signal; cleaning up\n";
        rc = 130;
      } else {
        std::cerr << "isoprobe_bench: error: " << e.what() << "\n";
        rc = 1;
      }
    }
    // Every server removes its own segment; this only catches a server that
    // was killed before it could.
    leftovers = keys.sweep();
  }
  const double total_s = static_cast<double>(now_ns() - ctx.started_ns) / 1e9;
  ctx.notes.push_back(std::string("cleanup: ") +
                      (leftovers == 0 ? "every segment was removed by its server"
                                      : std::to_string(leftovers) +
                                            " segment(s) outlived their server and were removed by the bench's sweep") +
                      "; temporary directory removed; bench took " + fixed(total_s, 1) + " s" +
                      (ctx.opt.quick ? " (--quick)" : ""));
  print_table("Machine: " + machine_line(), ctx.rows, ctx.notes);
  if (leftovers != 0 && rc == 0) rc = 1;
  return rc;
}
