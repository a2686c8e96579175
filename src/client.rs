//! The client: list the info files, attach every segment, then connect to
//! every server and read every message under one deadline, classify, print.
//! Each channel's probe returns a typed outcome (`outcome`); classification,
//! the summary and the explanations read those. A `Probe` owns its
//! attachment and socket; dropping it disconnects (it never removes a
//! segment: that is the server's job).
//!
//! Names, paths and messages are bytes throughout: the summary prints the
//! messages' bytes as they came.

use crate::announce::{self, Announcement};
use crate::error::{Error, Result};
use crate::info_file::{ParseError, MAX_INFO_FILE_BYTES};
use crate::outcome::{ReadEnd, ShmOutcome, SocketOutcome, SocketRead};
use crate::reach::{self, Destination};
use crate::shm::{self, Attachment};
use std::ffi::{CString, OsStr};
use std::fmt;
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::reach::QUIET_PERIOD;

/// The one deadline of a client run: every connect and every read share it
/// (a message still arriving at the deadline gets up to `QUIET_PERIOD` more).
pub const RUN_DEADLINE: Duration = Duration::from_secs(5);

/// Where a server lives, judged by the channels the client reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Both channels: same IPC namespace, same network.
    Host,
    /// Exactly one channel: a container shares the network but not IPC (or
    /// the ftok path), or the reverse.
    Container,
    /// Neither: another kernel.
    Vm,
}

impl Environment {
    /// The course's rule: both → Host, one → Container, none → VM.
    pub fn classify(shm_reached: bool, socket_reached: bool) -> Environment {
        match (shm_reached, socket_reached) {
            (true, true) => Environment::Host,
            (false, false) => Environment::Vm,
            _ => Environment::Container,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Environment::Host => "Host",
            Environment::Container => "Container",
            Environment::Vm => "VM",
        })
    }
}

/// One server as the client found it.
#[derive(Debug)]
pub struct Probe {
    /// The info file's path.
    pub path: PathBuf,
    /// What it announced, or why it was refused. A refused file is counted
    /// as a server that no channel reached (VM), with one warning line: the
    /// course counts every info file as a server, and nothing was reached.
    pub info: std::result::Result<Announcement, ParseError>,
    /// `ftok` of the announced path and proj id, when it succeeded.
    pub shm_key: Option<libc::key_t>,
    /// What the segment probe did.
    pub shm: ShmOutcome,
    /// The read-only attachment, when `shm` is `Attached`.
    pub attachment: Option<Attachment>,
    /// What the connect did.
    pub socket: SocketOutcome,
    /// The connected socket (non-blocking), when `socket` is `Connected`.
    pub stream: Option<TcpStream>,
    /// What the connected socket sent, read in the same loop as the connects.
    pub read: Option<SocketRead>,
}

impl Probe {
    /// Where this server lives: the handshake and the attach decide, nothing
    /// that happened after them.
    pub fn environment(&self) -> Environment {
        Environment::classify(self.shm.reached(), self.socket.reached())
    }

    /// The messages read from the reached channels.
    pub fn messages(&self) -> Messages {
        Messages {
            shm: self.attachment.as_ref().map(Attachment::message_bytes),
            socket: self.read.as_ref().and_then(|r| r.message.clone()),
            socket_end: self.read.as_ref().map(|r| r.end),
        }
    }
}

/// The info files in `dir`: regular files (symlinks followed), dot-files
/// skipped, sorted by the bytes of their names.
pub fn list_info_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("opendir", &e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("readdir", &e))?;
        if entry.file_name().as_bytes().first() == Some(&b'.') {
            continue;
        }
        if is_regular_file(&entry) {
            paths.push(join(dir, &entry.file_name()));
        }
    }
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(paths)
}

/// `dir/name` as bytes, without doubling a trailing slash (so the path is
/// printed the way the directory was given).
fn join(dir: &Path, name: &OsStr) -> PathBuf {
    let mut bytes = dir.as_os_str().as_bytes().to_vec();
    if bytes.last() != Some(&b'/') {
        bytes.push(b'/');
    }
    bytes.extend_from_slice(name.as_bytes());
    PathBuf::from(OsStr::from_bytes(&bytes))
}

/// True for a regular file, or a symlink to one. The type readdir reports
/// (d_type) settles it without a stat per entry; only links (and file systems
/// that report no type, where std falls back to lstat) cost a stat.
fn is_regular_file(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        // metadata() follows the link: a link to a file counts, to a directory not.
        Ok(t) if t.is_symlink() => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()),
        Ok(t) => t.is_file(),
        Err(_) => false,
    }
}

/// Reads and parses one info file without ever blocking (a FIFO swapped in
/// after listing is refused, not waited on) and with a size bound.
pub fn read_info_file(path: &Path) -> std::result::Result<Announcement, ParseError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| ParseError(format!("cannot open: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| ParseError(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(ParseError("not a regular file".into()));
    }
    // Info files are published by rename, never rewritten in place, so the
    // size fstat just gave is the whole file and one read gets it. The buffer
    // has one byte more than the bound, so "too long" is still told apart.
    // Size 0 may be a pseudo-file that does have content: read to the bound.
    let size = meta.len();
    let cap = match size {
        0 => MAX_INFO_FILE_BYTES + 1,
        n => n.min(MAX_INFO_FILE_BYTES as u64) as usize + 1,
    };
    let mut bytes = vec![0u8; cap];
    let mut filled = 0;
    loop {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled == cap || filled as u64 == size {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ParseError(format!("cannot read: {e}"))),
        }
    }
    bytes.truncate(filled);
    announce::parse(&bytes)
}

/// Descriptors left for the program around the probe (stdio, files, the
/// name-resolver threads) when the soft limit is raised for a big directory.
const SPARE_DESCRIPTORS: u64 = 64;

/// Probes the servers announced by `paths`: every segment is attached first,
/// then every connect starts, and the connects and the reads of the
/// connected servers all share the one `deadline`.
pub fn probe_files(paths: Vec<PathBuf>, deadline: Duration, until: reach::Until) -> Vec<Probe> {
    // Each server needs a socket; raise the soft fd limit if that helps.
    let _ = crate::fd::raise_nofile_limit(paths.len() as u64 * 2 + SPARE_DESCRIPTORS);
    let infos: Vec<_> = paths.iter().map(|p| read_info_file(p)).collect();
    let shms: Vec<Option<shm::ShmProbe>> = infos
        .iter()
        .map(|info| {
            let info = info.as_ref().ok()?;
            // The parser refused NUL bytes, so the path converts.
            let path = CString::new(info.shm_pathname.clone()).ok()?;
            Some(shm::probe(&path, info.shm_proj_id))
        })
        .collect();
    let destinations: Vec<Destination> = infos
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|i| Destination {
            host: i.host.clone(),
            port: i.port,
        })
        .collect();
    let mut reached = reach::connect_and_read(&destinations, deadline, until).into_iter();
    paths
        .into_iter()
        .zip(infos)
        .zip(shms)
        .map(|((path, info), shm)| {
            let (shm_key, shm, attachment) = match shm {
                Some(p) => (p.key, p.outcome, p.attachment),
                None => (None, ShmOutcome::NotTried, None),
            };
            let (socket, stream, read) = match info.is_ok() {
                true => {
                    let r = reached.next().expect("one connect per accepted info file");
                    (r.outcome, r.stream, r.read)
                }
                false => (SocketOutcome::NotTried, None, None),
            };
            Probe {
                path,
                info,
                shm_key,
                shm,
                attachment,
                socket,
                stream,
                read,
            }
        })
        .collect()
}

/// Lists `dir` and probes every server in it, reading the connected ones
/// `until` (see `reach::Until`).
///
/// A `socket()` that fails is this process's own shortage (EMFILE when the
/// fd limit could not be raised far enough, ENOBUFS...), not a fact about
/// a server: it is reported as the client's system error instead of
/// counting reachable servers as containers or VMs.
pub fn probe_dir(dir: &Path, deadline: Duration, until: reach::Until) -> Result<Vec<Probe>> {
    let probes = probe_files(list_info_files(dir)?, deadline, until);
    let own_failure = probes.iter().find_map(|p| match p.socket {
        SocketOutcome::SocketFailed { errno } => Some(Error::sys("socket", errno)),
        _ => None,
    });
    match own_failure {
        Some(e) => Err(e),
        None => Ok(probes),
    }
}

/// The messages one server sent: shm first, then socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Messages {
    /// The segment's message, when the segment was attached.
    pub shm: Option<Vec<u8>>,
    /// The socket's message, when the socket connected and sent something.
    pub socket: Option<Vec<u8>>,
    /// How the socket's read ended, when it connected.
    pub socket_end: Option<ReadEnd>,
}

/// The printed summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Servers that both channels reached.
    pub host: usize,
    /// Servers that exactly one channel reached.
    pub container: usize,
    /// Servers that no channel reached.
    pub vm: usize,
    /// The non-empty messages, server by server, shm before socket.
    pub messages: Vec<Vec<u8>>,
}

impl Summary {
    /// Counts environments and gathers the non-empty messages in order.
    pub fn new(environments: &[Environment], messages: &[Messages]) -> Summary {
        let mut s = Summary::default();
        for env in environments {
            match env {
                Environment::Host => s.host += 1,
                Environment::Container => s.container += 1,
                Environment::Vm => s.vm += 1,
            }
        }
        for m in messages {
            for text in [&m.shm, &m.socket].into_iter().flatten() {
                if !text.is_empty() {
                    s.messages.push(text.clone());
                }
            }
        }
        s
    }

    /// The summary of `probes`.
    pub fn of(probes: &[Probe]) -> Summary {
        let envs: Vec<_> = probes.iter().map(Probe::environment).collect();
        let msgs: Vec<_> = probes.iter().map(Probe::messages).collect();
        Summary::new(&envs, &msgs)
    }

    /// Every server counted.
    pub fn total(&self) -> usize {
        self.host + self.container + self.vm
    }

    /// Exactly the course's five lines, the messages as the bytes they are.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "Total Servers: {}\nHost: {}\nContainer: {}\nVM: {}\nMessages:",
            self.total(),
            self.host,
            self.container,
            self.vm
        )
        .into_bytes();
        for m in &self.messages {
            out.push(b' ');
            out.extend_from_slice(m);
        }
        out.push(b'\n');
        out
    }
}

impl fmt::Display for Summary {
    /// The course's five lines; bytes that are not UTF-8 are shown as U+FFFD
    /// (print `to_bytes` to keep them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// One warning line (with its newline) for a refused info file; the path is
/// the bytes it is.
pub fn warning_for(probe: &Probe) -> Option<Vec<u8>> {
    probe.info.as_ref().err().map(|e| {
        let mut line = b"isoprobe: warning: ".to_vec();
        line.extend_from_slice(probe.path.as_os_str().as_bytes());
        line.extend_from_slice(format!(": {e}; counted as VM (no channel tried)\n").as_bytes());
        line
    })
}

/// The course's client `run`, as a value: probe `dir`, read, classify, all
/// under `RUN_DEADLINE`. Warnings for refused info files go to `warn`.
pub fn run(dir: &Path, warn: &mut dyn std::io::Write) -> Result<Summary> {
    let probes = probe_dir(dir, RUN_DEADLINE, reach::Until::AllRead)?;
    for line in probes.iter().filter_map(warning_for) {
        let _ = warn.write_all(&line);
    }
    Ok(Summary::of(&probes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{Server, Setup};
    use crate::testutil::TempDir;

    #[test]
    fn classification_rule() {
        assert_eq!(Environment::classify(true, true), Environment::Host);
        assert_eq!(Environment::classify(true, false), Environment::Container);
        assert_eq!(Environment::classify(false, true), Environment::Container);
        assert_eq!(Environment::classify(false, false), Environment::Vm);
    }

    #[test]
    fn summary_format_is_exact() {
        let m = [
            Messages {
                shm: Some(b"a".to_vec()),
                socket: Some(b"b".to_vec()),
                socket_end: None,
            },
            Messages {
                shm: None,
                socket: Some(b"c\xff".to_vec()),
                socket_end: None,
            },
        ];
        let s = Summary::new(
            &[Environment::Host, Environment::Container, Environment::Vm],
            &m,
        );
        assert_eq!(
            s.to_bytes(),
            b"Total Servers: 3\nHost: 1\nContainer: 1\nVM: 1\nMessages: a b c\xff\n"
        );
        assert_eq!(
            Summary::default().to_string().lines().last(),
            Some("Messages:")
        );
    }

    #[test]
    fn listing_skips_dotfiles_dirs_and_fifos_and_sorts_bytes() {
        let dir = TempDir::new();
        for name in ["b", "a", "B", ".hidden"] {
            std::fs::write(format!("{}/{name}", dir.path()), "x").unwrap();
        }
        std::fs::create_dir(format!("{}/sub", dir.path())).unwrap();
        let fifo = std::ffi::CString::new(format!("{}/fifo", dir.path())).unwrap();
        // SAFETY: fifo is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink(
            format!("{}/sub", dir.path()),
            format!("{}/linkdir", dir.path()),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            format!("{}/a", dir.path()),
            format!("{}/linkfile", dir.path()),
        )
        .unwrap();
        let names: Vec<String> = list_info_files(Path::new(dir.path()))
            .unwrap()
            .into_iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["B", "a", "b", "linkfile"]);
    }

    #[test]
    fn info_file_is_read_whole_and_bounded() {
        let dir = TempDir::new();
        let path = |n: &str| PathBuf::from(format!("{}/{n}", dir.path()));
        let text = format!("127.0.0.1\n5000\n{}\n7\n", "p".repeat(3000));
        std::fs::write(path("ok"), &text).unwrap();
        assert_eq!(
            read_info_file(&path("ok")).unwrap().shm_pathname,
            "p".repeat(3000).as_bytes()
        );
        std::fs::write(path("long"), vec![b'1'; MAX_INFO_FILE_BYTES + 1]).unwrap();
        assert!(read_info_file(&path("long"))
            .unwrap_err()
            .0
            .contains("longer"));
        std::fs::write(path("empty"), "").unwrap();
        assert!(read_info_file(&path("empty"))
            .unwrap_err()
            .0
            .contains("empty"));
    }

    #[test]
    fn missing_directory_is_a_system_error() {
        let e = list_info_files(Path::new("/nonexistent/isoprobe")).unwrap_err();
        assert_eq!(e.call(), Some("opendir"));
    }

    #[test]
    fn host_server_is_classified_host_with_both_messages() {
        let dir = TempDir::new();
        let setup = Setup {
            port: 0,
            shm_pathname: dir.path().into(),
            shm_proj_id: 21,
            info_file_name: "srv".into(),
            info_file_directory: dir.path().into(),
        };
        let mut server = Server::start(&setup).unwrap();
        server.write_shm("from-shm").unwrap();
        server.publish_info_file(&setup).unwrap();
        let served = std::thread::scope(|scope| {
            let handle = scope.spawn(|| {
                assert!(server.accept_within(Duration::from_secs(10)).unwrap());
                server.send("from-socket").unwrap();
                server.await_client_close(Duration::from_secs(10)).unwrap()
            });
            let probes =
                probe_dir(Path::new(dir.path()), RUN_DEADLINE, reach::Until::AllRead).unwrap();
            assert_eq!(probes.len(), 1);
            assert_eq!(probes[0].environment(), Environment::Host);
            let msgs = probes[0].messages();
            assert_eq!(msgs.shm.as_deref(), Some(&b"from-shm"[..]));
            assert_eq!(msgs.socket.as_deref(), Some(&b"from-socket"[..]));
            drop(probes);
            handle.join().unwrap()
        });
        assert!(served, "server saw the client close");
    }

    #[test]
    fn malformed_file_counts_as_unreachable_with_warning() {
        let dir = TempDir::new();
        let mut name = format!("{}/bad", dir.path()).into_bytes();
        name.push(0xff);
        std::fs::write(OsStr::from_bytes(&name), "1.2.3.4\n1\nx\n").unwrap();
        let probes = probe_dir(Path::new(dir.path()), RUN_DEADLINE, reach::Until::AllRead).unwrap();
        assert_eq!(probes[0].environment(), Environment::Vm);
        assert_eq!(probes[0].socket, SocketOutcome::NotTried);
        let line = warning_for(&probes[0]).unwrap();
        let mut want = format!("isoprobe: warning: {}/bad", dir.path()).into_bytes();
        want.extend_from_slice(b"\xff: file has 3 lines");
        assert!(line.starts_with(&want), "{}", line.escape_ascii());
        assert!(line.ends_with(b"; counted as VM (no channel tried)\n"));
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
    }
}
