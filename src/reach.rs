//! The client's socket side under one deadline: resolve host names, connect
//! to every server at once (each address of a name in turn), and read every
//! connected server's message while other connects are still pending, in one
//! `poll` loop on non-blocking sockets.
//!
//! A message is complete at end of stream, or once the connection has been
//! quiet for `QUIET_PERIOD` after data arrived, so a server that sends and
//! then keeps its connection open costs that period, not the deadline. A
//! server that stays silent costs the deadline. A message that arrives
//! before the deadline may finish during the quiet period after it: a run
//! ends by `deadline + QUIET_PERIOD` at the latest.
//!
//! Bytes past `net::MAX_SOCKET_MESSAGE` (and after a NUL) are read and
//! discarded, not left unread, so closing the socket later sends the server
//! a FIN, not a reset, however long its message was.

use crate::announce::Host;
use crate::fd;
use crate::net::{recv_nowait, MAX_SOCKET_MESSAGE};
use crate::outcome::{ReadEnd, SocketOutcome, SocketRead};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a connection must stay quiet, after data arrived, for its
/// message to count as complete. Servers write their message in one call;
/// this only has to cover the gaps between the segments of one write.
pub const QUIET_PERIOD: Duration = Duration::from_millis(250);

/// How often the loop looks for finished name resolutions while some are
/// outstanding (the resolver threads cannot wake `poll`).
const RESOLVE_TICK: Duration = Duration::from_millis(5);

/// `recv` calls per socket per wake-up, so one fast sender cannot starve
/// the other sockets of the loop.
const RECVS_PER_WAKE: usize = 64;

/// Bytes asked of one `recv`.
const RECV_CHUNK: usize = 16 * 1024;

/// Most bytes `drain` discards before a close: what arrived after a message
/// was complete, so the close sends a FIN rather than a reset. A peer still
/// sending past this is reset.
pub const CLOSE_DRAIN_LIMIT: usize = 8 << 20;

/// Reads and discards, without waiting, what `fd` has received and nobody
/// read (at most `CLOSE_DRAIN_LIMIT` bytes), so that closing it does not
/// reset the connection.
pub fn drain(fd: BorrowedFd<'_>) {
    crate::net::discard_pending(fd, CLOSE_DRAIN_LIMIT);
}

/// Where to connect.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The announced host.
    pub host: Host,
    /// The announced port.
    pub port: u16,
}

/// One server's socket after the loop.
#[derive(Debug)]
pub struct Reached {
    /// What the connect did.
    pub outcome: SocketOutcome,
    /// The connected socket (non-blocking), when the handshake completed.
    pub stream: Option<TcpStream>,
    /// What it sent, when it connected.
    pub read: Option<SocketRead>,
}

enum State {
    Resolving,
    Connecting {
        addr: SocketAddr,
        rest: Vec<SocketAddr>,
    },
    Reading(Reader),
    Done,
}

/// The read of one connected socket.
struct Reader {
    kept: Vec<u8>,
    complete: bool,
    received: u64,
    last_data: Option<Instant>,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            kept: Vec::new(),
            complete: false,
            received: 0,
            last_data: None,
        }
    }

    fn take(&mut self, bytes: &[u8], now: Instant) {
        self.received += bytes.len() as u64;
        self.last_data = Some(now);
        if self.complete {
            return;
        }
        let nul = bytes.iter().position(|&b| b == 0);
        let data = &bytes[..nul.unwrap_or(bytes.len())];
        let room = MAX_SOCKET_MESSAGE - self.kept.len();
        self.kept.extend_from_slice(&data[..data.len().min(room)]);
        self.complete = nul.is_some() || self.kept.len() == MAX_SOCKET_MESSAGE;
    }

    fn finish(self, end: ReadEnd) -> SocketRead {
        let message = (self.received > 0 || end == ReadEnd::Eof).then(|| {
            let mut m = self.kept;
            while m.last().is_some_and(|b| b.is_ascii_whitespace()) {
                m.pop();
            }
            m
        });
        SocketRead {
            message,
            end,
            received: self.received,
        }
    }

    /// When this read completes by itself (quiet after data), if it has data.
    fn quiet_at(&self) -> Option<Instant> {
        self.last_data.map(|t| t + QUIET_PERIOD)
    }
}

/// An entry's socket: owned when the loop connected it, borrowed when the
/// caller connected it.
enum Socket<'a> {
    None,
    Owned(TcpStream),
    Borrowed(BorrowedFd<'a>),
}

impl Socket<'_> {
    fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Socket::None => None,
            Socket::Owned(stream) => Some(stream.as_fd()),
            Socket::Borrowed(fd) => Some(*fd),
        }
    }

    fn into_stream(self) -> Option<TcpStream> {
        match self {
            Socket::Owned(stream) => Some(stream),
            Socket::None | Socket::Borrowed(_) => None,
        }
    }
}

struct Entry<'a> {
    state: State,
    socket: Socket<'a>,
    outcome: Option<SocketOutcome>,
    read: Option<SocketRead>,
}

impl Entry<'_> {
    fn settle(&mut self, outcome: SocketOutcome) {
        self.outcome = Some(outcome);
        self.socket = Socket::None;
        self.state = State::Done;
    }

    fn end_read(&mut self, end: ReadEnd) {
        if let State::Reading(reader) = std::mem::replace(&mut self.state, State::Done) {
            self.read = Some(reader.finish(end));
        }
    }
}

/// When `connect_and_read` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Every connect settled and every connected server's message complete
    /// (or the deadline passed): the whole client run.
    AllRead,
    /// Every connect settled and every message that had started to arrive
    /// complete; a connected server that has sent nothing yet is left
    /// unread (`read` is `None`) for a later `read_all`. For the C API's
    /// `count_servers`, whose caller may be the server itself, one thread
    /// that accepts and writes only after `count_servers` returned.
    Connected,
}

/// Connects to every destination and reads what each connected server sends,
/// all within `timeout` (plus at most `QUIET_PERIOD` for a message that is
/// still arriving), until `until`. Result `i` belongs to `destinations[i]`.
pub fn connect_and_read(
    destinations: &[Destination],
    timeout: Duration,
    until: Until,
) -> Vec<Reached> {
    let start = Instant::now();
    let deadline = start + timeout;
    let (tx, rx) = mpsc::channel();
    let mut entries: Vec<Entry> = Vec::with_capacity(destinations.len());
    for (i, d) in destinations.iter().enumerate() {
        let mut entry = Entry {
            state: State::Done,
            socket: Socket::None,
            outcome: None,
            read: None,
        };
        match &d.host {
            Host::Ip(ip) => start_connect(&mut entry, SocketAddr::new(*ip, d.port), Vec::new()),
            Host::Name(name) => {
                entry.state = State::Resolving;
                spawn_resolver(i, name.clone(), d.port, tx.clone());
            }
        }
        entries.push(entry);
    }
    drop(tx);
    run_loop(&mut entries, deadline, timeout, Some(&rx), until);
    entries
        .into_iter()
        .map(|e| Reached {
            outcome: e
                .outcome
                .unwrap_or(SocketOutcome::DeadlinePassed { after: timeout }),
            stream: e.socket.into_stream(),
            read: e.read,
        })
        .collect()
}

/// Reads what each of the already connected `sockets` sends, all within
/// `timeout` (plus at most `QUIET_PERIOD`). Should a descriptor be closed
/// behind the borrow's back, poll's POLLNVAL ends its read with
/// `ReadEnd::Failed { errno: EBADF }` at once.
pub fn read_all(sockets: &[BorrowedFd<'_>], timeout: Duration) -> Vec<SocketRead> {
    let deadline = Instant::now() + timeout;
    let mut entries: Vec<Entry> = sockets
        .iter()
        .map(|s| Entry {
            state: State::Reading(Reader::new()),
            socket: Socket::Borrowed(*s),
            outcome: None,
            read: None,
        })
        .collect();
    run_loop(&mut entries, deadline, timeout, None, Until::AllRead);
    entries
        .into_iter()
        .map(|e| {
            e.read
                .unwrap_or_else(|| Reader::new().finish(ReadEnd::Silent))
        })
        .collect()
}

type Resolved = (usize, Result<Vec<SocketAddr>, String>);

/// Resolves `name` on a thread of its own: getaddrinfo (through std's
/// `ToSocketAddrs`) cannot be bounded by a deadline, so the loop waits for
/// the answer only as long as the run's deadline allows. A thread that is
/// still waiting then finishes on its own; its answer goes nowhere.
fn spawn_resolver(index: usize, name: String, port: u16, tx: mpsc::Sender<Resolved>) {
    let spawned = std::thread::Builder::new()
        .name("isoprobe-resolve".into())
        .spawn({
            let tx = tx.clone();
            let name = name.clone();
            move || {
                let result = (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|addrs| addrs.collect::<Vec<_>>())
                    .map_err(|e| e.to_string());
                let _ = tx.send((index, result));
            }
        });
    if let Err(e) = spawned {
        let _ = tx.send((index, Err(format!("cannot start a resolver thread: {e}"))));
    }
}

fn start_connect(entry: &mut Entry, addr: SocketAddr, rest: Vec<SocketAddr>) {
    let mut addr = addr;
    let mut rest = rest.into_iter();
    loop {
        match connect_nonblocking(addr) {
            Ok((sock, done)) => {
                entry.socket = Socket::Owned(sock);
                if done {
                    entry.outcome = Some(SocketOutcome::Connected { addr });
                    entry.state = State::Reading(Reader::new());
                } else {
                    entry.state = State::Connecting {
                        addr,
                        rest: rest.collect(),
                    };
                }
                return;
            }
            Err(outcome @ SocketOutcome::SocketFailed { .. }) => return entry.settle(outcome),
            Err(outcome) => match rest.next() {
                Some(next) => addr = next,
                None => return entry.settle(outcome),
            },
        }
    }
}

/// A non-blocking socket with a connect to `addr` started: `(socket, true)`
/// when it connected at once, `(socket, false)` while in progress.
fn connect_nonblocking(addr: SocketAddr) -> Result<(TcpStream, bool), SocketOutcome> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain syscall.
    let sock = unsafe { fd::own("socket", libc::socket(family, ty, 0)) }
        .map_err(|e| SocketOutcome::SocketFailed { errno: e.errno() })?;
    let (storage, len) = sockaddr_of(addr);
    // SAFETY: storage holds a valid sockaddr of `len` bytes.
    let rc = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if rc == 0 {
        return Ok((TcpStream::from(sock), true));
    }
    match crate::error::errno() {
        libc::EINPROGRESS | libc::EINTR => Ok((TcpStream::from(sock), false)),
        errno => Err(SocketOutcome::of_connect_errno(errno)),
    }
}

fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo().to_be(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// `SO_ERROR` of a socket whose connect finished: 0 when it connected.
fn pending_error(stream: &TcpStream) -> i32 {
    match stream.take_error() {
        Ok(None) => 0,
        Ok(Some(e)) | Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// The loop: one `poll` over every socket still connecting (POLLOUT) or
/// reading (POLLIN), until each entry is done or the time is up.
fn run_loop(
    entries: &mut [Entry],
    deadline: Instant,
    timeout: Duration,
    resolver: Option<&mpsc::Receiver<Resolved>>,
    until: Until,
) {
    let mut chunk = vec![0u8; RECV_CHUNK];
    loop {
        let now = Instant::now();
        if let Some(rx) = resolver {
            while let Ok((i, result)) = rx.try_recv() {
                on_resolved(&mut entries[i], result);
            }
        }
        expire(entries, now, deadline, timeout);
        if until == Until::Connected && only_unstarted_reads_left(entries) {
            for e in entries.iter_mut() {
                if matches!(e.state, State::Reading(_)) {
                    e.state = State::Done; // nothing was consumed: read later
                }
            }
            return;
        }
        let (mut fds, owners, wake) = poll_set(entries, now, deadline);
        let Some(wake) = wake else {
            return;
        };
        let wait = wake.saturating_duration_since(now);
        // Round up, so the loop never spins on a sub-millisecond remainder.
        let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: fds is a valid array of fds.len() pollfd records.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if rc == -1 {
            let errno = crate::error::errno();
            if errno == libc::EINTR {
                continue;
            }
            // poll itself failed (ENOMEM): nothing more can be waited for.
            for e in entries.iter_mut() {
                match e.state {
                    State::Reading(_) => e.end_read(ReadEnd::Failed { errno }),
                    State::Connecting { .. } | State::Resolving => {
                        e.settle(SocketOutcome::ConnectFailed { errno })
                    }
                    State::Done => {}
                }
            }
            return;
        }
        let now = Instant::now();
        for (p, &i) in fds.iter().zip(&owners) {
            if p.revents != 0 {
                on_ready(&mut entries[i], p.revents, now, &mut chunk);
            }
        }
    }
}

/// What to poll for, whose it is, and when the loop must wake at the latest
/// (`None`: nothing is left to wait for).
fn poll_set(
    entries: &[Entry],
    now: Instant,
    deadline: Instant,
) -> (Vec<libc::pollfd>, Vec<usize>, Option<Instant>) {
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut owners: Vec<usize> = Vec::new();
    let mut wake = None::<Instant>;
    let mut earliest = |t: Instant| wake = Some(wake.map_or(t, |w: Instant| w.min(t)));
    for (i, e) in entries.iter().enumerate() {
        let events = match &e.state {
            State::Connecting { .. } => {
                earliest(deadline);
                libc::POLLOUT
            }
            State::Reading(r) => {
                earliest(match r.quiet_at() {
                    Some(q) => q.min(deadline + QUIET_PERIOD),
                    None => deadline,
                });
                libc::POLLIN
            }
            State::Resolving => {
                earliest(deadline.min(now + RESOLVE_TICK));
                continue;
            }
            State::Done => continue,
        };
        fds.push(libc::pollfd {
            // Every connecting or reading entry has a socket; poll skips -1.
            fd: e.socket.fd().map_or(-1, |fd| fd.as_raw_fd()),
            events,
            revents: 0,
        });
        owners.push(i);
    }
    (fds, owners, wake)
}

/// True when nothing is resolving or connecting and no message has started
/// to arrive without being complete.
fn only_unstarted_reads_left(entries: &[Entry]) -> bool {
    entries.iter().all(|e| match &e.state {
        State::Done => true,
        State::Reading(r) => r.last_data.is_none(),
        State::Resolving | State::Connecting { .. } => false,
    })
}

fn on_resolved(entry: &mut Entry, result: Result<Vec<SocketAddr>, String>) {
    if !matches!(entry.state, State::Resolving) {
        return;
    }
    match result {
        Ok(addrs) if !addrs.is_empty() => {
            let mut addrs = addrs.into_iter();
            let first = addrs.next().expect("not empty");
            start_connect(entry, first, addrs.collect());
        }
        Ok(_) => entry.settle(SocketOutcome::NameNotResolved {
            reason: "the name has no address".into(),
        }),
        Err(reason) => entry.settle(SocketOutcome::NameNotResolved { reason }),
    }
}

/// Ends what the clock has ended: connects and resolutions at the deadline,
/// silent reads at the deadline, reads with data after their quiet period
/// (or `QUIET_PERIOD` past the deadline).
fn expire(entries: &mut [Entry], now: Instant, deadline: Instant, timeout: Duration) {
    for e in entries.iter_mut() {
        match &e.state {
            State::Resolving if now >= deadline => e.settle(SocketOutcome::NameNotResolved {
                reason: format!(
                    "no answer from the resolver within the {} ms deadline",
                    timeout.as_millis()
                ),
            }),
            State::Connecting { .. } if now >= deadline => {
                e.settle(SocketOutcome::DeadlinePassed { after: timeout })
            }
            State::Reading(r) => match r.quiet_at() {
                Some(q) if now >= q.min(deadline + QUIET_PERIOD) => e.end_read(ReadEnd::Quiet),
                None if now >= deadline => e.end_read(ReadEnd::Silent),
                _ => {}
            },
            _ => {}
        }
    }
}

fn on_ready(entry: &mut Entry, revents: libc::c_short, now: Instant, chunk: &mut [u8]) {
    if revents & libc::POLLNVAL != 0 {
        return entry.end_read(ReadEnd::Failed { errno: libc::EBADF });
    }
    match &mut entry.state {
        State::Connecting { addr, rest } => {
            let (addr, rest) = (*addr, std::mem::take(rest));
            // Only the loop's own sockets connect; EBADF should one not.
            let errno = match &entry.socket {
                Socket::Owned(stream) => pending_error(stream),
                Socket::None | Socket::Borrowed(_) => libc::EBADF,
            };
            match errno {
                0 => {
                    entry.outcome = Some(SocketOutcome::Connected { addr });
                    entry.state = State::Reading(Reader::new());
                }
                // Linux reports a reset that answers the SYN as ECONNREFUSED;
                // ECONNRESET (or EPIPE) means the handshake had completed and
                // the server reset the connection before this loop looked:
                // the socket was reached, and the read is over.
                errno @ (libc::ECONNRESET | libc::EPIPE) => {
                    entry.outcome = Some(SocketOutcome::Connected { addr });
                    entry.state = State::Reading(Reader::new());
                    entry.end_read(ReadEnd::Failed { errno });
                }
                errno => {
                    let failure = SocketOutcome::of_connect_errno(errno);
                    let mut rest = rest.into_iter();
                    match rest.next() {
                        Some(next) => start_connect(entry, next, rest.collect()),
                        None => entry.settle(failure),
                    }
                }
            }
        }
        State::Reading(reader) => {
            let Some(fd) = entry.socket.fd() else {
                return entry.end_read(ReadEnd::Failed { errno: libc::EBADF });
            };
            if let Some(end) = read_ready(reader, fd, now, chunk) {
                entry.end_read(end);
            }
        }
        State::Resolving | State::Done => {}
    }
}

/// Reads what `fd` has (at most `RECVS_PER_WAKE` chunks); the end of the
/// read when it ended.
fn read_ready(
    reader: &mut Reader,
    fd: BorrowedFd<'_>,
    now: Instant,
    chunk: &mut [u8],
) -> Option<ReadEnd> {
    for _ in 0..RECVS_PER_WAKE {
        match recv_nowait(fd, chunk) {
            Ok(0) => return Some(ReadEnd::Eof),
            Ok(n) => reader.take(&chunk[..n], now),
            Err(e) if e.errno() == libc::EAGAIN => return None,
            Err(e) => return Some(ReadEnd::Failed { errno: e.errno() }),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};

    fn dest(addr: SocketAddr) -> Destination {
        Destination {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }

    /// The next client of `l`, within 10 s: a connect that never comes
    /// fails the test instead of hanging it.
    fn accept(l: &TcpListener) -> TcpStream {
        crate::net::accept_within(l.as_fd(), Duration::from_secs(10))
            .unwrap()
            .expect("no client connected within 10 s")
    }

    fn listener() -> (TcpListener, SocketAddr) {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    }

    #[test]
    fn lingering_server_costs_the_quiet_period_not_the_deadline() {
        let (l, addr) = listener();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let mut c = accept(&l);
            c.write_all(b"hello \n").unwrap();
            let _ = done_rx.recv(); // keep the connection open until told
        });
        let start = Instant::now();
        let r = connect_and_read(&[dest(addr)], Duration::from_secs(5), Until::AllRead);
        let took = start.elapsed();
        done_tx.send(()).unwrap();
        server.join().unwrap();
        assert!(r[0].outcome.reached());
        let read = r[0].read.as_ref().unwrap();
        assert_eq!(read.message.as_deref(), Some(&b"hello"[..]));
        assert_eq!(read.end, ReadEnd::Quiet);
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[test]
    fn reset_after_handshake_is_still_connected() {
        let (l, addr) = listener();
        let server = std::thread::spawn(move || {
            let c = accept(&l);
            // SO_LINGER 0: close sends a reset.
            let lin = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: lin is a valid linger record.
            unsafe {
                libc::setsockopt(
                    c.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&lin as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                )
            };
        });
        let r = connect_and_read(&[dest(addr)], Duration::from_secs(5), Until::AllRead);
        server.join().unwrap();
        assert_eq!(r[0].outcome, SocketOutcome::Connected { addr });
        let end = r[0].read.as_ref().unwrap().end;
        assert!(
            matches!(
                end,
                ReadEnd::Failed {
                    errno: libc::ECONNRESET
                } | ReadEnd::Eof
            ),
            "{end:?}"
        );
    }

    #[test]
    fn refused_and_names_are_typed() {
        let (l, addr) = listener();
        drop(l);
        let r = connect_and_read(
            &[
                dest(addr),
                Destination {
                    host: Host::Name("name.invalid".into()),
                    port: 1,
                },
            ],
            Duration::from_secs(5),
            Until::AllRead,
        );
        assert_eq!(r[0].outcome, SocketOutcome::Refused);
        assert_eq!(
            r[0].outcome.failure(),
            Some(("connect", libc::ECONNREFUSED))
        );
        assert!(
            matches!(r[1].outcome, SocketOutcome::NameNotResolved { .. }),
            "{:?}",
            r[1].outcome
        );
        assert!(r[0].stream.is_none() && r[0].read.is_none());
    }

    #[test]
    fn localhost_tries_each_address() {
        // Listening on IPv4 only: if localhost resolves to ::1 first, that
        // attempt is refused and 127.0.0.1 is tried next.
        let (l, addr) = listener();
        let server = std::thread::spawn(move || {
            let mut c = accept(&l);
            c.write_all(b"named").unwrap();
        });
        let r = connect_and_read(
            &[Destination {
                host: Host::Name("localhost".into()),
                port: addr.port(),
            }],
            Duration::from_secs(5),
            Until::AllRead,
        );
        server.join().unwrap();
        assert_eq!(r[0].outcome, SocketOutcome::Connected { addr });
        assert_eq!(
            r[0].read.as_ref().unwrap().message.as_deref(),
            Some(&b"named"[..])
        );
    }

    #[test]
    fn long_message_is_drained_not_reset() {
        let (l, addr) = listener();
        const BIG: usize = 8 << 20;
        let server = std::thread::spawn(move || {
            let mut c = accept(&l);
            let sent = c.write_all(&vec![b'x'; BIG]);
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            (sent, c.read_to_end(&mut rest).map(|_| ()))
        });
        let r = connect_and_read(&[dest(addr)], Duration::from_secs(5), Until::AllRead);
        let read = r[0].read.clone().unwrap();
        drop(r);
        let (sent, closed) = server.join().unwrap();
        sent.unwrap();
        closed.expect("the client closed without a reset");
        assert_eq!(read.end, ReadEnd::Eof);
        assert_eq!(read.received, BIG as u64);
        assert_eq!(read.message.unwrap().len(), MAX_SOCKET_MESSAGE);
    }

    #[test]
    fn silent_server_costs_the_deadline_and_sends_nothing() {
        let (l, addr) = listener();
        let client = std::net::TcpStream::connect(addr).unwrap();
        let _conn = accept(&l);
        let start = Instant::now();
        let r = read_all(&[client.as_fd()], Duration::from_millis(300));
        assert_eq!(r[0].end, ReadEnd::Silent);
        assert_eq!(r[0].message, None);
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    use std::os::fd::AsFd;
}
