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
