//! The programs `isoprobe-server` and `isoprobe-client` on top of the
//! `isoprobe` library: their command lines (`args`, clap), one-line usage
//! errors (`usage`), the words for each probe outcome (`explain`), the
//! `--explain` and `--json` layouts (`report`), and the man pages and shell
//! completions written from the same command lines (`docs`).

#![warn(missing_docs)]

pub mod args;
pub mod docs;
pub mod explain;
pub mod report;
pub mod usage;

use std::process::ExitCode;

/// Exit status when the run failed (a system call, or a refused argument the
/// library reports).
pub const FAILED: u8 = 1;

/// Reports a failed run as both programs promise: the course's one line
/// `system error: ...` for a failed system call, else one line naming the
/// program; exit status [`FAILED`].
pub fn failure(program: &str, e: &isoprobe::Error) -> ExitCode {
    if e.is_system() {
        eprintln!("system error: {e}");
    } else {
        eprintln!("{program}: {e}");
    }
    ExitCode::from(FAILED)
}
