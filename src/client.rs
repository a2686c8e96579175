//! The client: list the info files, attach every segment, connect to every
//! server at once under one deadline, read the messages, classify, print.
//! A `Probe` owns its attachment and socket; dropping it disconnects (it never
//! removes a segment: that is the server's job).

use crate::error::{Error, Result};
use crate::info_file::{InfoFile, ParseError, MAX_INFO_FILE_BYTES};
use crate::net;
use crate::shm::{self, Attachment, ShmProbe};
use std::fmt;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// Bound on each connect, as the course asks (all connects share it).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on reading all socket messages (a silent server costs at most this).
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

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
    pub path: String,
    /// What it announced, or why it was refused.
    pub info: std::result::Result<InfoFile, ParseError>,
    /// The attached segment, or why it could not be attached.
    pub shm: std::result::Result<Attachment, Error>,
    /// The connected socket (non-blocking), or why it did not connect.
    pub socket: std::result::Result<OwnedFd, Error>,
}

impl Probe {
    /// Where this server lives.
    pub fn environment(&self) -> Environment {
        Environment::classify(self.shm.is_ok(), self.socket.is_ok())
    }

    /// The System V key this client looked for: `ftok` of the announced path
    /// and proj id, computed again (ftok depends only on the path's inode and
    /// device and on the proj id). `None` when the info file was refused or
    /// ftok fails here.
    pub fn shm_key(&self) -> Option<libc::key_t> {
        let info = self.info.as_ref().ok()?;
        crate::shm::key_for(&info.shm_pathname, info.shm_proj_id).ok()
    }
}

/// The info files in `dir`: regular files (symlinks followed), dot-files
/// skipped, sorted by the bytes of their names.
pub fn list_info_files(dir: &str) -> Result<Vec<String>> {
    use std::os::unix::ffi::OsStrExt;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::from_io("opendir", &e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::from_io("readdir", &e))?;
        let name = entry.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        if is_regular_file(&entry) {
            names.push(name);
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names
        .into_iter()
        .map(|n| crate::info_file::join(dir, &n.to_string_lossy()))
        .collect())
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
pub fn read_info_file(path: &str) -> std::result::Result<InfoFile, ParseError> {
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
    InfoFile::parse(&bytes)
}

/// Probes the servers announced by `paths`: every segment is attached first,
/// then every connect starts, and all of them share one `timeout`.
pub fn probe_files(paths: Vec<String>, timeout: Duration) -> Vec<Probe> {
    // Each server needs a socket; raise the soft fd limit if that helps.
    let _ = crate::fd::raise_nofile_limit(paths.len() as u64 * 2 + 64);
    let infos: Vec<_> = paths.iter().map(|p| read_info_file(p)).collect();
    let not_tried = || Error::invalid("info file is malformed; channel not tried");
    let shms: Vec<_> = infos
        .iter()
        .map(|info| match info {
            Ok(i) => match shm::probe(&i.shm_pathname, i.shm_proj_id) {
                ShmProbe::Attached(a) => Ok(a),
                ShmProbe::Unreachable(e) => Err(e),
            },
            Err(_) => Err(not_tried()),
        })
        .collect();
    let addrs: Vec<SocketAddrV4> = infos
        .iter()
        .filter_map(|i| i.as_ref().ok().map(|i| SocketAddrV4::new(i.ip, i.port)))
        .collect();
    let mut sockets = net::connect_all(&addrs, timeout).into_iter();
    paths
        .into_iter()
        .zip(infos)
        .zip(shms)
        .map(|((path, info), shm)| {
            let socket = match &info {
                Ok(_) => sockets.next().expect("one connect per valid info file"),
                Err(_) => Err(not_tried()),
            };
            Probe {
                path,
                info,
                shm,
                socket,
            }
        })
        .collect()
}

/// Lists `dir` and probes every server in it.
///
/// A `socket()` that fails is this process's own shortage (EMFILE when the
/// fd limit could not be raised far enough, ENOBUFS...), not a fact about
/// a server: it is reported as the client's system error instead of
/// counting reachable servers as containers or VMs.
pub fn probe_dir(dir: &str, timeout: Duration) -> Result<Vec<Probe>> {
    let probes = probe_files(list_info_files(dir)?, timeout);
    let own_failure = probes.iter().find_map(|p| match &p.socket {
        Err(e) if e.call() == Some("socket") => Some(e.clone()),
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
    pub shm: Option<String>,
    /// The socket's message, when the socket connected and sent one in time.
    pub socket: Option<String>,
}

/// Reads every reached channel: the socket messages concurrently under one
/// deadline, the shm messages through the existing attachments.
pub fn collect_messages(probes: &[Probe], timeout: Duration) -> Vec<Messages> {
    let fds: Vec<_> = probes
        .iter()
        .filter_map(|p| p.socket.as_ref().ok().map(AsRawFd::as_raw_fd))
        .collect();
    let mut socket_msgs = net::read_messages(&fds, timeout).into_iter();
    probes
        .iter()
        .map(|p| Messages {
            shm: p.shm.as_ref().ok().map(Attachment::read_message),
            socket: p
                .socket
                .as_ref()
                .ok()
                .and_then(|_| socket_msgs.next().expect("one read per socket").ok()),
        })
        .collect()
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
    pub messages: Vec<String>,
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

    /// Every server counted.
    pub fn total(&self) -> usize {
        self.host + self.container + self.vm
    }
}

impl fmt::Display for Summary {
    /// Exactly the course's five lines, no trailing space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Total Servers: {}", self.total())?;
        writeln!(f, "Host: {}", self.host)?;
        writeln!(f, "Container: {}", self.container)?;
        writeln!(f, "VM: {}", self.vm)?;
        write!(f, "Messages:")?;
        for m in &self.messages {
            write!(f, " {m}")?;
        }
        writeln!(f)
    }
}

/// One warning line for a refused info file.
pub fn warning_for(probe: &Probe) -> Option<String> {
    probe.info.as_ref().err().map(|e| {
        format!(
            "isoprobe: warning: {}: {e}; counted as unreachable",
            probe.path
        )
    })
}

/// The course's client `run`, as a value: probe `dir`, read, classify.
/// Warnings for refused info files go to `warn`.
pub fn run(dir: &str, warn: &mut dyn std::io::Write) -> Result<Summary> {
    let probes = probe_dir(dir, CONNECT_TIMEOUT)?;
    for line in probes.iter().filter_map(warning_for) {
        let _ = writeln!(warn, "{line}");
    }
    let messages = collect_messages(&probes, READ_TIMEOUT);
    let envs: Vec<_> = probes.iter().map(Probe::environment).collect();
    Ok(Summary::new(&envs, &messages))
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
                shm: Some("a".into()),
                socket: Some("b".into()),
            },
            Messages {
                shm: None,
                socket: Some("c".into()),
            },
        ];
        let s = Summary::new(
            &[Environment::Host, Environment::Container, Environment::Vm],
            &m,
        );
        assert_eq!(
            s.to_string(),
            "Total Servers: 3\nHost: 1\nContainer: 1\nVM: 1\nMessages: a b c\n"
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
        let names: Vec<String> = list_info_files(dir.path())
            .unwrap()
            .into_iter()
            .map(|p| p.rsplit('/').next().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["B", "a", "b", "linkfile"]);
    }

    #[test]
    fn info_file_is_read_whole_and_bounded() {
        let dir = TempDir::new();
        let path = |n: &str| format!("{}/{n}", dir.path());
        let text = format!("127.0.0.1\n5000\n{}\n7\n", "p".repeat(3000));
        std::fs::write(path("ok"), &text).unwrap();
        assert_eq!(read_info_file(&path("ok")).unwrap().render(), text);
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
        let e = list_info_files("/nonexistent/isoprobe").unwrap_err();
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
            let probes = probe_dir(dir.path(), CONNECT_TIMEOUT).unwrap();
            assert_eq!(probes.len(), 1);
            assert_eq!(probes[0].environment(), Environment::Host);
            let msgs = collect_messages(&probes, READ_TIMEOUT);
            assert_eq!(msgs[0].shm.as_deref(), Some("from-shm"));
            assert_eq!(msgs[0].socket.as_deref(), Some("from-socket"));
            drop(probes);
            handle.join().unwrap()
        });
        assert!(served, "server saw the client close");
    }

    #[test]
    fn malformed_file_counts_as_unreachable_with_warning() {
        let dir = TempDir::new();
        std::fs::write(format!("{}/bad", dir.path()), "::1\n1\nx\n1\n").unwrap();
        let probes = probe_dir(dir.path(), CONNECT_TIMEOUT).unwrap();
        assert_eq!(probes[0].environment(), Environment::Vm);
        assert!(warning_for(&probes[0]).unwrap().contains("IPv4"));
    }
}
