//! Typed status codes and the optional error record every C function fills.

#![allow(non_camel_case_types)]

use crate::error::Error;
use libc::{c_char, c_int};

/// What a C function returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum isoprobe_status {
    /// Success.
    ISOPROBE_OK = 0,
    /// A system call failed; `call` and `errno_value` say which and why.
    ISOPROBE_ERROR_SYSTEM = 1,
    /// An argument was refused before any system call (message says why).
    ISOPROBE_ERROR_INVALID = 2,
    /// A required pointer was NULL.
    ISOPROBE_ERROR_NULL = 3,
    /// A wait ended at its timeout (no client connected, no message came, a
    /// client took nothing of a send); `errno_value` is 0.
    ISOPROBE_ERROR_TIMEOUT = 4,
    /// The library hit an internal bug; it was contained at the boundary.
    ISOPROBE_ERROR_PANIC = 5,
}

/// Details of a failure. Pass NULL when you only need the status.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct isoprobe_error {
    /// The same status the function returned.
    pub status: isoprobe_status,
    /// errno of the failed call (0 unless `status` is ISOPROBE_ERROR_SYSTEM).
    pub errno_value: c_int,
    /// Name of the failed call, e.g. "shmget" (empty for non-system errors).
    pub call: [c_char; ISOPROBE_ERROR_CALL_CAPACITY],
    /// One line describing the failure, e.g. "shmget: File exists".
    pub message: [c_char; ISOPROBE_ERROR_MESSAGE_CAPACITY],
}

fn copy_truncated(dst: &mut [c_char], src: &str) {
    let n = src.len().min(dst.len() - 1);
    for (d, s) in dst.iter_mut().zip(&src.as_bytes()[..n]) {
        *d = *s as c_char;
    }
    dst[n] = 0;
}

impl isoprobe_error {
    pub(crate) fn new(
        status: isoprobe_status,
        errno_value: c_int,
        call: &str,
        message: &str,
    ) -> Self {
        let mut e = isoprobe_error {
            status,
            errno_value,
            call: [0; ISOPROBE_ERROR_CALL_CAPACITY],
            message: [0; ISOPROBE_ERROR_MESSAGE_CAPACITY],
        };
        copy_truncated(&mut e.call, call);
        copy_truncated(&mut e.message, message);
        e
    }

    pub(crate) fn from_error(err: &Error) -> Self {
        match err {
            Error::Sys { call, errno } => Self::new(
                isoprobe_status::ISOPROBE_ERROR_SYSTEM,
                *errno,
                call,
                &err.to_string(),
            ),
            Error::TimedOut { call, .. } => Self::new(
                isoprobe_status::ISOPROBE_ERROR_TIMEOUT,
                0,
                call,
                &err.to_string(),
            ),
            Error::Invalid(msg) => Self::new(isoprobe_status::ISOPROBE_ERROR_INVALID, 0, "", msg),
        }
    }
}

/// Length of `isoprobe_error.message` (for callers sizing copies).
pub const ISOPROBE_ERROR_MESSAGE_CAPACITY: usize = 512;

/// Length of `isoprobe_error.call`: the longest call name ("shmctl(IPC_RMID)")
/// with room to spare.
pub const ISOPROBE_ERROR_CALL_CAPACITY: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::time::Duration;

    fn text(field: &[libc::c_char]) -> String {
        // SAFETY: copy_truncated always leaves a NUL inside the field.
        unsafe { CStr::from_ptr(field.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn each_kind_of_error_has_its_status() {
        let sys = isoprobe_error::from_error(&Error::sys("shmget", libc::ENOENT));
        assert_eq!(sys.status, isoprobe_status::ISOPROBE_ERROR_SYSTEM);
        assert_eq!(
            (sys.errno_value, text(&sys.call)),
            (libc::ENOENT, "shmget".into())
        );

        let timeout = isoprobe_error::from_error(&Error::TimedOut {
            call: "send",
            after: Duration::from_secs(5),
        });
        assert_eq!(timeout.status, isoprobe_status::ISOPROBE_ERROR_TIMEOUT);
        assert_eq!(timeout.errno_value, 0, "no errno is made up for a timeout");
        assert_eq!(text(&timeout.call), "send");
        assert_eq!(text(&timeout.message), "send: timed out after 5000 ms");

        let invalid = isoprobe_error::from_error(&Error::invalid("bad"));
        assert_eq!(invalid.status, isoprobe_status::ISOPROBE_ERROR_INVALID);
        assert_eq!(
            (invalid.errno_value, text(&invalid.message)),
            (0, "bad".into())
        );
    }
}
