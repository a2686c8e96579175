//! Arguments from C, checked once at the edge: a pointer becomes a
//! reference or a byte slice, or the call fails with ISOPROBE_ERROR_NULL
//! naming the argument. Past this point the library works with Rust types.

use super::panic::Failure;
use crate::error::Error;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

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

/// Borrows the descriptor number `fd` that C handed in, for the one call it
/// is passed to: the core takes descriptors as `BorrowedFd`, never as bare
/// numbers. A number that is not an open descriptor fails as the call on it
/// would (`call`: EBADF).
pub(crate) fn borrow_fd<'a>(
    fd: libc::c_int,
    call: &'static str,
) -> Result<BorrowedFd<'a>, Failure> {
    open_fd(fd).ok_or(Failure::Core(Error::sys(call, libc::EBADF)))
}

/// Borrows the descriptor number `fd` from C when it is an open descriptor;
/// `None` for -1 and for a number nothing is open under.
pub(crate) fn open_fd<'a>(fd: libc::c_int) -> Option<BorrowedFd<'a>> {
    if fd < 0 || !crate::fd::is_open(fd) {
        return None;
    }
    // SAFETY: fd is open (checked just now), and C does not close a handle
    // of its records while a call on them runs; the borrow is used within
    // one such call only.
    Some(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Takes over the descriptor number `fd` that C gives up in this call (the
/// calling function resets C's record to -1): from here on it is owned, and
/// closed exactly once. `None` for -1 and for a number nothing is open under.
pub(crate) fn take_fd(fd: libc::c_int) -> Option<OwnedFd> {
    let open = open_fd(fd)?;
    // SAFETY: the descriptor is open, and the C contract of the calling
    // function (shutdown, disconnect) is that the record's handle is given
    // up to the library, which alone closes it.
    Some(unsafe { OwnedFd::from_raw_fd(open.as_raw_fd()) })
}
