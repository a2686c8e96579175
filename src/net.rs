//! TCP (TLPI ch. 56-61): the server's listening socket and its one accepted
//! connection, and the client's non-blocking connects that all share one
//! deadline. Every call is checked; sends never raise SIGPIPE.

use crate::error::{check, retry_eintr, Error, Result};
use crate::fd::{self, deadline_after, select_until, FdSet};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Largest socket message the client reads: reading stops there, so a
/// flooding peer costs at most this much memory.
pub const MAX_SOCKET_MESSAGE: usize = 64 * 1024;

/// Room for a host name: Linux allows 64 bytes (HOST_NAME_MAX), POSIX
/// promises at most 255; one more byte keeps the terminating NUL.
const HOSTNAME_BUFFER: usize = 256;

/// What is read and thrown away at a time from a peer nobody listens to.
const DRAIN_CHUNK: usize = 16 * 1024;

/// At a server's close, at most this much unread data is discarded: enough
/// for anything a course client sends, bounded for one that keeps sending.
const DRAIN_AT_CLOSE: usize = 256 * 1024;

/// The address a server listens on and announces.
///
/// Resolving `gethostname()` first (as the course solutions do with
/// gethostbyname), then — when that fails or names an address no local
/// interface has (a stale /etc/hosts in a namespace) — the first non-loopback
/// IPv4 interface address, and loopback only when there is nothing else.
pub fn local_ipv4() -> Ipv4Addr {
    let interfaces = interface_ipv4s();
    if let Some(ip) = hostname_ipv4() {
        if ip.is_loopback() || interfaces.contains(&ip) {
            return ip;
        }
    }
    interfaces
        .into_iter()
        .find(|ip| !ip.is_loopback())
        .unwrap_or(Ipv4Addr::LOCALHOST)
}

fn hostname_ipv4() -> Option<Ipv4Addr> {
    let mut name = [0 as libc::c_char; HOSTNAME_BUFFER];
    // SAFETY: name is writable for its length minus the final NUL we keep.
    if unsafe { libc::gethostname(name.as_mut_ptr(), name.len() - 1) } != 0 {
        return None;
    }
    // SAFETY: libc::addrinfo is a C struct of integers and pointers; all zeroes
    // (null pointers) is the documented way to start the hints.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: name is NUL-terminated; res is freed below.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    let mut found = None;
    let mut cur = res;
    while !cur.is_null() {
        // SAFETY: cur walks the list getaddrinfo returned.
        let ai = unsafe { &*cur };
        if ai.ai_family == libc::AF_INET && !ai.ai_addr.is_null() {
            // SAFETY: AF_INET entries carry a sockaddr_in.
            let sin = unsafe { &*(ai.ai_addr as *const libc::sockaddr_in) };
            found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            break;
        }
        cur = ai.ai_next;
    }
    // SAFETY: res came from getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    found
}

/// Every IPv4 address on an interface that is up, in `getifaddrs` order.
pub fn interface_ipv4s() -> Vec<Ipv4Addr> {
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: ifap is freed below.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = ifap;
    while !cur.is_null() {
        // SAFETY: cur walks the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        let up = ifa.ifa_flags & libc::IFF_UP as libc::c_uint != 0;
        if up && !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr is non-null; its family says how to read it.
            let family = unsafe { (*ifa.ifa_addr).sa_family } as i32;
            if family == libc::AF_INET {
                // SAFETY: AF_INET entries carry a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                out.push(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: ifap came from getifaddrs.
    unsafe { libc::freeifaddrs(ifap) };
    out
}

fn sockaddr(addr: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn tcp_socket(nonblocking: bool) -> Result<OwnedFd> {
    let mut ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    if nonblocking {
        ty |= libc::SOCK_NONBLOCK;
    }
    // SAFETY: plain syscall.
    unsafe { fd::own("socket", libc::socket(libc::AF_INET, ty, 0)) }
}

/// A std socket type over a borrowed descriptor, so that std's methods
/// (`local_addr`, `take_error`, `shutdown`) serve a socket the C program
/// owns, for as long as the borrow lasts. It never closes the descriptor
/// (the same idea as socket2's `SockRef`).
pub struct SocketRef<'fd, S> {
    socket: ManuallyDrop<S>,
    borrow: PhantomData<BorrowedFd<'fd>>,
}

impl<'fd, S: From<OwnedFd>> SocketRef<'fd, S> {
    /// Views `fd` as an `S` (`TcpListener` or `TcpStream`).
    pub fn new(fd: BorrowedFd<'fd>) -> SocketRef<'fd, S> {
        // SAFETY: the OwnedFd made here is wrapped in ManuallyDrop at once and
        // never taken out, so it is never dropped and never closes `fd`; the
        // lifetime 'fd keeps the view from outliving the borrow.
        let owned = unsafe { OwnedFd::from_raw_fd(fd.as_raw_fd()) };
        SocketRef {
            socket: ManuallyDrop::new(S::from(owned)),
            borrow: PhantomData,
        }
    }
}

impl<S> Deref for SocketRef<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.socket
    }
}

/// A listening socket on `addr` (SO_REUSEADDR, non-blocking so that a
/// connection reset between `select` and `accept` cannot block). Made by
/// hand rather than by `TcpListener::bind` so that a failure names its call.
pub fn listen(addr: SocketAddrV4) -> Result<TcpListener> {
    let sock = tcp_socket(true)?;
    let one: libc::c_int = 1;
    // SAFETY: option value is a valid c_int.
    check("setsockopt(SO_REUSEADDR)", unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    let sa = sockaddr(addr);
    // SAFETY: sa is a valid sockaddr_in of the given length.
    check("bind", unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    // SAFETY: plain syscall.
    check("listen", unsafe {
        libc::listen(sock.as_raw_fd(), libc::SOMAXCONN)
    })?;
    Ok(TcpListener::from(sock))
}

/// The IPv4 address a listening socket is bound to.
pub fn local_addr(listener: &TcpListener) -> Result<SocketAddrV4> {
    match listener.local_addr() {
        Ok(SocketAddr::V4(addr)) => Ok(addr),
        Ok(SocketAddr::V6(addr)) => Err(Error::invalid(format!(
            "listening socket {} is bound to the IPv6 address {addr}, not IPv4",
            listener.as_raw_fd()
        ))),
        Err(e) => Err(Error::from_io("getsockname", &e)),
    }
}

/// `select()` on the listener then `accept()`, within `timeout`.
/// `Ok(None)` when nobody connected in time. The accepted socket blocks.
pub fn accept_within(listener: BorrowedFd<'_>, timeout: Duration) -> Result<Option<TcpStream>> {
    let deadline = deadline_after(timeout);
    loop {
        let mut read = FdSet::new();
        read.insert(listener);
        if select_until(&mut read, &mut FdSet::new(), deadline)? == 0 {
            return Ok(None);
        }
        // SAFETY: null address buffers are allowed.
        let fd = retry_eintr(|| unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        });
        if fd >= 0 {
            // SAFETY: accept4 returned a fresh descriptor.
            return Ok(Some(TcpStream::from(unsafe { fd::own("accept", fd)? })));
        }
        let err = Error::last("accept");
        // A connection that was reset or aborted before accept: wait again.
        match err.errno() {
            libc::EAGAIN | libc::ECONNABORTED | libc::EPROTO => continue,
            _ => return Err(err),
        }
    }
}

/// How long one server send may take in all: a client that stops reading
/// makes the send fail (`send: timed out after 5000 ms`) instead of
/// blocking the server forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends all of `bytes` within `timeout` (short writes and EINTR handled,
/// no SIGPIPE), leaving the connection open for more. A peer that does not
/// take everything in time fails the send with `Error::TimedOut`.
pub fn send_all_within(
    borrowed: BorrowedFd<'_>,
    mut bytes: &[u8],
    timeout: Duration,
) -> Result<()> {
    let fd = borrowed.as_raw_fd();
    let deadline = deadline_after(timeout);
    while !bytes.is_empty() {
        // SAFETY: bytes is valid for reads of its length. MSG_DONTWAIT: a
        // full send buffer returns EAGAIN, and we wait with the deadline.
        let n = retry_eintr(|| unsafe {
            libc::send(
                fd,
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        });
        if n < 0 {
            let err = Error::last("send");
            if err.errno() != libc::EAGAIN {
                return Err(err);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() || !fd::wait_writable(borrowed, left)? {
                return Err(Error::TimedOut {
                    call: "send",
                    after: timeout,
                });
            }
            continue;
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Ends a server's connection: half-closes it (the peer reads end-of-stream
/// after everything sent), discards what the peer sent and nobody read (so
/// that the close sends FIN, not RST, and the peer loses nothing), then
/// closes it. Every step runs; the first failure is reported.
pub fn finish_and_close(conn: TcpStream) -> Result<()> {
    let half = finish(&conn);
    discard_pending(conn.as_fd(), DRAIN_AT_CLOSE);
    let closed = fd::close(conn.into());
    half.and(closed)
}

/// Half-closes a connection (`shutdown(SHUT_WR)`): the peer reads
/// end-of-stream; a peer already gone is not an error.
pub fn finish(conn: &TcpStream) -> Result<()> {
    match conn.shutdown(Shutdown::Write) {
        Err(e) if e.raw_os_error() != Some(libc::ENOTCONN) => {
            Err(Error::from_io("shutdown(SHUT_WR)", &e))
        }
        _ => Ok(()),
    }
}

/// Waits until the peer closes its side (reads and discards what it sends).
/// True when it closed (or reset), false when `timeout` passed first.
pub fn await_peer_close(conn: BorrowedFd<'_>, timeout: Duration) -> Result<bool> {
    let deadline = deadline_after(timeout);
    let mut sink = [0u8; DRAIN_CHUNK];
    loop {
        let mut read = FdSet::new();
        read.insert(conn);
        if select_until(&mut read, &mut FdSet::new(), deadline)? == 0 {
            return Ok(false);
        }
        match recv_nowait(conn, &mut sink) {
            Ok(0) => return Ok(true),
            Ok(_) => continue,
            Err(e) => match e.errno() {
                libc::EAGAIN => continue,
                libc::ECONNRESET => return Ok(true),
                _ => return Err(e),
            },
        }
    }
}

/// Reads and discards, without waiting, what `conn` has received and nobody
/// read, until nothing is left or `limit` bytes are gone (a peer still
/// sending past that is reset at the close). Returns the bytes discarded.
pub fn discard_pending(conn: BorrowedFd<'_>, limit: usize) -> usize {
    let mut sink = [0u8; DRAIN_CHUNK];
    let mut discarded = 0;
    while discarded < limit {
        match recv_nowait(conn, &mut sink) {
            Ok(n) if n > 0 => discarded += n,
            _ => break,
        }
    }
    discarded
}

/// One `recv` that never blocks (MSG_DONTWAIT, whatever the socket's mode),
/// restarted on EINTR: the bytes read, 0 at end of stream.
pub fn recv_nowait(conn: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is writable for its length.
    let n = retry_eintr(|| unsafe {
        libc::recv(
            conn.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    });
    usize::try_from(n).map_err(|_| Error::last("recv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn loopback_listener() -> (TcpListener, SocketAddrV4) {
        let l = listen(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = local_addr(&l).unwrap();
        (l, addr)
    }

    #[test]
    fn a_borrowed_view_answers_for_the_socket_and_leaves_it_open() {
        let (l, addr) = loopback_listener();
        {
            let view = SocketRef::<TcpListener>::new(l.as_fd());
            assert_eq!(local_addr(&view).unwrap(), addr);
        }
        assert!(
            fd::is_open(l.as_raw_fd()),
            "dropping the view closed the socket"
        );
        assert_eq!(local_addr(&l).unwrap(), addr);
    }

    #[test]
    fn finish_and_close_ends_the_stream_after_unread_data() {
        let (l, addr) = loopback_listener();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let conn = accept_within(l.as_fd(), Duration::from_secs(5))
            .unwrap()
            .unwrap();
        std::io::Write::write_all(&mut client, b"never read by the server").unwrap();
        send_all_within(conn.as_fd(), b"bye", Duration::from_secs(5)).unwrap();
        finish_and_close(conn).unwrap();
        let mut got = Vec::new();
        // A reset instead of FIN would fail this read with ECONNRESET.
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye");
    }

    #[test]
    fn connect_send_and_read_round_trip() {
        let (l, addr) = loopback_listener();
        let client = std::net::TcpStream::connect(addr).unwrap();
        let conn = accept_within(l.as_fd(), Duration::from_secs(5))
            .unwrap()
            .unwrap();
        send_all_within(conn.as_fd(), b"hello\n", Duration::from_secs(5)).unwrap();
        finish(&conn).unwrap();
        let msgs = crate::reach::read_all(&[client.as_fd()], Duration::from_secs(5));
        assert_eq!(msgs[0].message.as_deref(), Some(&b"hello"[..]));
        drop(client);
        assert!(await_peer_close(conn.as_fd(), Duration::from_secs(5)).unwrap());
    }

    #[test]
    fn accept_times_out_without_client() {
        let (l, _) = loopback_listener();
        assert!(accept_within(l.as_fd(), Duration::from_millis(20))
            .unwrap()
            .is_none());
    }

    #[test]
    fn local_ipv4_is_assigned_here() {
        let ip = local_ipv4();
        assert!(ip.is_loopback() || interface_ipv4s().contains(&ip), "{ip}");
    }
}
