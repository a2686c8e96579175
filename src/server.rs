//! The server: a listening socket and a shared-memory segment, announced in
//! an info file. `Server` owns all three (and the accepted connection);
//! dropping it frees everything, so every error path cleans up by itself.

use crate::error::{Error, Result};
use crate::info_file::{self, PublishedFile};
use crate::net;
use crate::shm::{self, Segment, SHARED_MEMORY_SIZE};
use crate::signals::Protection;
use std::ffi::OsString;
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
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
/// close, the info file goes, then the segment is removed.
#[derive(Debug)]
pub struct Server {
    connection: Option<OwnedFd>,
    listener: OwnedFd,
    info_file: Option<PublishedFile>,
    segment: Segment,
    address: SocketAddrV4,
    protection: Protection,
}

/// The raw handles of a server whose ownership passed to C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawServer {
    /// The listening socket.
    pub server_fd: RawFd,
    /// The accepted connection, or -1.
    pub client_fd: RawFd,
    /// The created segment.
    pub shmid: i32,
    /// The published info file, or empty.
    pub info_file_path: PathBuf,
}

impl Server {
    /// Creates the segment `ftok(shm_pathname, shm_proj_id)` and listens on
    /// this machine's IPv4 address at `port`.
    pub fn start(setup: &Setup) -> Result<Server> {
        setup.validate()?;
        let key = shm::key_for(&setup.shm_pathname, setup.shm_proj_id)?;
        let segment = Segment::create(key)?;
        let protection = Protection::new(segment.id());
        let listener = net::listen(SocketAddrV4::new(net::local_ipv4(), setup.port))?;
        let address = net::local_addr(listener.as_raw_fd())?;
        Ok(Server {
            connection: None,
            listener,
            info_file: None,
            segment,
            address,
            protection,
        })
    }

    /// The address the server listens on (and announces).
    pub fn address(&self) -> SocketAddrV4 {
        self.address
    }

    /// The segment id.
    pub fn shmid(&self) -> i32 {
        self.segment.id()
    }

    /// Publishes the info file; returns its path. Publishing again replaces
    /// the previous file (removed unless it is the same one).
    pub fn publish_info_file(&mut self, setup: &Setup) -> Result<&Path> {
        let file = publish(setup, self.address, self.segment.id())?;
        // Taken out un-dropped: dropping it would unlink a same-named new file.
        if let Some(previous) = self.info_file.take().map(PublishedFile::into_path) {
            info_file::remove_replaced(&previous, file.path())?;
        }
        Ok(self.info_file.insert(file).path())
    }

    /// Writes `msg` (bytes, not necessarily UTF-8) NUL-terminated into the segment.
    pub fn write_shm(&self, msg: impl AsRef<[u8]>) -> Result<()> {
        self.segment.write_message(msg.as_ref())
    }

    /// Waits up to `timeout` for a client; true when one connected.
    pub fn accept_within(&mut self, timeout: Duration) -> Result<bool> {
        self.connection = net::accept_within(self.listener.as_raw_fd(), timeout)?;
        Ok(self.connection.is_some())
    }

    /// Sends `msg` to the connected client and half-closes.
    pub fn send(&self, msg: impl AsRef<[u8]>) -> Result<()> {
        let conn = self
            .connection
            .as_ref()
            .ok_or_else(|| Error::invalid("no client is connected"))?;
        net::send_all_and_finish(conn.as_raw_fd(), msg.as_ref())
    }

    /// Waits up to `timeout` for the client to close; true when it did.
    pub fn await_client_close(&self, timeout: Duration) -> Result<bool> {
        match &self.connection {
            Some(conn) => net::await_peer_close(conn.as_raw_fd(), timeout),
            None => Ok(true),
        }
    }

    /// Frees everything, reporting the first failure (drop frees silently).
    pub fn shutdown(self) -> Result<()> {
        shutdown_raw(self.into_raw())
    }

    /// Hands the handles to C; `shutdown_raw` frees them later.
    pub fn into_raw(self) -> RawServer {
        let Server {
            connection,
            listener,
            info_file,
            segment,
            protection,
            ..
        } = self;
        std::mem::forget(protection); // released by shutdown_raw
        RawServer {
            server_fd: listener.into_raw_fd(),
            client_fd: connection.map_or(-1, IntoRawFd::into_raw_fd),
            shmid: segment.into_raw(),
            info_file_path: info_file.map_or_else(PathBuf::new, PublishedFile::into_path),
        }
    }
}

/// Writes the info file for a server listening on `address` with segment `shmid`.
pub fn publish(setup: &Setup, address: SocketAddrV4, shmid: i32) -> Result<PublishedFile> {
    setup.validate()?;
    let content = info_file::announcement(
        *address.ip(),
        address.port(),
        setup.shm_pathname.as_os_str(),
        setup.shm_proj_id,
    );
    // Registered for signal-time removal before the rename makes the file
    // visible: whoever sees it appear (a client, a test, a user) may send
    // SIGTERM at once, and the handler must already know the file then.
    let final_path = setup.info_file_directory.join(&setup.info_file_name);
    let previous = crate::signals::replace_file(shmid, Some(&final_path));
    match PublishedFile::publish(&setup.info_file_directory, &setup.info_file_name, &content) {
        Ok(file) => {
            crate::signals::protect_file(shmid, file.path());
            Ok(file)
        }
        Err(e) => {
            let previous = previous.map(|p| PathBuf::from(OsString::from_vec(p.into_bytes())));
            drop(crate::signals::replace_file(shmid, previous.as_deref()));
            Err(e)
        }
    }
}

/// Frees a server's raw handles: closes both sockets, removes the segment,
/// unlinks the info file. Every step runs; the first failure is reported.
pub fn shutdown_raw(raw: RawServer) -> Result<()> {
    crate::signals::release(raw.shmid);
    let results = [
        crate::fd::close_raw(raw.client_fd),
        crate::fd::close_raw(raw.server_fd),
        shm::remove_id(raw.shmid).or_else(segment_already_gone),
        info_file::remove_path(&raw.info_file_path),
    ];
    results.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
}

/// A segment removed behind the server's back (ipcrm) is what shutdown
/// wanted anyway, like an info file already gone (see `remove_path`): not a
/// failure to report (and exit 1 on).
fn segment_already_gone(e: Error) -> Result<()> {
    match e.errno() {
        libc::EINVAL | libc::EIDRM => Ok(()),
        _ => Err(e),
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
        let raw = server.into_raw();
        std::fs::remove_file(&path).unwrap();
        crate::shm::remove_id(raw.shmid).unwrap();
        let listener = raw.server_fd;
        shutdown_raw(raw).unwrap();
        assert_eq!(unsafe { libc::fcntl(listener, libc::F_GETFD) }, -1);
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
