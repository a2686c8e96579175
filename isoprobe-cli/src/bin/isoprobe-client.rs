//! `isoprobe-client DIR`: the course's client `run` as a program. Prints
//! exactly the course's summary; `--explain` says, server by server, what
//! each channel attempt returned and why the server counted as host,
//! container or VM; `--json` gives the same as one JSON document.
//!
//! Exit status: 0 on success, 1 when the directory cannot be read, 2 on a
//! usage error.

use clap::Parser;
use isoprobe::client::{self, Summary, RUN_DEADLINE};
use isoprobe::reach::Until;
use isoprobe_cli::args::{ClientArgs, Mode};
use isoprobe_cli::explain::explain_all;
use isoprobe_cli::report::{render_json, render_text};
use isoprobe_cli::usage;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

const PROGRAM: &str = "isoprobe-client";

/// What the run prints on stdout, in the chosen mode.
fn output(mode: Mode, dir: &Path) -> isoprobe::Result<Vec<u8>> {
    if mode == Mode::Summary {
        return client::run(dir, &mut std::io::stderr()).map(|s| s.to_bytes());
    }
    let probes = client::probe_dir(dir, RUN_DEADLINE, Until::AllRead)?;
    let explanations = explain_all(&probes);
    let summary = Summary::of(&probes);
    drop(probes); // disconnect now: each server is waiting for it
    Ok(match mode {
        Mode::Json => render_json(dir, &explanations, &summary).into_bytes(),
        _ => render_text(dir, &explanations, &summary),
    })
}

fn main() -> ExitCode {
    let args = match ClientArgs::try_parse() {
        Ok(args) => args,
        Err(e) => return usage::exit(PROGRAM, &e, Some("one directory")),
    };
    match output(args.mode(), &args.dir) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(&text).and_then(|_| out.flush()).is_err() {
                return ExitCode::from(isoprobe_cli::FAILED);
            }
            ExitCode::SUCCESS
        }
        Err(e) => isoprobe_cli::failure(PROGRAM, &e),
    }
}
