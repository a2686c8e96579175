//! The C ABI: a thin layer over the safe core. Each C concept has its module
//! (`string`, `types`, `error`, `server`, `client`); every exported function
//! runs inside `panic::boundary`, so no panic ever crosses into C, and reports
//! failure as an `isoprobe_status` plus an optional `isoprobe_error`.
//!
//! Nothing here calls `exit()`: the course's exit-on-error contract lives in
//! the C++ inline functions of the generated headers.

// These functions are the C boundary: their pointer contract is C's and is
// documented on each function; Rust callers use the safe core instead.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod client;
pub mod error;
mod held;
mod panic;
pub mod server;
pub mod string;
pub mod types;
