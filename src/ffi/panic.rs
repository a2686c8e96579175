//! The one place where Rust meets C: run the body, turn its `Result` into a
//! status and error record, and contain any panic.

use super::error::{isoprobe_error, isoprobe_status};
use crate::error::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What a body returns: success (possibly a non-error status such as a
/// timeout) or an error to report.
pub(crate) type Outcome = Result<isoprobe_status, Failure>;

/// A failure a body reports.
pub(crate) enum Failure {
    Core(Error),
    Null(&'static str),
    Timeout(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

/// Runs `body` with panics caught; fills `*err` (when non-NULL) on failure
/// and clears it to `ISOPROBE_OK` on success.
pub(crate) fn boundary(
    err: *mut isoprobe_error,
    body: impl FnOnce() -> Outcome,
) -> isoprobe_status {
    let record = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => isoprobe_error::new(status, 0, "", ""),
        Ok(Err(Failure::Core(e))) => isoprobe_error::from_error(&e),
        Ok(Err(Failure::Null(what))) => isoprobe_error::new(
            isoprobe_status::ISOPROBE_ERROR_NULL,
            0,
            "",
            &format!("{what} is NULL"),
        ),
        Ok(Err(Failure::Timeout(msg))) => {
            isoprobe_error::new(isoprobe_status::ISOPROBE_ERROR_TIMEOUT, 0, "", &msg)
        }
        Err(_) => isoprobe_error::new(
            isoprobe_status::ISOPROBE_ERROR_PANIC,
            0,
            "",
            "internal error in isoprobe (panic contained at the C boundary)",
        ),
    };
    if !err.is_null() {
        // SAFETY: a non-NULL `err` points to a writable isoprobe_error (C contract).
        unsafe { err.write(record) };
    }
    record.status
}

/// Borrows `*p`, or fails with ISOPROBE_ERROR_NULL naming `what`.
pub(crate) fn deref<'a, T>(p: *const T, what: &'static str) -> Result<&'a T, Failure> {
    // SAFETY: a non-NULL pointer from C points to a valid T (C contract).
    unsafe { p.as_ref() }.ok_or(Failure::Null(what))
}

/// Mutably borrows `*p`, or fails with ISOPROBE_ERROR_NULL naming `what`.
pub(crate) fn deref_mut<'a, T>(p: *mut T, what: &'static str) -> Result<&'a mut T, Failure> {
    // SAFETY: as in `deref`, and C gives us exclusive access for the call.
    unsafe { p.as_mut() }.ok_or(Failure::Null(what))
}

/// Reads a NUL-terminated C string argument as the bytes it is (messages
/// and paths need not be UTF-8).
pub(crate) fn c_bytes<'a>(p: *const libc::c_char, what: &'static str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-NULL C strings are NUL-terminated (C contract).
    Ok(unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes())
}

/// Writes `bytes` on C's `stdout`/`stderr` stream as they are (no
/// conversion, NUL bytes included), so they interleave correctly with the
/// program's own stdio output.
pub(crate) fn print_bytes(to_stderr: bool, bytes: &[u8]) {
    extern "C" {
        static mut stdout: *mut libc::FILE;
        static mut stderr: *mut libc::FILE;
    }
    if bytes.is_empty() {
        return;
    }
    // SAFETY: glibc's stdio streams are initialised before main and
    // thread-safe; bytes is valid for reads of its length.
    unsafe {
        let stream = if to_stderr { stderr } else { stdout };
        libc::fwrite(bytes.as_ptr().cast(), 1, bytes.len(), stream);
        libc::fflush(stream);
    }
}
