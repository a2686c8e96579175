//! File-descriptor helpers: ownership is std's `OwnedFd` (closes on drop);
//! this module adds `select()` over a bitmap sized to the highest fd, so a
//! client with descriptors at or above `FD_SETSIZE` never overflows an
//! `fd_set`, and small wrappers that check every result.

use crate::error::{check, Error, Result};
#[cfg(test)]
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Bits in one word of the kernel's fd bitmap (`unsigned long`).
const WORD_BITS: usize = libc::c_ulong::BITS as usize;

/// A `select()` descriptor set that grows with the highest descriptor.
///
/// The kernel reads `nfds` bits from the pointer it is given, so a buffer of
/// `ceil(nfds / bits-per-long)` longs is exactly what it needs; glibc's
/// fixed 1024-bit `fd_set` is only a convenience type.
#[derive(Clone, Default)]
pub struct FdSet {
    words: Vec<libc::c_ulong>,
}

impl FdSet {
    /// The empty set.
    pub fn new() -> FdSet {
        FdSet::default()
    }

    /// Adds `fd`.
    pub fn insert(&mut self, fd: BorrowedFd<'_>) {
        self.insert_bit(descriptor_bit(fd));
    }

    /// True when `fd` is in the set.
    pub fn contains(&self, fd: BorrowedFd<'_>) -> bool {
        self.contains_bit(descriptor_bit(fd))
    }

    fn insert_bit(&mut self, bit: usize) {
        let word = bit / WORD_BITS;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (bit % WORD_BITS);
    }

    fn contains_bit(&self, bit: usize) -> bool {
        self.words
            .get(bit / WORD_BITS)
            .is_some_and(|w| w & (1 << (bit % WORD_BITS)) != 0)
    }

    /// One more than the highest descriptor the set can hold.
    fn nfds(&self) -> libc::c_int {
        (self.words.len() * WORD_BITS) as libc::c_int
    }

    /// Resizes to `len` words so two sets passed to one `select()` agree.
    fn grow_to(&mut self, len: usize) {
        if self.words.len() < len {
            self.words.resize(len, 0);
        }
    }

    fn as_mut_ptr(&mut self) -> *mut libc::fd_set {
        if self.words.is_empty() {
            std::ptr::null_mut()
        } else {
            self.words.as_mut_ptr().cast()
        }
    }
}

/// A descriptor's bit in the kernel's bitmap: its number (an open
/// descriptor's number is never negative).
fn descriptor_bit(fd: BorrowedFd<'_>) -> usize {
    usize::try_from(fd.as_raw_fd()).expect("an open descriptor is non-negative")
}

/// `select()` until one of `read`/`write` is ready or `deadline` passes.
///
/// On return the sets hold only the ready descriptors. Returns the number
/// ready (0 on timeout). EINTR restarts with the time that is left.
pub fn select_until(read: &mut FdSet, write: &mut FdSet, deadline: Instant) -> Result<usize> {
    let len = read.words.len().max(write.words.len());
    read.grow_to(len);
    write.grow_to(len);
    let nfds = read.nfds().max(write.nfds());
    let (read_saved, write_saved) = (read.clone(), write.clone());
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut tv = timeval(left);
        // SAFETY: both bitmaps hold at least `nfds` bits (grown to equal
        // length above); tv is a valid timeval.
        let rc = unsafe {
            libc::select(
                nfds,
                read.as_mut_ptr(),
                write.as_mut_ptr(),
                std::ptr::null_mut(),
                &mut tv,
            )
        };
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let err = Error::last("select");
        if err.errno() != libc::EINTR {
            return Err(err);
        }
        *read = read_saved.clone();
        *write = write_saved.clone();
    }
}

/// Waits until `fd` is readable or `timeout` passes; true when readable.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> Result<bool> {
    let mut read = FdSet::new();
    read.insert(fd);
    let n = select_until(&mut read, &mut FdSet::new(), deadline_after(timeout))?;
    Ok(n > 0)
}

/// Waits until `fd` is writable or `timeout` passes; true when writable.
pub fn wait_writable(fd: BorrowedFd<'_>, timeout: Duration) -> Result<bool> {
    let mut write = FdSet::new();
    write.insert(fd);
    let n = select_until(&mut FdSet::new(), &mut write, deadline_after(timeout))?;
    Ok(n > 0)
}

/// Where a deadline too far to represent is put instead: a year is "never"
/// for every wait in this library, and `Instant` can always add it.
const FAR_FUTURE: Duration = Duration::from_secs(365 * 24 * 3600);

/// `now + timeout`, saturating for huge timeouts.
pub fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE)
}

fn timeval(d: Duration) -> libc::timeval {
    libc::timeval {
        tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_usec: d.subsec_micros() as libc::suseconds_t,
    }
}

/// Wraps a descriptor just returned by a successful system call.
///
/// # Safety
/// `fd` must be open and owned by nobody else.
pub unsafe fn own(call: &'static str, fd: RawFd) -> Result<OwnedFd> {
    check(call, fd)?;
    Ok(OwnedFd::from_raw_fd(fd))
}

/// Closes `fd`, reporting a failure that dropping it would ignore.
pub fn close(fd: OwnedFd) -> Result<()> {
    let fd = fd.into_raw_fd();
    // SAFETY: `fd` was owned and is given up here; close is attempted once,
    // never retried (on Linux the descriptor is freed even when close
    // reports EINTR).
    let rc = unsafe { libc::close(fd) };
    if rc == -1 && crate::error::errno() != libc::EINTR {
        return Err(Error::last("close"));
    }
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to at least `wanted` (bounded by the hard
/// limit). Returns the soft limit in force afterwards.
#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every target
pub fn raise_nofile_limit(wanted: u64) -> Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out-pointer.
    check("getrlimit", unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim)
    })?;
    if lim.rlim_cur >= wanted as libc::rlim_t {
        return Ok(lim.rlim_cur as u64);
    }
    lim.rlim_cur = (wanted as libc::rlim_t).min(lim.rlim_max);
    // SAFETY: lim is valid; raising the soft limit up to the hard one is allowed.
    check("setrlimit", unsafe {
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim)
    })?;
    Ok(lim.rlim_cur as u64)
}

/// True when `fd` is an open descriptor of this process. A number from
/// outside (C) is checked with this before it is used as a descriptor.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// True when `fd` is a socket (and, if given, listening or not).
pub fn is_socket(fd: BorrowedFd<'_>, listening: Option<bool>) -> bool {
    let fd = fd.as_raw_fd();
    // SAFETY: libc::stat is a C struct of integers; all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-buffer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return false;
    }
    let Some(want) = listening else { return true };
    let mut val: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: val/len describe a writable libc::c_int.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ACCEPTCONN,
            (&mut val as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0 && (val != 0) == want
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdset_grows_past_fd_setsize() {
        // Bits, not descriptors: no descriptor 5000 has to be open.
        let mut s = FdSet::new();
        s.insert_bit(3);
        s.insert_bit(5000);
        assert!(s.contains_bit(3));
        assert!(s.contains_bit(5000));
        assert!(!s.contains_bit(4));
        assert!(!s.contains_bit(100_000));
        assert!(s.nfds() > 5000);
    }

    #[test]
    fn select_reports_readable_pipe() {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors pipe writes.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: pipe succeeded, so both descriptors are open and owned by nothing else.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        assert!(!wait_readable(r.as_fd(), Duration::from_millis(10)).unwrap());
        assert_eq!(
            // SAFETY: one byte from a static buffer, to a descriptor w keeps open.
            unsafe { libc::write(w.as_raw_fd(), b"x".as_ptr().cast(), 1) },
            1
        );
        assert!(wait_readable(r.as_fd(), Duration::from_secs(5)).unwrap());
    }

    #[test]
    fn numbers_from_outside_are_checked_for_what_they_are() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(is_open(listener.as_raw_fd()));
        assert!(is_socket(listener.as_fd(), None));
        assert!(is_socket(listener.as_fd(), Some(true)));
        assert!(!is_socket(listener.as_fd(), Some(false)));
        let file = std::fs::File::open("/").unwrap();
        assert!(is_open(file.as_raw_fd()));
        assert!(!is_socket(file.as_fd(), None));
        // A closed number is not checked here: another test thread may
        // reuse it at once.
        assert!(!is_open(-1));
    }
}
