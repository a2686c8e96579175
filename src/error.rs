//! One error type for the whole core: a failed system call (its name and
//! errno, as The Linux Programming Interface reports them), a wait the
//! library bounded that ran out (no errno: the kernel reported none), or an
//! argument the library refuses before it makes any call.

use std::ffi::CStr;
use std::fmt;
use std::time::Duration;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A system call failed: `call` is its name, `errno` the value it left.
    Sys {
        /// The call's name, e.g. `"shmget"`.
        call: &'static str,
        /// The errno it left.
        errno: i32,
    },
    /// `call` could not complete within the library's own bound `after`
    /// (a send to a client that takes nothing): every system call
    /// succeeded, so there is no errno to report.
    TimedOut {
        /// The operation that was waiting, e.g. `"send"`.
        call: &'static str,
        /// The bound that passed.
        after: Duration,
    },
    /// An argument was refused before any system call was made.
    Invalid(String),
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The failure of `call`, with the calling thread's current errno.
    pub fn last(call: &'static str) -> Error {
        Error::Sys {
            call,
            errno: errno(),
        }
    }

    /// The failure of `call` with an explicit errno (for calls that return it).
    pub fn sys(call: &'static str, errno: i32) -> Error {
        Error::Sys { call, errno }
    }

    /// The failure of `call` as std reported it; EIO when std's error carries
    /// no errno (errno 0 would read "Success").
    pub fn from_io(call: &'static str, e: &std::io::Error) -> Error {
        Error::sys(call, e.raw_os_error().unwrap_or(libc::EIO))
    }

    /// An argument error with a one-line reason.
    pub fn invalid(reason: impl Into<String>) -> Error {
        Error::Invalid(reason.into())
    }

    /// The errno of a failed call; 0 for timeouts and argument errors.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Sys { errno, .. } => *errno,
            Error::TimedOut { .. } | Error::Invalid(_) => 0,
        }
    }

    /// The failed or timed-out call's name; `None` for argument errors.
    pub fn call(&self) -> Option<&'static str> {
        match self {
            Error::Sys { call, .. } | Error::TimedOut { call, .. } => Some(call),
            Error::Invalid(_) => None,
        }
    }

    /// True when this is a failed system call (course contract: `system error:`).
    pub fn is_system(&self) -> bool {
        matches!(self, Error::Sys { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sys { call, errno } => write!(f, "{call}: {}", strerror(*errno)),
            Error::TimedOut { call, after } => {
                write!(f, "{call}: timed out after {} ms", after.as_millis())
            }
            Error::Invalid(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Error {}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Room for any message strerror_r writes (glibc's longest is under 50
/// bytes; an unknown errno gives "Unknown error N").
const STRERROR_BUFFER: usize = 256;

/// The C library's message for `errno`, thread-safely (strerror_r).
pub fn strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; STRERROR_BUFFER];
    // SAFETY: buf is writable for its length; the XSI strerror_r exported by
    // the libc crate NUL-terminates on success.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("unknown error {errno}");
    }
    // SAFETY: strerror_r succeeded, so buf holds a NUL-terminated string.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// The C library's name for an errno value, for explanations.
pub fn errno_name(errno: i32) -> String {
    // SAFETY: strerrorname_np returns a static string or NULL.
    let p = unsafe { strerrorname_np(errno) };
    if p.is_null() {
        format!("errno {errno}")
    } else {
        // SAFETY: non-null static NUL-terminated string.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

extern "C" {
    fn strerrorname_np(errnum: libc::c_int) -> *const libc::c_char;
}

/// Turns a `-1` return into `Err(Error::last(call))`.
pub(crate) fn check(call: &'static str, rc: libc::c_int) -> Result<libc::c_int> {
    if rc == -1 {
        Err(Error::last(call))
    } else {
        Ok(rc)
    }
}

/// Retries `f` while it fails with EINTR.
pub(crate) fn retry_eintr<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> T {
    loop {
        let rc = f();
        if rc != T::from(-1) || errno() != libc::EINTR {
            return rc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_error_names_call_and_message() {
        let e = Error::sys("shmget", libc::ENOENT);
        assert_eq!(e.to_string(), "shmget: No such file or directory");
        assert!(e.is_system());
        assert_eq!(e.errno(), libc::ENOENT);
        assert_eq!(e.call(), Some("shmget"));
    }

    #[test]
    fn a_timeout_names_its_call_and_bound_and_no_errno() {
        let e = Error::TimedOut {
            call: "send",
            after: Duration::from_secs(5),
        };
        assert_eq!(e.to_string(), "send: timed out after 5000 ms");
        assert!(!e.is_system());
        assert_eq!(e.errno(), 0);
        assert_eq!(e.call(), Some("send"));
    }

    #[test]
    fn invalid_argument_is_plain() {
        let e = Error::invalid("proj id must be 1..=255");
        assert_eq!(e.to_string(), "proj id must be 1..=255");
        assert!(!e.is_system());
        assert_eq!(e.errno(), 0);
    }
}
