//! What `isoprobe_client_count_servers` hands to C as bare numbers, kept
//! here with what the numbers cannot carry: each attachment's address (so
//! `disconnect` detaches exactly the attachments the library made, never one
//! the program made itself to the same segment, and needs no /proc), and
//! each socket's identity and the message already read from it during the
//! run's one deadline (so `print_server_infos` does not wait again).
//!
//! A socket is known by its number and its inode: a number the program
//! closed and the kernel gave to another socket is not taken for ours.

use super::args::open_fd;
use crate::info_file::FileId;
use crate::outcome::SocketRead;
use crate::shm::Attachment;
use std::net::TcpStream;
use std::os::fd::{AsFd, IntoRawFd, RawFd};
use std::sync::{Mutex, MutexGuard};

struct HeldSocket {
    fd: RawFd,
    identity: FileId,
    read: Option<SocketRead>,
}

static SOCKETS: Mutex<Vec<HeldSocket>> = Mutex::new(Vec::new());
static ATTACHMENTS: Mutex<Vec<Attachment>> = Mutex::new(Vec::new());

/// A panic while a lock was held cannot leave these lists inconsistent
/// (every change is one push or one remove), so a poisoned lock is used as is.
fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The identity of the file open under the number `fd`, if any.
fn identity(fd: RawFd) -> Option<FileId> {
    FileId::of_fd(open_fd(fd)?).ok()
}

/// Gives `stream` to C as a number, remembering it and what it sent.
pub(crate) fn hold_socket(stream: TcpStream, read: Option<SocketRead>) -> RawFd {
    let identity = FileId::of_fd(stream.as_fd()).ok();
    let fd = stream.into_raw_fd();
    if let Some(identity) = identity {
        let mut held = lock(&SOCKETS);
        held.retain(|h| h.fd != fd);
        held.push(HeldSocket { fd, identity, read });
    }
    fd
}

/// What `fd` sent during `count_servers`, when `fd` is still that socket.
pub(crate) fn socket_read(fd: RawFd) -> Option<SocketRead> {
    let now = identity(fd)?;
    let held = lock(&SOCKETS);
    let h = held.iter().find(|h| h.fd == fd && h.identity == now)?;
    h.read.clone()
}

/// Forgets `fd`; true when it was one of ours and still is (the caller then
/// closes it).
pub(crate) fn release_socket(fd: RawFd) -> bool {
    let now = identity(fd);
    let mut held = lock(&SOCKETS);
    let Some(i) = held.iter().position(|h| h.fd == fd) else {
        return false;
    };
    let h = held.swap_remove(i);
    Some(h.identity) == now
}

/// Keeps `a` until `release_attachment`; returns its segment id.
pub(crate) fn hold_attachment(a: Attachment) -> i32 {
    let id = a.shmid();
    lock(&ATTACHMENTS).push(a);
    id
}

/// The message of segment `shmid` through an attachment the library holds.
pub(crate) fn shm_message(shmid: i32) -> Option<Vec<u8>> {
    let held = lock(&ATTACHMENTS);
    held.iter()
        .find(|a| a.shmid() == shmid)
        .map(Attachment::message_bytes)
}

/// Detaches one attachment of `shmid` the library made; false when it
/// holds none (then nothing is detached: whatever is mapped belongs to the
/// program).
pub(crate) fn release_attachment(shmid: i32) -> bool {
    let mut held = lock(&ATTACHMENTS);
    match held.iter().rposition(|a| a.shmid() == shmid) {
        Some(i) => {
            drop(held.swap_remove(i));
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ReadEnd;
    use std::net::{Ipv4Addr, TcpListener};

    /// A connected loopback socket (its listener and peer are gone; the
    /// socket itself stays open).
    fn socket() -> TcpStream {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        TcpStream::connect(listener.local_addr().unwrap()).unwrap()
    }

    #[test]
    fn a_reused_number_is_not_taken_for_ours() {
        let read = SocketRead {
            message: Some(b"m".to_vec()),
            end: ReadEnd::Eof,
            received: 1,
        };
        let fd = hold_socket(socket(), Some(read.clone()));
        assert_eq!(socket_read(fd), Some(read));
        // The program closes it and the number goes to another socket
        // (dup2 does both at once, so no other thread can take the number).
        let other = socket();
        // SAFETY: both are open descriptors of this process.
        assert_eq!(unsafe { libc::dup2(other.as_raw_fd(), fd) }, fd);
        assert_eq!(
            socket_read(fd),
            None,
            "another socket under the same number"
        );
        assert!(!release_socket(fd));
        crate::fd::close(crate::ffi::args::take_fd(fd).expect("still open")).unwrap();
    }

    #[test]
    fn attachments_are_released_one_by_one() {
        let seg = crate::shm::Segment::create(libc::IPC_PRIVATE).unwrap();
        seg.write_message(b"held").unwrap();
        let id = hold_attachment(Attachment::attach(seg.id(), true).unwrap());
        hold_attachment(Attachment::attach(seg.id(), true).unwrap());
        assert_eq!(shm_message(id).as_deref(), Some(&b"held"[..]));
        assert!(release_attachment(id));
        assert!(release_attachment(id));
        assert!(!release_attachment(id), "nothing of the library's is left");
        assert_eq!(shm_message(id), None);
    }

    use std::os::fd::AsRawFd;
}
