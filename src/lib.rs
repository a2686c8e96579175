//! isoprobe: tell, from the host, whether each server runs on the host, in a
//! container or in a virtual machine, by which of its two channels — a System V
//! shared-memory segment and a TCP socket — the client can reach.
//!
//! Layers: a safe core (`error`, `fd`, `shm`, `net`, `info_file`, `server`;
//! the client's `announce`, `outcome`, `reach`, `client`), the C ABI in `ffi`, and the generated headers in `include/` that
//! add the course's C++ API on top of the C functions.
//!
//! `explain` names why each server was classified as it was; the programs
//! `isoprobe-server` and `isoprobe-client` (src/bin/) are built on this API.

#![warn(missing_docs)]

pub mod announce;
pub mod client;
pub mod error;
pub mod explain;
pub mod fd;
pub mod ffi;
pub mod info_file;
pub mod net;
pub mod outcome;
pub mod reach;
pub mod server;
pub mod shm;
mod signals;

#[cfg(test)]
mod testutil;

pub use client::{Environment, Probe, Summary};
pub use error::{Error, Result};
pub use server::{Server, Setup, Timeouts};
