//! Usage errors as one line. clap's own report is several lines (the error,
//! the usage, a hint); the programs promise one line on stderr and exit
//! status 2, so the error's context is put into words here.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::process::ExitCode;

/// Exit status of a usage error (clap's too).
pub const USAGE_EXIT: u8 = 2;

/// The flag of a rendered argument: "--port <N>" → "--port", "<DIR>" → "DIR".
fn bare(rendered: &str) -> String {
    let first = rendered.split([' ', '=']).next().unwrap_or(rendered);
    first.trim_matches(['<', '>']).to_owned()
}

fn strings(err: &clap::Error, kind: ContextKind) -> Vec<String> {
    match err.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    }
}

fn first(err: &clap::Error, kind: ContextKind) -> String {
    strings(err, kind).into_iter().next().unwrap_or_default()
}

/// One line saying what is wrong with the command line. `positional` says
/// how many of what the program's positional arguments are ("one
/// directory"); `None` for a program that takes none.
pub fn one_line(err: &clap::Error, positional: Option<&str>) -> String {
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let arg = first(err, ContextKind::InvalidArg);
            if arg.starts_with('-') && arg.len() > 1 {
                format!("unknown option '{}'", bare(&arg))
            } else if let Some(what) = positional {
                format!("{what} expected, got another: '{arg}'")
            } else {
                format!("unexpected argument '{arg}' (every setting is a --flag)")
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing: Vec<String> = strings(err, ContextKind::InvalidArg)
                .iter()
                .map(|a| bare(a))
                .collect();
            match missing.split_first() {
                Some((one, [])) if !one.starts_with('-') => format!("missing {one}"),
                Some((one, [])) => format!("{one} is required"),
                Some((one, more)) => format!("{one} is required (and {})", more.join(", ")),
                None => fallback(err),
            }
        }
        ErrorKind::ArgumentConflict => {
            let arg = bare(&first(err, ContextKind::InvalidArg));
            let prior = bare(&first(err, ContextKind::PriorArg));
            if prior.is_empty() || prior == arg {
                format!("{arg} is given twice")
            } else {
                format!("{arg} and {prior} exclude each other")
            }
        }
        ErrorKind::InvalidValue if first(err, ContextKind::InvalidValue).is_empty() => {
            format!(
                "{} needs a value",
                bare(&first(err, ContextKind::InvalidArg))
            )
        }
        ErrorKind::ValueValidation => {
            let arg = bare(&first(err, ContextKind::InvalidArg));
            match std::error::Error::source(err) {
                Some(reason) => format!("{arg}: {reason}"),
                None => fallback(err),
            }
        }
        ErrorKind::InvalidUtf8 => "an argument is not valid UTF-8".into(),
        _ => fallback(err),
    }
}

/// clap's own first line, without its "error: " prefix.
fn fallback(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// What `main` does with a failed parse: `--help` and `--version` print to
/// stdout and succeed; anything else is one line on stderr and status 2.
pub fn exit(program: &str, err: &clap::Error, positional: Option<&str>) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Printing to a closed stdout is not worth a different status.
            let _ = err.print();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{program}: {} (try --help)", one_line(err, positional));
            ExitCode::from(USAGE_EXIT)
        }
    }
}

/// A usage error found after parsing (e.g. a proj id the library refuses).
pub fn refuse(program: &str, reason: &str) -> ExitCode {
    eprintln!("{program}: {reason} (try --help)");
    ExitCode::from(USAGE_EXIT)
}
