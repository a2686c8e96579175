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
