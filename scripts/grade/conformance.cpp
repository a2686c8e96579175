// The grading kit's conformance suite: the course API only, plain std::string
// usage, compiled against a submission's headers. Built twice:
//   -DGRADE_SERVER, linked with the submission's libserver.a only;
//   -DGRADE_CLIENT, linked with the submission's libclient.a only.
// The other side of every exchange is written here with raw system calls, so
// nothing depends on another implementation. scripts/grade/grade.py runs each
// test in its own process under a time limit and turns it into one check.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#if defined(GRADE_SERVER)
#include "server.h"
#elif defined(GRADE_CLIENT)
#include "client.h"
#else
#error "build with -DGRADE_SERVER or -DGRADE_CLIENT"
#endif

namespace {

// ---------------------------------------------------------------- support

double now_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

std::string sys_err(const std::string &what) { return what + ": " + std::strerror(errno); }

// Shows bytes as a C string literal, so a trailing space or a missing
// newline is visible in the report.
std::string show_bytes(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '"') out += "\\\"";
    else if (c < 32 || c > 126) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

class TempDir {
 public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/grade-conf.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error(sys_err("mkdtemp"));
    path_ = buf.data();
  }
  ~TempDir() { remove_tree(path_); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string sub(const std::string &name) const { return path_ + "/" + name; }

 private:
  static void remove_tree(const std::string &p) {
    if (DIR *d = opendir(p.c_str())) {
      while (dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        std::string c = p + "/" + n;
        struct stat st;
        if (lstat(c.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(c);
        else unlink(c.c_str());
      }
      closedir(d);
    }
    rmdir(p.c_str());
  }
  std::string path_;
};

void write_file(const std::string &path, const std::string &text) {
  std::ofstream out(path.c_str(), std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool read_file(const std::string &path, std::string &text) {
  std::ifstream in(path.c_str(), std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

int fd_count() {
  int n = 0;
  if (DIR *d = opendir("/proc/self/fd")) {
    while (dirent *e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n - 1;  // the directory stream's own descriptor
}

// Segments whose creator is PID, from /proc/sysvipc/shm (key, shmid).
std::vector<std::pair<long, int>> segments_created_by(pid_t pid) {
  std::vector<std::pair<long, int>> out;
  std::ifstream in("/proc/sysvipc/shm");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    long key;
    int id, perms;
    unsigned long size;
    int cpid;
    ls >> key >> id >> perms >> size >> cpid;
    if (ls && cpid == pid) out.push_back({key, id});
  }
  return out;
}

bool segment_exists(key_t key) { return shmget(key, 0, 0) >= 0; }

// A segment made by the test (the other side of the client's shm channel).
class Segment {
 public:
  Segment(const std::string &path, int proj, const std::string &msg, size_t size = 4096, int mode = 0600)
      : key_(ftok(path.c_str(), proj)) {
    if (key_ == -1) throw std::runtime_error(sys_err("ftok " + path));
    id_ = shmget(key_, size, IPC_CREAT | IPC_EXCL | mode);
    if (id_ < 0) throw std::runtime_error(sys_err("shmget (test segment)"));
    if (!msg.empty()) {
      void *p = shmat(id_, nullptr, 0);
      if (p == reinterpret_cast<void *>(-1)) throw std::runtime_error(sys_err("shmat"));
      std::memcpy(p, msg.c_str(), msg.size() + 1);
      shmdt(p);
    }
  }
  ~Segment() { shmctl(id_, IPC_RMID, nullptr); }
  Segment(const Segment &) = delete;
  Segment &operator=(const Segment &) = delete;
  int id() const { return id_; }
  key_t key() const { return key_; }

 private:
  key_t key_;
  int id_ = -1;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

sockaddr_in inet(const std::string &ip, int port) {
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// A port nothing listens on right now (the sandbox has a network of its own).
int free_port() {
  Fd s(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a = inet("0.0.0.0", 0);
  if (bind(s.get(), reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) throw std::runtime_error(sys_err("bind"));
  socklen_t len = sizeof a;
  getsockname(s.get(), reinterpret_cast<sockaddr *>(&a), &len);
  return ntohs(a.sin_port);
}

// Connects within the deadline; -errno on failure.
int connect_to(const std::string &ip, int port, int timeout_ms = 3000) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  sockaddr_in a = inet(ip, port);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      return -e;
    }
    pollfd p = {fd, POLLOUT, 0};
    int err = ETIMEDOUT;
    socklen_t len = sizeof err;
    if (poll(&p, 1, timeout_ms) == 1) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return -err;
    }
  }
  fcntl(fd, F_SETFL, 0);
  return fd;
}

// Reads until end of stream or the deadline; sets timed_out.
std::string read_all(int fd, double seconds, bool &timed_out) {
  std::string out;
  double end = now_s() + seconds;
  timed_out = false;
  for (;;) {
    int left = static_cast<int>((end - now_s()) * 1000);
    if (left <= 0) {
      timed_out = true;
      return out;
    }
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, left) != 1) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// True when PATH holds the four fields of an info file.
bool info_complete(const std::string &path) {
  std::ifstream in(path.c_str());
  std::string field;
  int n = 0;
  while (n < 4 && in >> field) ++n;
  return n == 4;
}

// Waits (inotify) until the info file at PATH is complete, at most SECONDS.
// The client may assume every server has finished starting up; a server
// writing its file in place is still a moment away from that when the file
// appears.
bool wait_for_info(const std::string &dir, const std::string &path, double seconds) {
  Fd in(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  inotify_add_watch(in.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY);
  double end = now_s() + seconds;
  while (!info_complete(path)) {
    int left = static_cast<int>((end - now_s()) * 1000);
    if (left <= 0) return false;
    pollfd p = {in.get(), POLLIN, 0};
    if (poll(&p, 1, left) == 1) {
      char buf[4096];
      while (read(in.get(), buf, sizeof buf) > 0) {
      }
    }
  }
  return true;
}

// What a piece of the submission did in a child process.
struct Outcome {
  bool timed_out = false;
  int status = 0;
  pid_t pid = -1;
  double seconds = 0;
  std::string out, err;
  bool exited(int code) const { return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == code; }
  std::string describe() const {
    std::ostringstream s;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", seconds);
    if (timed_out) s << "still running after " << secs << " s (killed)";
    else if (WIFSIGNALED(status)) s << "killed by signal " << WTERMSIG(status) << " (" << strsignal(WTERMSIG(status)) << ")";
    else s << "exit " << WEXITSTATUS(status) << " after " << secs << " s";
    s << "; stdout " << show_bytes(out) << "; stderr " << show_bytes(err);
    return s.str();
  }
};

// Runs FN in a forked child with stdout/stderr captured, at most SECONDS.
Outcome in_child(const std::function<void()> &fn, double seconds) {
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) throw std::runtime_error(sys_err("pipe2"));
  std::fflush(nullptr);
  Outcome r;
  double start = now_s();
  r.pid = fork();
  if (r.pid < 0) throw std::runtime_error(sys_err("fork"));
  if (r.pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    fn();
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    _exit(0);
  }
  close(po[1]);
  close(pe[1]);
  Fd o(po[0]), e(pe[0]);
  bool open_o = true, open_e = true;
  double end = start + seconds;
  while (open_o || open_e) {
    int left = static_cast<int>((end - now_s()) * 1000);
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p[2] = {{open_o ? o.get() : -1, POLLIN, 0}, {open_e ? e.get() : -1, POLLIN, 0}};
    if (poll(p, 2, left) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!p[i].revents) continue;
      char buf[4096];
      ssize_t n = read(i ? e.get() : o.get(), buf, sizeof buf);
      if (n <= 0) (i ? open_e : open_o) = false;
      else (i ? r.err : r.out).append(buf, static_cast<size_t>(n));
    }
  }
  if (r.timed_out) kill(r.pid, SIGKILL);
  waitpid(r.pid, &r.status, 0);
  r.seconds = now_s() - start;
  return r;
}

// Exactly one line on stderr, starting "system error: ".
void expect_one_system_error_line(const Outcome &r) {
  size_t lines = 0;
  for (char c : r.err) lines += c == '\n';
  EXPECT_TRUE(r.err.rfind("system error: ", 0) == 0 && lines == 1 && r.err.back() == '\n')
      << "stderr must be exactly one line starting \"system error: \"; observed " << show_bytes(r.err);
  EXPECT_TRUE(r.exited(1)) << "expected exit(1); observed " << r.describe();
}

// A peer going away is a failed call at worst: exit 0 or 1 (the error
// line's form is the error contract's business), never death by a signal.
void expect_survives_peer_reset(const Outcome &r) {
  bool ok = !r.timed_out && WIFEXITED(r.status) && (WEXITSTATUS(r.status) == 0 || WEXITSTATUS(r.status) == 1);
  EXPECT_TRUE(ok) << "with the peer reset: " << r.describe();
}

void expect_nothing_left(const Outcome &r, const std::string &info_file) {
  auto segs = segments_created_by(r.pid);
  std::string list;
  for (auto &s : segs) list += " key " + std::to_string(s.first) + " (shmid " + std::to_string(s.second) + ")";
  EXPECT_TRUE(segs.empty()) << "left shared-memory segment(s) created by the failed process:" << list;
  for (auto &s : segs) shmctl(s.second, IPC_RMID, nullptr);
  EXPECT_FALSE(exists(info_file)) << "left the info file " << info_file;
}

std::vector<std::string> split_lines(const std::string &s) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else cur += c;
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

}  // namespace

#if defined(GRADE_SERVER)
// ================================================================ server

namespace {

// One server's setup in a temp dir: ftok file, info directory, a free port.
struct ServerFixture {
  TempDir tmp;
  server_setup_information setup{};
  std::string ftok_path, info_dir, info_file;
  int port = 0;
  int proj = 7;
  ServerFixture() {
    ftok_path = tmp.sub("ftok");
    write_file(ftok_path, "");
    info_dir = tmp.sub("info");
    mkdir(info_dir.c_str(), 0755);
    port = free_port();
    setup.port = static_cast<unsigned short>(port);
    setup.shm_pathname = ftok_path;
    setup.shm_proj_id = proj;
    setup.info_file_name = "srv-a";
    setup.info_file_directory = info_dir;
    info_file = info_dir + "/srv-a";
  }
  key_t key() const { return ftok(ftok_path.c_str(), proj); }
  ~ServerFixture() {
    int id = shmget(key(), 0, 0);
    if (id >= 0) shmctl(id, IPC_RMID, nullptr);
  }
};

// The address the info file announces (first line), or "".
std::string announced_ip(const std::string &info_file) {
  std::string text;
  if (!read_file(info_file, text)) return "";
  auto lines = split_lines(text);
  std::string ip = lines.empty() ? "" : lines[0];
  if (!ip.empty() && ip.back() == '\r') ip.pop_back();
  return ip;
}

}  // namespace

TEST(Server, StartCommunication) {
  ServerFixture f;
  live_server_info server{};
  start_communication(f.setup, server);
  int id = shmget(f.key(), 0, 0);
  EXPECT_GE(id, 0) << "no segment under ftok(shm_pathname, shm_proj_id) after start_communication";
  EXPECT_EQ(server.shmid, id) << "live_server_info.shmid is " << server.shmid << ", the segment's id " << id;
  int listening = 0;
  socklen_t len = sizeof listening;
  EXPECT_EQ(getsockopt(server.server_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len), 0)
      << "server_fd " << server.server_fd << " is not a socket";
  EXPECT_EQ(listening, 1) << "server_fd " << server.server_fd << " is not listening";
  sockaddr_in a = {};
  len = sizeof a;
  getsockname(server.server_fd, reinterpret_cast<sockaddr *>(&a), &len);
  EXPECT_EQ(ntohs(a.sin_port), f.port) << "the socket listens on port " << ntohs(a.sin_port) << ", not the given " << f.port;
  shutdown(server);
}

TEST(Server, CreateInfoFile) {
  ServerFixture f;
  live_server_info server{};
  start_communication(f.setup, server);
  create_info_file(f.setup, server);
  std::string path = server.info_file_path;
  std::string text;
  bool readable = read_file(f.info_file, text);
  EXPECT_TRUE(readable) << "no file " << f.info_file << " (info_file_directory/info_file_name)";
  char a[PATH_MAX], b[PATH_MAX];
  bool same = realpath(path.c_str(), a) && realpath(f.info_file.c_str(), b) && std::string(a) == b;
  EXPECT_TRUE(same) << "info_file_path is " << show_bytes(path) << ", the file is " << f.info_file;
  if (readable) {
    // Line by line (the final newline and CR are interop notes, checked apart).
    auto lines = split_lines(text);
    for (auto &l : lines)
      if (!l.empty() && l.back() == '\r') l.pop_back();
    ASSERT_EQ(lines.size(), 4u) << "expected 4 lines (IP, port, shm_pathname, proj_id); file is " << show_bytes(text);
    in_addr ip;
    EXPECT_TRUE(inet_pton(AF_INET, lines[0].c_str(), &ip) == 1 && ip.s_addr != 0)
        << "first line is not the machine's IPv4 address: " << show_bytes(lines[0]);
    EXPECT_EQ(lines[1], std::to_string(f.port)) << "second line is not the port " << f.port << ": " << show_bytes(lines[1]);
    EXPECT_EQ(lines[2], f.ftok_path) << "third line is not shm_pathname " << f.ftok_path << ": " << show_bytes(lines[2]);
    EXPECT_EQ(lines[3], std::to_string(f.proj)) << "fourth line is not shm_proj_id " << f.proj << ": " << show_bytes(lines[3]);
    int fd = connect_to(lines[0], f.port);
    EXPECT_GE(fd, 0) << "cannot connect to the announced " << lines[0] << ":" << f.port << ": "
                     << std::strerror(-fd);
    if (fd >= 0) close(fd);
  }
  shutdown(server);
}

TEST(Interop, InfoFileFinalNewline) {
  ServerFixture f;
  live_server_info server{};
  start_communication(f.setup, server);
  create_info_file(f.setup, server);
  std::string text;
  read_file(f.info_file, text);
  shutdown(server);
  EXPECT_TRUE(!text.empty() && text.back() == '\n') << "info file does not end with a newline: " << show_bytes(text);
  EXPECT_EQ(text.find('\r'), std::string::npos) << "info file has CRLF line ends: " << show_bytes(text);
}

TEST(Server, GetConnectionAndWriteToSocket) {
  ServerFixture f;
  live_server_info server{};
  start_communication(f.setup, server);
  create_info_file(f.setup, server);
  std::string ip = announced_ip(f.info_file);
  Fd c(connect_to(ip, f.port));
  ASSERT_GE(c.get(), 0) << "cannot connect to " << ip << ":" << f.port << ": " << std::strerror(-c.get());
  EXPECT_EQ(get_connection(server), 0) << "get_connection with a client waiting did not return 0";
  write_to_socket(server, "sock-msg-1");
  // The client reads until the server ends the stream; shutdown may wait for
  // the client to close, so it runs beside the read.
  std::thread closer([&server] { shutdown(server); });
  bool timed_out;
  std::string got = read_all(c.get(), 3, timed_out);
  c.reset();
  closer.join();
  EXPECT_TRUE(got == std::string("sock-msg-1")) << "observed " << show_bytes(got) << (timed_out ? " (stream not ended within 3 s)" : "");
}

TEST(Server, WriteToShm) {
  ServerFixture f;
  live_server_info server{};
  start_communication(f.setup, server);
  write_to_shm(server, "shm-msg-1");
  void *p = shmat(server.shmid, nullptr, SHM_RDONLY);
  ASSERT_NE(p, reinterpret_cast<void *>(-1)) << sys_err("shmat");
  std::string got(static_cast<const char *>(p), strnlen(static_cast<const char *>(p), 4096));
  shmdt(p);
  shutdown(server);
  EXPECT_TRUE(got == std::string("shm-msg-1")) << "segment holds " << show_bytes(got);
}

TEST(Server, Shutdown) {
  ServerFixture f;
  int fds_before = fd_count();
  live_server_info server{};
  start_communication(f.setup, server);
  create_info_file(f.setup, server);
  std::string ip = announced_ip(f.info_file);
  shutdown(server);
  EXPECT_FALSE(segment_exists(f.key())) << "segment still allocated after shutdown";
  EXPECT_FALSE(exists(f.info_file)) << "info file " << f.info_file << " still there after shutdown";
  int fd = connect_to(ip, f.port);
  EXPECT_EQ(fd, -ECONNREFUSED) << "connecting to port " << f.port << " after shutdown: " << (fd >= 0 ? "accepted" : std::strerror(-fd)) << " (expected refused)";
  if (fd >= 0) close(fd);
  EXPECT_EQ(fd_count(), fds_before) << "descriptors left open by start_communication + shutdown: " << fd_count() - fds_before;
}

TEST(Server, Run) {
  ServerFixture f;
  Outcome r;
  std::string shm_got, sock_got;
  bool sock_timed_out = false;
  std::thread peer([&] {
    if (!wait_for_info(f.info_dir, f.info_file, 10)) return;
    // The segment exists once the info file does (step 1 before 2); the
    // message is in it once the socket message arrives (step 3 before 5).
    // Attached first, it stays readable after the server removes it.
    int id = shmget(f.key(), 0, 0);
    void *p = id >= 0 ? shmat(id, nullptr, SHM_RDONLY) : reinterpret_cast<void *>(-1);
    Fd c(connect_to(announced_ip(f.info_file), f.port));
    if (c.get() >= 0) sock_got = read_all(c.get(), 5, sock_timed_out);
    if (p != reinterpret_cast<void *>(-1)) {
      shm_got.assign(static_cast<const char *>(p), strnlen(static_cast<const char *>(p), 4096));
      shmdt(p);
    }
  });
  r = in_child([&] { run(f.setup, "run-shm", "run-sock"); }, 20);
  peer.join();
  EXPECT_TRUE(shm_got == std::string("run-shm")) << "shared memory held " << show_bytes(shm_got) << " while the server waited";
  EXPECT_TRUE(sock_got == std::string("run-sock")) << "socket sent " << show_bytes(sock_got)
                                  << (sock_timed_out ? " (stream not ended within 5 s)" : "");
  EXPECT_TRUE(r.exited(0)) << "run: " << r.describe();
  EXPECT_FALSE(segment_exists(f.key())) << "segment left after run returned";
  EXPECT_FALSE(exists(f.info_file)) << "info file left after run returned";
}

TEST(Sigpipe, Server) {
  ServerFixture f;
  Outcome r = in_child(
      [&] {
        live_server_info server{};
        start_communication(f.setup, server);
        create_info_file(f.setup, server);
        Fd c(connect_to(announced_ip(f.info_file), f.port));
        if (get_connection(server) != 0) _exit(3);
        // The client resets the connection before the message goes out.
        linger l = {1, 0};
        setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        c.reset();
        // Collect the pending ECONNRESET on every socket (wherever the
        // submission keeps the accepted one): the next send then meets EPIPE,
        // which raises SIGPIPE unless the server asked not to.
        for (int fd = 3; fd < 1024; ++fd) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
        std::string big(65536, 'x');
        write_to_socket(server, big);
        write_to_socket(server, big);
        shutdown(server);
      },
      15);
  expect_survives_peer_reset(r);
}

TEST(ErrorContract, BindFailure) {
  ServerFixture f;
  // The port is taken on every address: bind must fail.
  Fd taken(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a = inet("0.0.0.0", f.port);
  ASSERT_EQ(bind(taken.get(), reinterpret_cast<sockaddr *>(&a), sizeof a), 0) << sys_err("bind");
  ASSERT_EQ(listen(taken.get(), 1), 0) << sys_err("listen");
  Outcome r = in_child([&] { run(f.setup, "m1", "m2"); }, 10);
  expect_one_system_error_line(r);
  expect_nothing_left(r, f.info_file);
}

TEST(ErrorContract, MissingInfoDirectory) {
  ServerFixture f;
  f.setup.info_file_directory = f.tmp.sub("no-such-dir");
  Outcome r = in_child([&] { run(f.setup, "m1", "m2"); }, 10);
  expect_one_system_error_line(r);
  expect_nothing_left(r, f.tmp.sub("no-such-dir/srv-a"));
}

TEST(ErrorContract, ShmgetFailure) {
  ServerFixture f;
  // A segment of 1 byte and mode 000 under the server's key: shmget for a
  // page fails (EEXIST with IPC_EXCL, else EINVAL/EACCES).
  Segment occupied(f.ftok_path, f.proj, "", 1, 0);
  Outcome r = in_child([&] { run(f.setup, "m1", "m2"); }, 10);
  expect_one_system_error_line(r);
  expect_nothing_left(r, f.info_file);
  EXPECT_TRUE(segment_exists(occupied.key())) << "the failed server removed a segment it did not create";
}

#else
// ================================================================ client

namespace {

// The server side of one info file, made with raw calls: a segment holding
// NAME-shm (optional), a loopback listener answering NAME-sock (optional).
class FakeServer {
 public:
  FakeServer(const TempDir &tmp, const std::string &name, int proj, bool shm, bool sock, bool drop_syns = false,
             bool reset = false)
      : name_(name), reset_(reset) {
    ftok_path_ = tmp.sub("ftok-" + name);
    write_file(ftok_path_, "");
    if (shm) seg_.reset(new Segment(ftok_path_, proj, name + "-shm"));
    if (sock || drop_syns) {
      listener_.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a = inet("127.0.0.1", 0);
      if (bind(listener_.get(), reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
          listen(listener_.get(), drop_syns ? 0 : 16) != 0)
        throw std::runtime_error(sys_err("bind/listen"));
      socklen_t len = sizeof a;
      getsockname(listener_.get(), reinterpret_cast<sockaddr *>(&a), &len);
      port_ = ntohs(a.sin_port);
      if (drop_syns) fill_queue();
      else {
        if (pipe2(stop_, O_CLOEXEC) != 0) throw std::runtime_error(sys_err("pipe2"));
        thread_ = std::thread([this] { serve(); });
      }
    } else {
      port_ = free_port();  // nothing listens: connect is refused at once
    }
    std::ostringstream info;
    info << "127.0.0.1\n" << port_ << "\n" << ftok_path_ << "\n" << proj << "\n";
    write_file(tmp.sub("info/" + name), info.str());
  }
  ~FakeServer() {
    if (thread_.joinable()) {
      (void)!write(stop_[1], "x", 1);
      thread_.join();
    }
    for (int fd : stop_)
      if (fd >= 0) close(fd);
    for (int fd : fillers_) close(fd);
    for (int fd : conns_) close(fd);
  }
  int shmid() const { return seg_ ? seg_->id() : -1; }
  const std::string &ftok_path() const { return ftok_path_; }

 private:
  // Answers every connection: the message, then end of stream.
  void serve() {
    for (;;) {
      pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(p, 2, -1) < 0 || p[1].revents) return;
      int c = accept(listener_.get(), nullptr, nullptr);
      if (c < 0) continue;
      if (reset_) {
        linger l = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c);
        continue;
      }
      std::string m = name_ + "-sock";
      (void)!send(c, m.data(), m.size(), MSG_NOSIGNAL);
      ::shutdown(c, SHUT_WR);
      conns_.push_back(c);
    }
  }
  // With a backlog of 0 the accept queue is full after one connection; the
  // kernel then drops further SYNs: a black hole for the client's connect.
  void fill_queue() {
    for (int i = 0; i < 8; ++i) {
      int s = connect_to("127.0.0.1", port_, 300);
      if (s < 0) return;
      fillers_.push_back(s);
    }
    throw std::runtime_error("could not fill the accept queue of a SYN-dropping listener");
  }
  std::string name_, ftok_path_;
  bool reset_;
  std::unique_ptr<Segment> seg_;
  Fd listener_;
  int port_ = 0;
  int stop_[2] = {-1, -1};
  std::thread thread_;
  std::vector<int> conns_, fillers_;
};

struct ClientFixture {
  TempDir tmp;
  std::string dir;
  ClientFixture() {
    dir = tmp.sub("info");
    mkdir(dir.c_str(), 0755);
  }
};

const char *const kMixedSummary =
    "Total Servers: 3\nHost: 1\nContainer: 1\nVM: 1\nMessages: a-shm a-sock b-sock\n";

}  // namespace

TEST(Client, CountServersReturnsAndAppends) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true), b(f.tmp, "b", 2, false, true), c(f.tmp, "c", 3, false, false);
  std::vector<live_server_info> servers(1);
  servers[0].shmid = 4242;
  int n = count_servers(f.dir, servers);
  EXPECT_EQ(n, 3) << "count_servers returned " << n << " for 3 info files";
  ASSERT_EQ(servers.size(), 4u) << "count_servers must append one live_server_info per info file to the vector";
  EXPECT_EQ(servers[0].shmid, 4242) << "the vector's existing element was changed";
  disconnect(servers);
}

TEST(Client, SortedOrder) {
  ClientFixture f;
  // Created out of order; the client must order them by name.
  FakeServer b(f.tmp, "b-srv", 2, true, false), c(f.tmp, "c-srv", 3, true, false), a(f.tmp, "a-srv", 1, true, false);
  std::vector<live_server_info> servers;
  count_servers(f.dir, servers);
  ASSERT_EQ(servers.size(), 3u) << "count_servers added " << servers.size() << " entries for 3 info file(s)";
  std::ostringstream got;
  for (auto &s : servers) got << s.shmid << " ";
  EXPECT_TRUE(servers[0].shmid == a.shmid() && servers[1].shmid == b.shmid() && servers[2].shmid == c.shmid())
      << "expected shmids in file-name order " << a.shmid() << " " << b.shmid() << " " << c.shmid() << ", got "
      << got.str();
  disconnect(servers);
}

TEST(Client, MissingSegmentIsMinusOne) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, false, true);
  std::vector<live_server_info> servers;
  count_servers(f.dir, servers);
  ASSERT_EQ(servers.size(), 1u) << "count_servers added " << servers.size() << " entries for 1 info file(s)";
  EXPECT_EQ(servers[0].shmid, -1) << "shmid for a server without a segment is " << servers[0].shmid;
  disconnect(servers);
}

TEST(Client, NoIpcCreat) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 9, false, true);
  std::vector<live_server_info> servers;
  count_servers(f.dir, servers);
  disconnect(servers);
  key_t key = ftok(a.ftok_path().c_str(), 9);
  int id = shmget(key, 0, 0);
  if (id >= 0) shmctl(id, IPC_RMID, nullptr);
  EXPECT_LT(id, 0) << "the client created a segment (shmget with IPC_CREAT) for a server that has none";
}

TEST(Client, GetMessageFromShm) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true);
  std::vector<live_server_info> servers;
  count_servers(f.dir, servers);
  ASSERT_EQ(servers.size(), 1u) << "count_servers added " << servers.size() << " entries for 1 info file(s)";
  std::string msg;
  get_message_from_shm(servers[0], msg);
  EXPECT_TRUE(msg == std::string("a-shm")) << "observed " << show_bytes(msg);
  disconnect(servers);
}

TEST(Client, GetMessageFromSocket) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true);
  std::vector<live_server_info> servers;
  count_servers(f.dir, servers);
  ASSERT_EQ(servers.size(), 1u) << "count_servers added " << servers.size() << " entries for 1 info file(s)";
  std::string msg;
  Outcome r = in_child(
      [&] {
        get_message_from_socket(servers[0], msg);
        std::cout << msg;
      },
      8);
  EXPECT_TRUE(r.exited(0) && r.out == "a-sock") << "observed " << r.describe();
  disconnect(servers);
}

TEST(Client, PrintServerInfosFormat) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true), b(f.tmp, "b", 2, false, true), c(f.tmp, "c", 3, false, false);
  Outcome r = in_child(
      [&] {
        std::vector<live_server_info> servers;
        count_servers(f.dir, servers);
        print_server_infos(servers);
        disconnect(servers);
      },
      12);
  EXPECT_TRUE(r.out == std::string(kMixedSummary)) << "summary for one host, one container and one VM server, byte for byte: "
                                  << "expected " << show_bytes(kMixedSummary) << ", observed " << show_bytes(r.out)
                                  << (r.exited(0) ? "" : "; " + r.describe());
}

TEST(Client, Run) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true), b(f.tmp, "b", 2, false, true), c(f.tmp, "c", 3, false, false);
  Outcome r = in_child([&] { run(f.dir); }, 12);
  EXPECT_TRUE(r.exited(0)) << "run: " << r.describe();
  EXPECT_TRUE(r.out == std::string(kMixedSummary)) << "expected " << show_bytes(kMixedSummary) << ", observed " << show_bytes(r.out);
  EXPECT_TRUE(r.err == std::string("")) << "run printed on stderr: " << show_bytes(r.err);
}

TEST(Sigpipe, Client) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true, false, /*reset=*/true);
  Outcome r = in_child([&] { run(f.dir); }, 12);
  expect_survives_peer_reset(r);
}

TEST(Client, Disconnect) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, true, true), b(f.tmp, "b", 2, true, true);
  // In a child: the fake servers' own descriptors stay in this process.
  Outcome r = in_child(
      [&] {
        int before = fd_count();
        std::vector<live_server_info> servers;
        count_servers(f.dir, servers);
        disconnect(servers);
        std::cout << fd_count() - before;
      },
      12);
  EXPECT_TRUE(r.exited(0) && r.out == "0") << "descriptors left open after count_servers + disconnect: " << r.describe();
  EXPECT_TRUE(segment_exists(ftok(a.ftok_path().c_str(), 1)) && segment_exists(ftok(b.ftok_path().c_str(), 2)))
      << "disconnect deallocated a server's segment (that is the server's job)";
}

TEST(Timeouts, ClientConnectBlackHole) {
  ClientFixture f;
  FakeServer a(f.tmp, "a", 1, false, false, /*drop_syns=*/true);
  Outcome r = in_child([&] { run(f.dir); }, 15);
  auto lines = split_lines(r.out);
  if (lines.size() == 5 && (lines[4] == "Messages: ")) lines[4] = "Messages:";
  std::string got;
  for (auto &l : lines) got += l + "\n";
  ASSERT_TRUE(r.exited(0) && r.seconds <= 8.0)
      << "a server that drops SYNs: the client must give up after 5 s (+3 s margin); observed: " << r.describe();
  EXPECT_TRUE(got == std::string("Total Servers: 1\nHost: 0\nContainer: 0\nVM: 1\nMessages:\n"))
      << "classification of an unreachable server: observed " << show_bytes(r.out);
}

TEST(ErrorContract, ClientMissingDirectory) {
  TempDir tmp;
  std::string missing = tmp.sub("no-such-dir");
  Outcome r = in_child([&] { run(missing); }, 10);
  expect_one_system_error_line(r);
}

#endif
