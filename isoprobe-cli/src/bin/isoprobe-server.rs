//! `isoprobe-server`: the course's server `run` as a program. Creates the
//! segment and the listening socket, publishes the info file, writes the shm
//! message, waits for one client, sends the socket message, waits for the
//! client to close, and removes everything (also when ended by a signal).
//!
//! Exit status: 0 when the run completed (also when no client came), 1 on a
//! failure while running, 2 on a usage error.

use clap::Parser;
use isoprobe::server::{self, RunOutcome};
use isoprobe_cli::args::ServerArgs;
use isoprobe_cli::usage;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::time::Duration;

const PROGRAM: &str = "isoprobe-server";

/// "120 s" for whole seconds, "0.250 s" otherwise.
fn describe(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

fn main() -> ExitCode {
    let args = match ServerArgs::try_parse() {
        Ok(args) => args,
        Err(e) => return usage::exit(PROGRAM, &e, None),
    };
    let setup = match args.setup() {
        Ok(setup) => setup,
        Err(reason) => return usage::refuse(PROGRAM, &reason),
    };
    let timeouts = args.timeouts();
    let shm_message = args.shm_message.as_deref().unwrap_or_default().as_bytes();
    let socket_message = args
        .socket_message
        .as_deref()
        .unwrap_or_default()
        .as_bytes();
    match server::run(&setup, shm_message, socket_message, timeouts) {
        Ok(RunOutcome::Served) => ExitCode::SUCCESS,
        Ok(RunOutcome::ServedClientLingered) => {
            eprintln!(
                "{PROGRAM}: the client did not close within {}; shut down anyway",
                describe(timeouts.peer_close)
            );
            ExitCode::SUCCESS
        }
        Ok(RunOutcome::NoClient) => {
            eprintln!(
                "{PROGRAM}: no client connected within {}; nothing was sent",
                describe(timeouts.accept)
            );
            ExitCode::SUCCESS
        }
        Err(e) => isoprobe_cli::failure(PROGRAM, &e),
    }
}
