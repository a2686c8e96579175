#!/usr/bin/env python3
"""The grading kit: grades one EX5 submission (a directory whose Makefile
builds libserver.a and libclient.a) or a directory of them. Started by
scripts/grade.sh, which also builds the reference programs. Every piece of
student code (its make, the kit's programs linked with it, the lab's
servers and clients) runs as an unprivileged user in namespaces of its own,
under CPU, memory and wall-clock limits. See README "Grading submissions"."""

import argparse
import base64
import concurrent.futures
import csv
import fnmatch
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the checkout
from checks import meta  # noqa: E402

KIT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(KIT))
COURSE_HEADERS = os.path.join(REPO, "cpp-tests", "course-headers")
PROGRAMS = os.path.join(REPO, "cpp-tests", "programs")
HEADERS = ("globals.h", "server.h", "client.h")
ENVS = ("host", "container", "apptainer", "vm")
NOBODY = 65534
IS_ROOT = os.geteuid() == 0
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GB = 1 << 30
# Tasks (processes and threads) one sandboxed run may have at once, when a
# pids cgroup can be made: generous for make, g++ and a test with its
# servers; a fork bomb stops here, on its own, whatever else runs as nobody.
PIDS_MAX = 512

# Time limits (seconds of wall clock) for each step that runs student code.
T_BUILD = 180
T_COMPILE = 240
T_TEST = 30
T_HOST = 60
T_VALGRIND = 150
T_LAB = 240


class Result:
    def __init__(self, rc, out, err, seconds, timed_out):
        self.rc, self.out, self.err, self.seconds, self.timed_out = rc, out, err, seconds, timed_out


def run(cmd, timeout, cwd=None, env=None):
    """Runs CMD in a session of its own; on timeout the whole group dies."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                         start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        # SIGTERM first: lab/run tears down on it; then SIGKILL for the rest.
        try:
            os.killpg(p.pid, signal.SIGTERM)
            out, err = p.communicate(timeout=20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = p.communicate()
    return Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                  time.monotonic() - start, timed_out)


class PidsCgroups:
    """One pids cgroup per sandboxed run, under this process's own (cgroup
    v1 pids hierarchy, or v2 with the pids controller enabled below it).
    `usable` is None when they can be made, else why not."""

    numbers = itertools.count(1)  # unique across the Graders of a batch

    def __init__(self):
        self.parent, self.usable = self.find_parent()
        self.lock = threading.Lock()  # conformance runs sandboxes in threads
        self.hits = 0
        self.left = []

    @staticmethod
    def find_parent():
        if not IS_ROOT:
            return None, "not root: no cgroup to write"
        try:
            lines = open("/proc/self/cgroup").read().splitlines()
        except OSError as e:
            return None, "cannot read /proc/self/cgroup: %s" % e.strerror
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "pids" in controllers.split(","):
                parent = "/sys/fs/cgroup/pids" + path
                break
        else:
            unified = [l.split(":", 2)[2] for l in lines if l.startswith("0::")]
            if not unified:
                return None, "no pids controller in /proc/self/cgroup"
            parent = "/sys/fs/cgroup" + unified[0]
            try:
                enabled = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
            except OSError:
                enabled = []
            if "pids" not in enabled:
                return None, "the pids controller is not enabled below %s" % parent
        if not os.access(parent, os.W_OK):
            return None, "%s is not writable" % parent
        return parent, None

    def make(self):
        """A fresh cgroup capped at PIDS_MAX tasks; None when none can be made."""
        if self.usable is not None:
            return None
        path = os.path.join(self.parent, "isoprobe-grade.%d.%d" % (os.getpid(), next(self.numbers)))
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(PIDS_MAX))
        except OSError as e:
            self.usable = "cannot make a pids cgroup in %s: %s" % (self.parent, e.strerror)
            try:
                os.rmdir(path)
            except OSError:
                pass
            return None
        return path

    def release(self, path):
        """Counts how often the run hit the cap, then removes the cgroup:
        its processes are gone once the run's pid namespace ended (after a
        timeout, killed ones may still be exiting: retried at the end)."""
        hits = 0
        try:
            for line in open(os.path.join(path, "pids.events")):
                key, _, value = line.partition(" ")
                if key == "max":
                    hits = int(value)
        except OSError:
            pass
        try:
            os.rmdir(path)
            gone = True
        except OSError:
            gone = False
        with self.lock:
            self.hits += hits
            if not gone:
                self.left.append(path)

    def release_left(self):
        """Kills what is left in cgroups whose run timed out and removes them."""
        for path in self.left:
            for _ in range(100):
                try:
                    pids = open(os.path.join(path, "cgroup.procs")).read().split()
                except OSError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.05)  # SIGKILLed tasks still exiting: nothing to wait on
        self.left = []


def one_line(text, limit=300):
    text = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_error(text):
    """The compiler's (or make's) first error line."""
    lines = [l for l in text.splitlines() if l.strip()]
    for l in lines:
        if re.search(r"\berror\b|Error \d|undefined reference|No rule to make", l):
            return l.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"


def chown_tree(path):
    if not IS_ROOT:
        return
    for root, dirs, files in os.walk(path):
        for p in [root] + [os.path.join(root, n) for n in dirs + files]:
            try:
                os.lchown(p, NOBODY, NOBODY)
            except FileNotFoundError:
                pass


class Grader:
    def __init__(self, submission, args):
        self.submission = os.path.abspath(submission)
        self.args = args
        self.checks = []
        self.notes = []
        self.started = time.monotonic()
        self.scratch = tempfile.mkdtemp(prefix="isoprobe-grade.")
        os.chmod(self.scratch, 0o755)
        self.sub = os.path.join(self.scratch, "sub")
        self.bin = os.path.join(self.scratch, "bin")
        self.kit = os.path.join(self.scratch, "kit")
        self.ref = os.path.join(self.scratch, "ref")
        self.tmp = os.path.join(self.scratch, "tmp")
        self.hdr = os.path.join(self.scratch, "hdr")
        self.hosts = os.path.join(self.scratch, "hosts")
        self.build_dir = args.build_dir
        self.cgroups = PidsCgroups()

    # ------------------------------------------------------------ checks
    def add(self, cid, status, detail=""):
        title, required, sentence = meta(cid)
        if status == "fail" and not required:
            status = "warn"
        self.checks.append({"id": cid, "title": title, "status": status, "detail": detail,
                            "assignment": sentence, "required": required})

    # ------------------------------------------------------------ sandbox
    def sandbox(self, cmd, timeout, cpu=120, mem=2 * GB, cwd=None):
        ns = ["unshare"]
        if not IS_ROOT:
            ns += ["--user", "--map-root-user"]
        ns += ["--net", "--ipc", "--uts", "--mount", "--propagation", "private", "--pid", "--fork",
               "--kill-child=SIGKILL", "--mount-proc", "--"]
        env = ["env", "-i", "PATH=" + PATH, "HOME=" + self.tmp, "TMPDIR=" + self.tmp, "LANG=C.UTF-8",
               "GRADE_HOSTS=" + self.hosts,
               "GRADE_SCRATCH=" + self.scratch]
        cgroup = self.cgroups.make()
        if cgroup:
            env.append("GRADE_CGROUP=" + cgroup)
        try:
            return run(ns + env + [os.path.join(self.kit, "sandbox.sh"), str(cpu), str(mem), "--"] + cmd,
                       timeout, cwd=cwd or self.scratch)
        finally:
            if cgroup:
                self.cgroups.release(cgroup)

    def sandbox_how(self):
        who = "user nobody" if IS_ROOT else "the calling user (not root: cannot switch users)"
        if self.cgroups.usable is None:
            cap = "at most %d tasks per run (a pids cgroup of its own)" % PIDS_MAX
        else:
            cap = "no per-run task cap (%s)" % self.cgroups.usable
        return ("as %s in its own network (lo only, 198.18.0.1), IPC, UTS, mount and pid namespaces; "
                "CPU, address-space and wall-clock limits; %s" % (who, cap))

    # ------------------------------------------------------------ steps
    def prepare(self):
        shutil.copytree(self.submission, self.sub, symlinks=True)
        for d in (self.bin, self.kit, self.ref, self.tmp, self.hdr):
            os.makedirs(d, exist_ok=True)
        for f in ("conformance.cpp", "peer_client.cpp", "sandbox.sh", "private_tmp.sh", "host_steps.sh", "settle_client.sh"):
            shutil.copy2(os.path.join(KIT, f), self.kit)
        for f in ("course_server.cpp", "course_client.cpp"):
            shutil.copy2(os.path.join(PROGRAMS, f), self.kit)
        for f in ("course_server", "course_client", "course_server_static"):
            src = os.path.join(self.build_dir, "cpp-tests", f)
            if os.path.exists(src):
                shutil.copy2(src, self.ref)
        shutil.copytree(os.path.join(REPO, "lab"), os.path.join(self.scratch, "lab"), symlinks=True)
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1 localhost\n198.18.0.1 isoprobe-grade\n")
        # Headers: the submission's root, else its include/, else the kit's
        # course headers (then also put beside its Makefile, where a student
        # build expects them).
        origin = []
        for h in HEADERS:
            for d, label in ((self.sub, "submission root"), (os.path.join(self.sub, "include"), "include/")):
                if os.path.isfile(os.path.join(d, h)):
                    shutil.copy2(os.path.join(d, h), self.hdr)
                    origin.append(label)
                    break
            else:
                shutil.copy2(os.path.join(COURSE_HEADERS, h), self.hdr)
                shutil.copy2(os.path.join(COURSE_HEADERS, h), self.sub)
                origin.append("the kit's course headers")
        self.headers_from = ", ".join(sorted(set(origin)))
        # Only what student code must write belongs to nobody: the kit's
        # scripts (sandbox.sh runs as root of the namespaces) stay root's.
        for d in (self.sub, self.bin, self.tmp):
            chown_tree(d)

    def build(self):
        r = self.sandbox(["make", "-C", self.sub], T_BUILD, cpu=T_BUILD * 2, mem=4 * GB)
        if r.timed_out:
            self.add("build", "fail", "make did not finish within %d s (killed)" % T_BUILD)
            return False
        if r.rc != 0:
            self.add("build", "fail", "make exited %d: %s" % (r.rc, first_error(r.err + "\n" + r.out)))
            return False
        missing = [l for l in ("libserver.a", "libclient.a") if not os.path.isfile(os.path.join(self.sub, l))]
        if missing:
            self.add("build", "fail", "make succeeded but left no %s in the submission's root" % " or ".join(missing))
            return False
        self.add("build", "pass", "make: %.1f s; headers from %s" % (r.seconds, self.headers_from))
        return True

    def headers_self_contained(self):
        """True when the headers include no local header but each other:
        then they alone decide what the kit's objects compile to."""
        for h in HEADERS:
            with open(os.path.join(self.hdr, h), errors="replace") as f:
                for inc in re.findall(r'#\s*include\s*"([^"]+)"', f.read()):
                    if inc not in HEADERS:
                        return False
        return True

    def object_key(self, src, defs):
        """Cache key of one kit object: compiler, GoogleTest, source, headers."""
        h = hashlib.sha256()
        h.update(run(["g++", "-dumpfullversion", "-dumpmachine"], 30).out.encode())
        for path in ["/usr/include/gtest/gtest.h", src] + [os.path.join(self.hdr, x) for x in HEADERS]:
            try:
                with open(path, "rb") as f:
                    h.update(f.read())
            except OSError:
                h.update(b"-")
        h.update(" ".join(defs).encode())
        return h.hexdigest()[:32]

    def compile_kit(self):
        inc = ["-I", self.hdr, "-I", self.sub, "-I", os.path.join(self.sub, "include")]
        libs = ["-pthread", "-ldl", "-lrt"]
        gtest = ["-lgtest", "-lgtest_main"]
        srv, cli = os.path.join(self.sub, "libserver.a"), os.path.join(self.sub, "libclient.a")
        conf = os.path.join(self.kit, "conformance.cpp")
        course_server = os.path.join(self.kit, "course_server.cpp")
        # name: (source, compile flags, the submission's archive, link flags)
        jobs = {
            "conf_server": (conf, ["-DGRADE_SERVER"], srv, gtest),
            "conf_client": (conf, ["-DGRADE_CLIENT"], cli, gtest),
            "server": (course_server, [], srv, []),
            "client": (os.path.join(self.kit, "course_client.cpp"), [], cli, []),
            "peer_client": (os.path.join(self.kit, "peer_client.cpp"), [], None, []),
            "server_static": (course_server, [], srv, ["-static"]),
        }
        # Most submissions use the course headers: the kit's objects (the
        # GoogleTest suite takes the longest to compile) are then the same
        # for all of them and come from a cache; only the link is theirs.
        cacheable = self.headers_self_contained()
        cache = self.args.object_cache
        self.cache_hits = 0

        def one(name):
            src, defs, lib, lflags = jobs[name]
            obj = os.path.join(self.bin, name + ".o")
            use_cache = bool(cache) and (cacheable or lib is None)
            cpath = os.path.join(cache, self.object_key(src, defs) + ".o") if use_cache else ""
            if use_cache and os.path.isfile(cpath):
                shutil.copy2(cpath, obj)
                chown_tree(obj)
                self.cache_hits += 1
            else:
                r = self.sandbox(["g++", "-std=c++17", "-O1"] + defs + inc + ["-c", src, "-o", obj],
                                 T_COMPILE, T_COMPILE, 4 * GB)
                if r.rc != 0 or r.timed_out:
                    return False, "timed out" if r.timed_out else first_error(r.err)
                if use_cache:
                    try:
                        os.makedirs(cache, exist_ok=True)
                        tmp = "%s.%d.tmp" % (cpath, os.getpid())
                        shutil.copy2(obj, tmp)
                        os.replace(tmp, cpath)
                    except OSError:
                        pass
            r = self.sandbox(["g++"] + lflags[:1 if lflags == ["-static"] else 0] + [obj, "-o", os.path.join(self.bin, name)]
                             + ([lib] if lib else []) + [f for f in lflags if f != "-static"] + libs,
                             T_COMPILE, T_COMPILE, 4 * GB)
            if r.rc != 0 or r.timed_out:
                return False, "timed out" if r.timed_out else first_error(r.err)
            return True, ""

        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as ex:
            self.compiled = dict(zip(jobs, ex.map(one, jobs)))
        bad = ["%s: %s" % (k, why) for k, (ok, why) in self.compiled.items() if not ok and k != "server_static"]
        if bad:
            self.add("conformance.compile", "fail", "; ".join(bad))
        else:
            self.add("conformance.compile", "pass", "the kit's course-API programs compile against the submission's "
                     "headers and link with its archives (%d of %d objects from the cache)" % (self.cache_hits, len(jobs)))

    def conformance(self):
        tests = []
        for b in ("conf_server", "conf_client"):
            if not self.compiled[b][0]:
                continue
            r = self.sandbox([os.path.join(self.bin, b), "--gtest_list_tests"], T_TEST)
            suite = None
            for line in r.out.splitlines():
                if not line.startswith(" ") and line.endswith("."):
                    suite = line[:-1]
                elif line.startswith("  ") and suite:
                    tests.append((b, suite + "." + line.strip().split()[0]))
        if not tests:
            return
        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as ex:
            results = list(ex.map(lambda t: (t, self.sandbox(
                [os.path.join(self.bin, t[0]), "--gtest_filter=" + t[1], "--gtest_color=no"], T_TEST, cpu=T_TEST,
                mem=2 * GB)), tests))
        for (b, name), r in results:
            suite = name.split(".")[0]
            prefix = {"ErrorContract": "error.", "Timeouts": "timeouts.", "Interop": "interop.", "Sigpipe": "hygiene."}.get(suite, "conformance.")
            cid = prefix + name
            if r.timed_out:
                self.add(cid, "fail", "did not finish within %d s (killed): a hang in the submission's code" % T_TEST)
            elif r.rc == 0 and "[  PASSED  ] 1 test" in r.out:
                self.add(cid, "pass", "%.2f s" % r.seconds)
            else:
                self.add(cid, "fail", self.gtest_failure(r))

    @staticmethod
    def gtest_failure(r):
        msgs, cur = [], None
        for line in r.out.splitlines():
            if re.match(r".*:\d+: Failure$", line) or line.endswith("Failure"):
                cur = []
                msgs.append(cur)
            elif line.startswith("[") or line.startswith("Expected") or line.startswith("Which is") or not line.strip():
                if line.startswith("[") or not line.strip():
                    cur = None
            elif cur is not None:
                cur.append(line.strip())
        # Every EXPECT of the suite ends with a one-line message saying what
        # was observed: the block's last line.
        text = " / ".join(m[-1] for m in msgs if m)
        if not text:
            if r.rc is not None and r.rc < 0:
                text = "the test process was killed by signal %d" % -r.rc
            else:
                text = "the test process exited %s before the test finished" % r.rc
            if r.err.strip():
                text += "; stderr: " + one_line(r.err, 200)
        return text[:600]

    def host_steps(self, mode, client, timeout):
        work = os.path.join(self.tmp, "host-" + mode)
        os.makedirs(work, exist_ok=True)
        chown_tree(work)
        r = self.sandbox(["bash", os.path.join(self.kit, "host_steps.sh"), mode, os.path.join(self.bin, "server"),
                          client, work], timeout, cpu=timeout, mem=0 if mode == "valgrind" else 2 * GB)
        kv = {}
        for line in r.out.splitlines():
            k, _, v = line.partition("=")
            kv[k] = v
        return r, kv, work

    def hygiene(self):
        if not self.compiled["server"][0]:
            for c in ("hygiene.workflow", "hygiene.server_exit", "hygiene.leftovers", "timeouts.server_select"):
                self.add(c, "fail", "the kit's server program did not compile")
            return
        # The kit's own raw-syscall client: these checks are about the
        # server, whatever another client thinks of its info file.
        ref_client = os.path.join(self.bin, "peer_client")
        r, kv, _ = self.host_steps("plain", ref_client, T_HOST)
        if r.timed_out:
            for c in ("hygiene.workflow", "hygiene.server_exit", "hygiene.leftovers"):
                self.add(c, "fail", "the host run did not finish within %d s (killed)" % T_HOST)
        elif kv.get("info_file") in (None, "missing"):
            err = kv.get("server_err", "") or one_line(r.err)
            for c in ("hygiene.workflow", "hygiene.server_exit", "hygiene.leftovers"):
                self.add(c, "fail", "the server wrote no complete info file (four fields) within 30 s (exit %s; stderr: %s)"
                         % (kv.get("server_rc", "?"), err))
        else:
            out = base64.b64decode(kv.get("client_out", "")).decode(errors="replace")
            expected = "Total Servers: 1\nHost: 1\nContainer: 0\nVM: 0\nMessages: grade-shm grade-sock\n"
            if out == expected and kv.get("client_rc") == "0":
                self.add("hygiene.workflow", "pass", "the kit's client: Host 1, both messages")
            else:
                self.add("hygiene.workflow", "fail", "the kit's client (exit %s) printed %s; expected %s%s" % (
                    kv.get("client_rc"), json.dumps(out), json.dumps(expected),
                    "; client stderr: " + kv["client_err"] if kv.get("client_err") else ""))
            if kv.get("server_exit") == "none":
                self.add("hygiene.server_exit", "fail", "the server was still running 15 s after the client was done (killed)")
            else:
                # From the client's start: a server that sleeps before
                # shutdown keeps the client waiting for the end of its
                # message, one that lingers after shutdown shows after it.
                after = float(kv.get("server_exit_s", "0"))
                client_s = float(kv.get("client_s", "0"))
                secs = after + client_s
                rc = kv.get("server_rc")
                how = "the server ended %.2f s after the client started (client %.2f s, then %.3f s to the server's exit)" % (
                    secs, client_s, after)
                if rc != "0":
                    self.add("hygiene.server_exit", "fail", "exit status %s: %s; stderr: %s" % (rc, how, kv.get("server_err", "")))
                elif secs > 2.0:
                    self.add("hygiene.server_exit", "warn", how + ": a sleep before shutdown?")
                else:
                    self.add("hygiene.server_exit", "pass", how)
            left = []
            if kv.get("segments", "").strip():
                left.append("segment(s) " + kv["segments"].strip())
            if kv.get("info_left", "").strip():
                left.append("info file(s) " + kv["info_left"].strip())
            if kv.get("processes_left", "").strip():
                left.append("process(es) " + kv["processes_left"].strip())
            self.add("hygiene.leftovers", "fail" if left else "pass",
                     "; ".join(left) if left else "no segment, info file or process left")
        # select before accept, traced.
        r, kv, work = self.host_steps("strace", ref_client, T_HOST)
        trace = ""
        try:
            with open(os.path.join(work, "trace"), errors="replace") as f:
                trace = f.read()
        except OSError:
            pass
        self.add("timeouts.server_select", *self.judge_select(trace, r))

    @staticmethod
    def judge_select(trace, r):
        calls = [l for l in trace.splitlines() if re.match(r"^\d+\s+\w+\(", l)]
        accepts = [i for i, l in enumerate(calls) if re.match(r"^\d+\s+accept4?\(", l)]
        if not trace:
            return "fail", "no trace (strace could not run: %s)" % one_line(r.err, 200)
        if not accepts:
            return "fail", "no accept() traced while a client connected"
        i = accepts[0]
        pid = calls[i].split()[0]
        before = [l for l in calls[:i] if l.split()[0] == pid]
        if not before:
            return "fail", "accept() without a wait before it: %s" % calls[i][:160]
        prev = before[-1]
        call = re.sub(r"^\d+\s+", "", prev)[:200]
        if not re.match(r"^\d+\s+(select|pselect6|_newselect)\(", prev):
            return "fail", "the call right before accept() is not select(): %s" % call
        # The timeout as passed (a deadline-based implementation passes what
        # is left of 120 s, a few microseconds less).
        m = re.search(r"\{tv_sec=(\d+), tv_(u|n)sec=(\d+)\}", prev)
        secs = int(m.group(1)) + int(m.group(3)) / (1e6 if m.group(2) == "u" else 1e9) if m else None
        if secs is None or not 119.5 <= secs <= 120.0:
            return "fail", "select() before accept() without a 120 s timeout: %s" % call
        return "pass", call

    def valgrind(self):
        if shutil.which("valgrind") is None:
            self.add("hygiene.valgrind", "skip", "valgrind is not installed")
            return
        if not (self.compiled["server"][0] and self.compiled["client"][0]):
            self.add("hygiene.valgrind", "skip", "the kit's programs did not compile")
            return
        r, kv, work = self.host_steps("valgrind", os.path.join(self.bin, "client"), T_VALGRIND)
        findings = []
        for who in ("server", "client"):
            try:
                with open(os.path.join(work, "valgrind-" + who), errors="replace") as f:
                    log = [re.sub(r"^==\d+==\s?", "", l.rstrip()) for l in f]
            except OSError:
                continue
            log = [l for l in log if l.strip()]
            if not log:
                continue
            frame = next((l.strip() for l in log if re.match(r"\s*(at|by) 0x", l)
                          and not re.search(r"vgpreload|libc\.so|ld-linux", l)), "")
            findings.append("%s: %s%s" % (who, log[0].strip(), " (first frame: %s)" % frame if frame else ""))
        if r.timed_out:
            self.add("hygiene.valgrind", "warn", "the run under valgrind did not finish within %d s" % T_VALGRIND)
        elif findings:
            self.add("hygiene.valgrind", "warn", "; ".join(findings)[:500])
        else:
            self.add("hygiene.valgrind", "pass", "no error in the server or the client")

    # ------------------------------------------------------------ environments
    def lab_cache(self):
        """A cache the unprivileged lab can use: QEMU, kernel and busybox
        linked from the real (root-prepared) cache, its own initramfs dir."""
        real = self.args.lab_cache
        os.makedirs(real, exist_ok=True)
        r = run(["flock", os.path.join(real, ".prepare.lock"), os.path.join(REPO, "lab", "vm", "prepare.sh"), real], 900)
        if r.rc != 0:
            return None, one_line((r.err or r.out).splitlines()[-1] if (r.err or r.out).strip() else "exit %s" % r.rc)
        if not IS_ROOT:
            return real, ""
        mine = os.path.join(self.scratch, "labcache", "vm")
        os.makedirs(os.path.join(mine, "initramfs"))
        realvm = os.path.realpath(os.path.join(real, "vm"))
        # Where nobody cannot reach the real cache (a checkout under /root),
        # the lab gets a copy (hard links when on the same filesystem).
        probe = run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "test", "-r",
                     os.path.join(realvm, "qemu.path"), "-a", "-x", realvm], 30)
        copy = probe.rc != 0 or os.environ.get("ISOPROBE_GRADE_COPY_LAB_CACHE") == "1"
        for e in os.listdir(realvm):
            src = os.path.join(realvm, e)
            if e in ("initramfs", ".prepare.lock") or e.startswith("tmp."):
                continue
            if os.path.isdir(src):
                if copy:
                    if run(["cp", "-al", src, mine], 300).rc != 0:
                        shutil.copytree(src, os.path.join(mine, e), symlinks=True, dirs_exist_ok=True)
                else:
                    os.symlink(src, os.path.join(mine, e))
            else:
                shutil.copy2(src, mine)
        if copy:
            # Paths recorded by prepare.sh point into the real cache.
            for e in os.listdir(mine):
                f = os.path.join(mine, e)
                if os.path.isfile(f) and os.path.getsize(f) < 4096:
                    with open(f, errors="replace") as fh:
                        text = fh.read()
                    if realvm in text:
                        with open(f, "w") as fh:
                            fh.write(text.replace(realvm, mine))
        # nobody writes only here (prepare.sh's temp dirs, the initramfs);
        # hard-linked files keep their owner (chown would reach the real cache).
        # The top-level files are copies prepare.sh rewrites.
        for d in [os.path.dirname(mine), mine, os.path.join(mine, "initramfs")] + [
                os.path.join(mine, e) for e in os.listdir(mine) if os.path.isfile(os.path.join(mine, e))]:
            os.chown(d, NOBODY, NOBODY)
        return os.path.dirname(mine), ""

    def lab(self, cid, server, static_server, client, kinds, cache, as_root=False):
        labtmp = os.path.join(self.scratch, "labtmp")
        # The lab runs CLIENT INFO_DIR; this one first lets in-place writes end.
        wrapper = os.path.join(self.bin, "settled-" + cid)
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s %s "$@"\n' % (os.path.join(self.kit, "settle_client.sh"), client))
        os.chmod(wrapper, 0o755)
        client = wrapper
        cmd = [os.path.join(self.scratch, "lab", "run"), "--server", server, "--static-server", static_server,
               "--client", client, "--vm", "qemu", "--timeout", "150"]
        if as_root:
            # Apptainer needs a root lab (its image is built and mounted by
            # root); the student's server then runs as nobody in Apptainer's
            # user-namespace mode, and the lab uses the real cache.
            cmd += ["--apptainer-as", "nobody", "--cache", self.args.lab_cache]
        elif cache:
            cmd += ["--cache", cache]
        cmd += ["%s:1" % k for k in kinds]
        env = ["env", "-i", "PATH=" + PATH, "TMPDIR=" + labtmp, "HOME=" + labtmp, "LANG=C.UTF-8"]
        # Its own IPC namespace: host servers' segments stay out of the
        # machine's; its own /tmp and /dev/shm, like the sandbox.
        private = [os.path.join(self.kit, "private_tmp.sh"), self.scratch, "--"]
        if as_root:
            full = ["unshare", "--ipc", "--mount", "--propagation", "private", "--"] + private + env + cmd
        elif IS_ROOT:
            full = ["unshare", "--ipc", "--mount", "--propagation", "private", "--"] + private + [
                "setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + env + cmd
        else:
            full = ["unshare", "--user", "--map-root-user", "--ipc", "--mount", "--propagation", "private",
                    "--"] + private + env + cmd
        r = run(full, T_LAB)
        mech = [l for l in r.out.splitlines() if re.match(r"^(host|container|vm|apptainer):", l)]
        timing = [l for l in r.out.splitlines() if "info file(s) present" in l]
        summary = [l for l in r.out.splitlines() if re.match(r"^(Total Servers|Host|Container|VM|Messages):", l)]
        if r.timed_out:
            self.add(cid, "fail", "the lab did not finish within %d s (stopped)" % T_LAB)
        elif r.rc == 0:
            self.add(cid, "pass", "%s; %s" % (" / ".join(summary), "; ".join(
                [m.split(",")[0] for m in mech] + [t.replace("lab: ", "") for t in timing])))
        elif r.rc == 2 and "apptainer" in kinds:
            # The lab's interface for Apptainer is not what this kit expects.
            self.add(cid, "skip", "lab/run refused apptainer:1: " + one_line(r.err, 250))
        elif r.rc == 77:
            reason = [l for l in r.err.splitlines() if "unavailable" in l or "cannot run" in l]
            self.add(cid, "skip", one_line(reason[-1] if reason else r.err, 300))
        else:
            expected = [l.replace("lab:   ", "") for l in r.err.splitlines() if l.startswith("lab:   ")]
            errors = [l for l in r.err.splitlines() if l.startswith("lab: ") and not l.startswith("lab:   ")
                      and "MISMATCH" not in l]
            detail = "observed: %s" % (json.dumps("\n".join(summary)) if summary else "no summary")
            if expected:
                detail += "; expected: " + json.dumps("\n".join(expected))
            if errors:
                detail += "; " + one_line("\n".join(errors), 250)
            client_err = [l for l in r.err.splitlines() if l.startswith("client: ")]
            if client_err:
                detail += "; " + one_line("\n".join(client_err[:3]), 200)
            # The reference client refusing an info file the interop note
            # already flagged: messages lost with another implementation.
            interop = [c for c in self.checks if c["id"].startswith("interop.") and c["status"] != "pass"]
            if cid.startswith("env.server.") and interop and any("info" in l or "file" in l for l in client_err):
                self.add(cid, "warn", "messages lost with the reference client (see %s): %s" % (interop[0]["id"], detail))
                return
            self.add(cid, "fail", detail)

    def environments(self):
        envs = self.args.envs
        help_text = run([os.path.join(REPO, "lab", "run"), "--help"], 30).out
        has_apptainer = re.search(r"\bapptainer\b", help_text) is not None
        cache, vm_reason = None, ""
        if "vm" in envs:
            cache, vm_reason = self.lab_cache()
            if cache is None:
                vm_reason = "the lab's VM cache cannot be prepared: " + vm_reason
            elif not self.compiled["server_static"][0]:
                vm_reason = "the server does not link statically for the guest: " + self.compiled["server_static"][1]
        # The mixed runs are rootless labs: Apptainer (a root lab) only in
        # its own run.
        apptainer_reason = ""
        if "apptainer" in envs and has_apptainer and IS_ROOT:
            # The first preparation downloads Debian roots (minutes): here,
            # under the lab's lock, not inside a lab run's time limit.
            os.makedirs(self.args.lab_cache, exist_ok=True)
            r = run(["flock", os.path.join(self.args.lab_cache, ".apptainer.lock"),
                     os.path.join(REPO, "lab", "apptainer", "prepare.sh"), self.args.lab_cache], 1800)
            if r.rc != 0:
                lines = [l for l in (r.err or r.out).splitlines() if l.strip()]
                apptainer_reason = "the lab cannot prepare Apptainer: " + (lines[-1] if lines else "exit %s" % r.rc)
        kinds = []
        for e in envs:
            if e == "apptainer":
                continue
            if e == "vm" and vm_reason:
                continue
            kinds.append(e)
        ref = lambda n: os.path.join(self.ref, n)
        mine = lambda n: os.path.join(self.bin, n)
        jobs = []
        for e in envs:
            cid = "env.server." + e
            if e == "apptainer" and not has_apptainer:
                self.add(cid, "skip", "lab/run provides no apptainer environment yet")
            elif e == "apptainer" and apptainer_reason:
                self.add(cid, "skip", apptainer_reason)
            elif e == "apptainer" and not IS_ROOT:
                self.add(cid, "skip", "Apptainer in the lab needs a root lab (lab/run --apptainer-as); "
                         "the kit does not run as root")
            elif e == "apptainer" and self.compiled["server"][0]:
                jobs.append((cid, mine("server"), mine("server_static"), ref("course_client"), [e], True))
            elif e == "vm" and vm_reason:
                self.add(cid, "skip", vm_reason)
            elif not self.compiled["server"][0]:
                self.add(cid, "fail", "the kit's server program did not compile")
            else:
                jobs.append((cid, mine("server"), mine("server_static"), ref("course_client"), [e]))
        if kinds:
            if self.compiled["client"][0]:
                jobs.append(("env.client", ref("course_server"), ref("course_server_static"), mine("client"), kinds))
            else:
                self.add("env.client", "fail", "the kit's client program did not compile")
            if self.compiled["client"][0] and self.compiled["server"][0]:
                jobs.append(("env.own", mine("server"), mine("server_static"), mine("client"), kinds))
        labtmp = os.path.join(self.scratch, "labtmp")
        os.makedirs(labtmp, exist_ok=True)
        chown_tree(labtmp)
        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as ex:
            list(ex.map(lambda j: self.lab(*j[:5], cache, *j[5:]), jobs))

    # ------------------------------------------------------------ all
    def grade(self):
        try:
            return self.grade_steps()
        finally:
            self.cgroups.release_left()
            # Also on an exception or Ctrl-C: the scratch copy goes (the
            # sandboxes and labs inside it ended with their steps).
            if not self.args.keep:
                shutil.rmtree(self.scratch, ignore_errors=True)

    def grade_steps(self):
        self.prepare()
        if not self.build():
            return self.finish(build_error=True)
        self.compile_kit()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            steps = [ex.submit(self.conformance), ex.submit(self.hygiene)]
            if not self.args.no_valgrind:
                steps.append(ex.submit(self.valgrind))
            for s in steps:
                s.result()
        if self.args.envs:
            self.environments()
        return self.finish()

    def finish(self, build_error=False):
        order = {"build": 0, "conformance.compile": 1, "conformance": 1, "error": 2, "timeouts": 3, "hygiene": 4, "env": 5, "interop": 6}
        self.checks.sort(key=lambda c: (order.get(c["id"], order.get(c["id"].split(".")[0], 9)),
                                       c["id"] != "conformance.compile", c["id"]))
        counts = {s: sum(1 for c in self.checks if c["status"] == s) for s in ("pass", "fail", "warn", "skip")}
        failed = [c["id"] for c in self.checks if c["status"] == "fail"]
        result = "build-error" if build_error else ("fail" if failed else "pass")
        report = {
            "submission": self.submission,
            "checks": [{k: c[k] for k in ("id", "title", "status", "detail", "assignment", "required")}
                       for c in self.checks],
            "summary": dict(counts, result=result, failed=failed,
                            warned=[c["id"] for c in self.checks if c["status"] == "warn"],
                            envs=self.args.envs, sandbox=self.sandbox_how(),
                            process_cap_hits=self.cgroups.hits,
                            seconds=round(time.monotonic() - self.started, 1),
                            headers=getattr(self, "headers_from", "")),
        }
        if self.args.keep:
            report["summary"]["scratch"] = self.scratch
        return report


# ---------------------------------------------------------------- output

def table(report, out=sys.stdout):
    rows = [(c["id"], c["status"].upper(), c["detail"]) for c in report["checks"]]
    w = max([len(r[0]) for r in rows] + [5])
    print("grade: %s" % report["submission"], file=out)
    print("%-*s  %-6s %s" % (w, "check", "result", "detail"), file=out)
    for cid, st, detail in rows:
        print("%-*s  %-6s %s" % (w, cid, st, detail), file=out)
    s = report["summary"]
    print("result: %s (%d pass, %d fail, %d warn, %d skip) in %.0f s; student code ran %s" % (
        s["result"].upper(), s["pass"], s["fail"], s["warn"], s["skip"], s["seconds"], s["sandbox"]), file=out)


def load_weights(path):
    weights = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                pat, pts = line.split()
                weights.append((pat, float(pts)))
    return weights


def gradescope(report, weights):
    tests, score = [], 0.0
    for c in report["checks"]:
        pts = next((p for pat, p in weights if fnmatch.fnmatchcase(c["id"], pat)), 0.0)
        if c["status"] == "skip":
            pts = 0.0
        got = pts if c["status"] in ("pass", "warn", "skip") else 0.0
        score += got
        out = c["detail"]
        if c["status"] in ("warn", "skip"):
            out = "%s: %s" % ("warning" if c["status"] == "warn" else "skipped", out)
        tests.append({"name": "%s: %s" % (c["id"], c["title"]), "score": got, "max_score": pts,
                      "status": "passed" if c["status"] != "fail" else "failed",
                      "output": out + ("\nAssignment: " + c["assignment"] if c["assignment"] else "")})
    return {"score": score, "tests": tests}


def exit_code(report):
    return {"pass": 0, "fail": 1}.get(report["summary"]["result"], 2)


def grade_one(args):
    if not os.path.isfile(os.path.join(args.submission, "Makefile")):
        print("grade: %s: no Makefile (a submission is a directory whose Makefile builds libserver.a and libclient.a)"
              % args.submission, file=sys.stderr)
        return 2
    report = Grader(args.submission, args).grade()
    table(report)
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=2)
    if args.gradescope:
        with open(args.gradescope, "w") as f:
            json.dump(gradescope(report, load_weights(args.weights)), f, indent=2)
    if report["summary"]["result"] == "build-error":
        print("grade: build error: %s" % report["checks"][0]["detail"], file=sys.stderr)
    return exit_code(report)


def grade_batch(args):
    subs = sorted(d for d in os.listdir(args.batch) if os.path.isfile(os.path.join(args.batch, d, "Makefile")))
    if not subs:
        print("grade: no submission (directory with a Makefile) under %s" % args.batch, file=sys.stderr)
        return 2
    reports_dir = args.reports or os.path.splitext(os.path.abspath(args.csv))[0] + "-reports"
    os.makedirs(reports_dir, exist_ok=True)
    weights = load_weights(args.weights)

    def one(name):
        rep = os.path.join(reports_dir, name + ".json")
        cmd = [sys.executable, os.path.abspath(__file__), os.path.join(args.batch, name), "--report", rep,
               "--envs", ",".join(args.envs), "--build-dir", args.build_dir, "--lab-cache", args.lab_cache,
               "-j", "1", "--weights", args.weights, "--object-cache", args.object_cache]
        if args.no_valgrind:
            cmd.append("--no-valgrind")
        r = run(cmd, 1800)
        with open(os.path.join(reports_dir, name + ".txt"), "w") as f:
            f.write(r.out + r.err)
        try:
            with open(rep) as f:
                return name, r, json.load(f)
        except (OSError, ValueError):
            return name, r, None

    t0 = time.monotonic()
    rows = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for name, r, report in ex.map(one, subs):
            if report is None:
                rows.append([name, "error", r.rc, "", "", "", "", "", "", one_line(r.err, 200), "", ""])
                continue
            s, gs = report["summary"], gradescope(report, weights)
            rows.append([name, s["result"], exit_code(report), gs["score"], sum(t["max_score"] for t in gs["tests"]),
                         s["pass"], s["fail"], s["warn"], s["skip"], " ".join(s["failed"]), " ".join(s["warned"]),
                         s["seconds"]])
            print("%-30s %-12s %s" % (name, s["result"], " ".join(s["failed"])))
    with open(args.csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "result", "exit", "score", "max_score", "pass", "fail", "warn", "skip",
                    "failed_checks", "warned_checks", "seconds"])
        w.writerows(rows)
    print("grade: %d submission(s) in %.0f s; %s; reports in %s" % (len(subs), time.monotonic() - t0, args.csv,
                                                                   reports_dir))
    return 0


def main():
    p = argparse.ArgumentParser(prog="scripts/grade.sh", description=__doc__.split("\n\n")[0])
    p.add_argument("submission", nargs="?")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--gradescope", help="write a Gradescope results.json here")
    p.add_argument("--weights", default=os.path.join(KIT, "weights.txt"))
    p.add_argument("--envs", default="host,container,apptainer,vm",
                   help="comma-separated subset of host,container,apptainer,vm, or 'none'")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--batch", help="grade every submission directory under this one")
    p.add_argument("--csv", help="with --batch: one row per submission")
    p.add_argument("--reports", help="with --batch: where the per-submission reports go")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--no-valgrind", action="store_true")
    p.add_argument("--build-dir", default=os.environ.get("ISOPROBE_BUILD_DIR", os.path.join(REPO, "build", "grade")))
    p.add_argument("--object-cache", default=os.environ.get("ISOPROBE_GRADE_CACHE", os.path.join(REPO, ".grade-cache")),
                   help="where compiled kit objects are kept ('' for none)")
    p.add_argument("--lab-cache", default=os.environ.get("ISOPROBE_LAB_CACHE", os.path.join(REPO, ".lab-cache")))
    args = p.parse_args()
    args.envs = [] if args.envs in ("", "none") else args.envs.split(",")
    bad = [e for e in args.envs if e not in ENVS]
    if bad:
        p.error("unknown environment(s) %s (choose from %s, or none)" % (",".join(bad), ",".join(ENVS)))
    args.build_dir = os.path.abspath(args.build_dir)
    args.lab_cache = os.path.abspath(args.lab_cache)
    args.object_cache = os.path.abspath(args.object_cache) if args.object_cache else ""
    if args.batch:
        if not args.csv or args.submission:
            p.error("--batch DIR needs --csv FILE and no SUBMISSION_DIR")
        return grade_batch(args)
    if not args.submission:
        p.error("give a SUBMISSION_DIR (or --batch DIR --csv FILE)")
    if not os.path.isdir(args.submission):
        p.error("%s is not a directory" % args.submission)
    return grade_one(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
