//! The server: a listening socket and a shared-memory segment, announced in
//! an info file. `Server` owns all three (and the accepted connection);
//! dropping it frees everything, so every error path cleans up by itself.

use crate::error::{Error, Result};
use crate::info_file::{self, PublishedFile};
use crate::net;
use crate::shm::{self, Segment, SHARED_MEMORY_SIZE};
use crate::signals::{self, Registration};
use std::ffi::OsString;
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long `get_connection` waits for a client, as the course asks.
pub const ACCEPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `run` waits for the client to close after the message was sent.
pub const PEER_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a server is told to set up (the course's `server_setup_information`).
/// Paths and names are bytes, as the kernel takes them: they need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// TCP port to listen on (0: any free port; the info file names the real one).
    pub port: u16,
    /// Existing path given to `ftok` to name the segment.
    pub shm_pathname: PathBuf,
    /// `ftok` proj id; its low 8 bits must not be 0.
    pub shm_proj_id: i32,
    /// Name of the info file (a plain name, not starting with '.').
    pub info_file_name: OsString,
    /// Directory the info file is published in.
    pub info_file_directory: PathBuf,
}

impl Setup {
    /// Refuses arguments that cannot work, before any resource is created.
    pub fn validate(&self) -> Result<()> {
        shm::c_path("shm_pathname", &self.shm_pathname)?;
        if self.shm_pathname.as_os_str().as_bytes().contains(&b'\n') {
            // The info file is one field per line: a newline cannot be announced.
            return Err(Error::invalid(format!(
                "shm_pathname {:?} contains a newline, which the info file cannot carry",
                self.shm_pathname
            )));
        }
        shm::validate_proj_id(self.shm_proj_id)?;
        info_file::validate_name(&self.info_file_name)?;
        shm::c_path("info_file_directory", &self.info_file_directory)?;
        Ok(())
    }
}

/// Timeouts of `run`; the defaults are the course's.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long to wait for a client (course: 120 s).
    pub accept: Duration,
    /// How long to wait for the client to close after the message.
    pub peer_close: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            accept: ACCEPT_TIMEOUT,
            peer_close: PEER_CLOSE_TIMEOUT,
        }
    }
}

/// A live server. Field order is drop order: the connection and listener
/// close, then the registration ends, which removes the info file and the
/// segment when this process owns the server (see `signals`: a process that
/// only inherited it by `fork` removes nothing).
#[derive(Debug)]
pub struct Server {
    connection: Option<TcpStream>,
    listener: TcpListener,
    registration: Registration,
    address: SocketAddrV4,
}

/// A server taken apart: what C holds as the numbers of a
/// `live_server_info`, and what `ServerParts::shutdown` frees.
#[derive(Debug)]
pub struct ServerParts {
    /// The listening socket, if it is still open.
    pub listener: Option<TcpListener>,
    /// The accepted connection, if there is one.
    pub connection: Option<TcpStream>,
    /// The created segment (its removal is registered with the signal
    /// handlers, so it is an id, not an owner).
    pub shmid: i32,
    /// The published info file, or empty.
    pub info_file_path: PathBuf,
}

/// `path` made absolute against the current working directory, so that a
/// later `chdir` cannot change what it names.
fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let cwd = std::env::current_dir().map_err(|e| Error::from_io("getcwd", &e))?;
    Ok(cwd.join(path))
}

impl Server {
    /// Creates the segment `ftok(shm_pathname, shm_proj_id)` and listens on
    /// this machine's IPv4 address at `port`. A dead server's segment under
    /// the same key is reclaimed (see `shm::reclaim_stale`).
    pub fn start(setup: &Setup) -> Result<Server> {
        setup.validate()?;
        let cwd = if setup.shm_pathname.is_relative() {
            Some(std::env::current_dir().map_err(|e| Error::from_io("getcwd", &e))?)
        } else {
            None
        };
        let key = shm::key_for(&setup.shm_pathname, setup.shm_proj_id)?;
        let segment = Segment::create_reclaiming(key)?;
        let registration = signals::register(segment.id(), key, cwd.as_deref())?;
        segment.into_raw(); // the registration removes it from now on
        let listener = net::listen(SocketAddrV4::new(net::local_ipv4(), setup.port))?;
        let address = net::local_addr(&listener)?;
        Ok(Server {
            connection: None,
            listener,
            registration,
            address,
        })
    }

    /// The address the server listens on (and announces).
    pub fn address(&self) -> SocketAddrV4 {
        self.address
    }

    /// The segment id.
    pub fn shmid(&self) -> i32 {
        self.registration.shmid()
    }

    /// Publishes the info file; returns its path. Publishing again replaces
    /// the previous file (removed unless it is the same one).
    pub fn publish_info_file(&mut self, setup: &Setup) -> Result<PathBuf> {
        publish(setup, self.address, self.shmid())
    }

    /// Writes `msg` (bytes, not necessarily UTF-8) NUL-terminated into the segment.
    pub fn write_shm(&self, msg: impl AsRef<[u8]>) -> Result<()> {
        signals::claim(self.shmid());
        shm::write_message(self.shmid(), msg.as_ref())
    }

    /// Waits up to `timeout` for a client; true when one connected.
    pub fn accept_within(&mut self, timeout: Duration) -> Result<bool> {
        signals::claim(self.shmid());
        self.connection = net::accept_within(self.listener.as_fd(), timeout)?;
        Ok(self.connection.is_some())
    }

    /// Sends `msg` to the connected client, within `net::SEND_TIMEOUT`;
    /// may be called any number of times (`await_client_close` and
    /// shutdown end the connection).
    pub fn send(&self, msg: impl AsRef<[u8]>) -> Result<()> {
        signals::claim(self.shmid());
        let conn = self
            .connection
            .as_ref()
            .ok_or_else(|| Error::invalid("no client is connected"))?;
        net::send_all_within(conn.as_fd(), msg.as_ref(), net::SEND_TIMEOUT)
    }

    /// Half-closes the connection (the client reads end-of-stream) and
    /// waits up to `timeout` for the client to close; true when it did.
    pub fn await_client_close(&self, timeout: Duration) -> Result<bool> {
        match &self.connection {
            Some(conn) => {
                net::finish(conn)?;
                net::await_peer_close(conn.as_fd(), timeout)
            }
            None => Ok(true),
        }
    }

    /// Frees everything, reporting the first failure (drop frees silently).
    pub fn shutdown(self) -> Result<()> {
        self.into_parts().shutdown()
    }

    /// Takes the server apart, for C to hold; `ServerParts::shutdown`
    /// frees the parts later.
    pub fn into_parts(self) -> ServerParts {
        let Server {
            connection,
            listener,
            registration,
            ..
        } = self;
        let shmid = registration.into_raw();
        ServerParts {
            listener: Some(listener),
            connection,
            shmid,
            info_file_path: signals::info_file(shmid)
                .map(|(p, _)| p)
                .unwrap_or_default(),
        }
    }
}

/// Writes the info file for a server listening on `address` with segment
/// `shmid`, and returns its (absolute) path. The directory is resolved now,
/// so a later `chdir` cannot redirect the shutdown; a relative shm path is
/// announced absolute, against the directory the server was created in, so
/// a client elsewhere computes the same key. The server's previous info
/// file, if any other, is removed (if it is still its own).
pub fn publish(setup: &Setup, address: SocketAddrV4, shmid: i32) -> Result<PathBuf> {
    setup.validate()?;
    if !signals::is_registered(shmid) {
        return Err(Error::invalid(format!(
            "shmid {shmid} is not a live server of this process"
        )));
    }
    signals::claim(shmid);
    let dir = absolute(&setup.info_file_directory)?;
    let shm_path = match signals::creation_cwd(shmid) {
        Some(cwd) if setup.shm_pathname.is_relative() => cwd.join(&setup.shm_pathname),
        _ => absolute(&setup.shm_pathname)?,
    };
    let content = info_file::announcement(
        *address.ip(),
        address.port(),
        shm_path.as_os_str(),
        setup.shm_proj_id,
    );
    // Registered for signal-time removal before the rename makes the file
    // visible: whoever sees it appear (a client, a test, a user) may send
    // SIGTERM at once, and the handler must already know the file then.
    let mut previous = None;
    let published = PublishedFile::publish_then(&dir, &setup.info_file_name, &content, |p, id| {
        previous = signals::replace_file(shmid, Some((p, id)));
    });
    match published {
        Ok(file) => {
            let id = file.id();
            let path = file.into_path(); // the registration removes it from now on
            if let Some((old, old_id)) = previous.filter(|(_, old_id)| *old_id != id) {
                info_file::unlink_if_same(&shm::c_path("info file path", &old)?, old_id)?;
            }
            Ok(path)
        }
        Err(e) => {
            let previous = previous.as_ref().map(|(p, id)| (p.as_path(), *id));
            drop(signals::replace_file(shmid, previous));
            Err(e)
        }
    }
}

impl ServerParts {
    /// Frees the parts: ends the connection (half-close, then close) and
    /// closes the listener, and, taking the server over, removes the
    /// segment and unlinks the info file (each only if still its own).
    /// Every step runs; the first failure is reported.
    pub fn shutdown(self) -> Result<()> {
        let results = [
            self.connection.map_or(Ok(()), net::finish_and_close),
            self.listener.map_or(Ok(()), |l| crate::fd::close(l.into())),
            signals::shutdown(self.shmid),
        ];
        results.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
    }
}

/// What `run` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// A client connected, got the message, and closed.
    Served,
    /// A client connected and got the message but did not close in time.
    ServedClientLingered,
    /// No client came within the accept timeout; nothing was sent.
    NoClient,
}

/// The course's `run`: start, publish, write the shm message, wait for a
/// client, send the socket message, wait for the client to close, shut down.
pub fn run(
    setup: &Setup,
    shm_msg: impl AsRef<[u8]>,
    socket_msg: impl AsRef<[u8]>,
    timeouts: Timeouts,
) -> Result<RunOutcome> {
    let (shm_msg, socket_msg) = (shm_msg.as_ref(), socket_msg.as_ref());
    if shm_msg.len() >= SHARED_MEMORY_SIZE || shm_msg.contains(&0) {
        return Err(Error::invalid(format!(
            "shm message must be at most {} bytes without NUL (got {})",
            SHARED_MEMORY_SIZE - 1,
            shm_msg.len()
        )));
    }
    let mut server = Server::start(setup)?;
    server.write_shm(shm_msg)?;
    server.publish_info_file(setup)?;
    let outcome = if server.accept_within(timeouts.accept)? {
        server.send(socket_msg)?;
        if server.await_client_close(timeouts.peer_close)? {
            RunOutcome::Served
        } else {
            RunOutcome::ServedClientLingered
        }
    } else {
        RunOutcome::NoClient
    };
    server.shutdown()?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info_file::InfoFile;
    use crate::testutil::TempDir;

    fn setup(dir: &TempDir, name: &str, proj: i32) -> Setup {
        Setup {
            port: 0,
            shm_pathname: dir.path().into(),
            shm_proj_id: proj,
            info_file_name: name.into(),
            info_file_directory: dir.path().into(),
        }
    }

    #[test]
    fn start_publish_and_drop_leave_nothing() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 11);
        let mut server = Server::start(&s).unwrap();
        let shmid = server.shmid();
        let path = server.publish_info_file(&s).unwrap().to_owned();
        let parsed = InfoFile::parse(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(parsed.port, server.address().port());
        assert_eq!(parsed.shm_proj_id, 11);
        drop(server);
        assert!(!path.exists());
        assert!(crate::shm::Attachment::attach(shmid, true).is_err());
    }

    #[test]
    fn publishing_again_keeps_exactly_the_latest_file() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 16);
        let mut server = Server::start(&s).unwrap();
        let first = server.publish_info_file(&s).unwrap().to_owned();
        let again = server.publish_info_file(&s).unwrap().to_owned();
        assert_eq!(first, again);
        assert!(again.exists(), "same name: still there");
        let renamed = setup(&dir, "b.txt", 16);
        let second = server.publish_info_file(&renamed).unwrap().to_owned();
        assert!(!first.exists(), "old name removed");
        drop(server);
        assert!(!second.exists());
    }

    #[test]
    fn missing_shm_path_fails_in_ftok_and_leaks_nothing() {
        let dir = TempDir::new();
        let mut s = setup(&dir, "a.txt", 12);
        s.shm_pathname = "/nonexistent/isoprobe".into();
        assert_eq!(Server::start(&s).unwrap_err().call(), Some("ftok"));
    }

    #[test]
    fn second_server_on_same_key_is_refused() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 13);
        let _first = Server::start(&s).unwrap();
        assert_eq!(Server::start(&s).unwrap_err().errno(), libc::EEXIST);
    }

    /// A segment under `setup`'s key made by a child that then exits.
    fn stale_segment(s: &Setup) -> i32 {
        let key = shm::key_for(&s.shm_pathname, s.shm_proj_id).unwrap();
        // SAFETY: the child makes one syscall and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: the forked child only makes async-signal-safe calls (shmget,
            // _exit) on plain integers, then exits.
            unsafe {
                let ok = libc::shmget(key, 4096, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) >= 0;
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: status is a valid out-pointer; pid is our child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert_eq!(status, 0, "child created the segment");
        // SAFETY: a plain lookup with integer arguments; nothing is created.
        unsafe { libc::shmget(key, 0, 0) }
    }

    #[test]
    fn a_dead_servers_segment_is_reclaimed_a_held_one_is_not() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 17);
        let stale = stale_segment(&s);
        assert!(stale >= 0);
        let server = Server::start(&s).unwrap();
        assert_ne!(server.shmid(), stale);
        drop(server);
        // Attached by this (live) process: not stale, still EEXIST.
        let held = stale_segment(&s);
        let att = crate::shm::Attachment::attach(held, true).unwrap();
        assert_eq!(Server::start(&s).unwrap_err().errno(), libc::EEXIST);
        drop(att);
        crate::shm::remove_id(held).unwrap();
    }

    #[test]
    fn relative_paths_are_fixed_when_given() {
        let dir = TempDir::new();
        let mut s = setup(&dir, "a.txt", 18);
        // Relative to the current directory, whatever it is.
        let cwd = std::env::current_dir().unwrap();
        let rel = pathdiff(Path::new(dir.path()), &cwd);
        s.shm_pathname = rel.clone();
        s.info_file_directory = rel;
        let mut server = Server::start(&s).unwrap();
        let path = server.publish_info_file(&s).unwrap();
        assert!(path.is_absolute(), "{path:?}");
        let text = std::fs::read(&path).unwrap();
        let parsed = InfoFile::parse(&text).unwrap();
        let announced = Path::new(&parsed.shm_pathname);
        assert!(announced.is_absolute(), "{announced:?}");
        assert_eq!(
            announced.canonicalize().unwrap(),
            Path::new(dir.path()).canonicalize().unwrap()
        );
        drop(server);
        assert!(!path.exists());
    }

    /// `to` relative to `from` (both absolute), through `..` as needed.
    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let up = from.components().count() - 1;
        let mut rel: PathBuf = std::iter::repeat_n("..", up).collect();
        rel.push(to.strip_prefix("/").unwrap());
        rel
    }

    #[test]
    fn sends_any_number_of_times_and_a_reader_that_stops_times_out() {
        use std::io::Read;
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 19);
        let mut server = Server::start(&s).unwrap();
        let mut client = std::net::TcpStream::connect(server.address()).unwrap();
        assert!(server.accept_within(Duration::from_secs(5)).unwrap());
        server.send("one ").unwrap();
        server.send(b"two \xff").unwrap();
        assert!(!server.await_client_close(Duration::ZERO).unwrap());
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"one two \xff");
        drop(client);
        drop(server);

        // A client that never reads: the send fails in its bound.
        let mut server = Server::start(&s).unwrap();
        let _silent = std::net::TcpStream::connect(server.address()).unwrap();
        assert!(server.accept_within(Duration::from_secs(5)).unwrap());
        let conn = server.connection.as_ref().unwrap().as_fd();
        let big = vec![b'x'; 64 << 20];
        let start = std::time::Instant::now();
        let err = net::send_all_within(conn, &big, Duration::from_millis(300)).unwrap_err();
        assert_eq!(
            err,
            Error::TimedOut {
                call: "send",
                after: Duration::from_millis(300)
            }
        );
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn run_without_client_times_out_and_cleans_up() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 14);
        let t = Timeouts {
            accept: Duration::from_millis(50),
            peer_close: Duration::from_millis(50),
        };
        assert_eq!(run(&s, "m", "n", t).unwrap(), RunOutcome::NoClient);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn shutdown_after_rm_and_ipcrm_closes_the_rest_and_succeeds() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 16);
        let mut server = Server::start(&s).unwrap();
        let path = server.publish_info_file(&s).unwrap().to_owned();
        let address = server.address();
        let parts = server.into_parts();
        std::fs::remove_file(&path).unwrap();
        crate::shm::remove_id(parts.shmid).unwrap();
        parts.shutdown().unwrap();
        // The listener is closed: nobody accepts on its address any more.
        let refused = std::net::TcpStream::connect(address).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn oversized_shm_message_is_refused_before_anything_exists() {
        let dir = TempDir::new();
        let s = setup(&dir, "a.txt", 15);
        let big = vec![b'x'; SHARED_MEMORY_SIZE];
        assert!(matches!(
            run(&s, &big, "n", Timeouts::default()),
            Err(Error::Invalid(_))
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
