//! `isoprobe-client DIR`: the course's client `run` as a program. Prints
//! exactly the course's summary; `--explain` says, server by server, what
//! each channel attempt returned and why the server counted as host,
//! container or VM; `--json` gives the same as one JSON document.
//!
//! Exit status: 0 on success, 1 when the directory cannot be read, 2 on a
//! usage error.

use isoprobe::client::{self, Summary, QUIET_PERIOD, RUN_DEADLINE};
use isoprobe::explain::{explain_all, seconds, shown, Explanation};
use isoprobe::net::errno_name;
use isoprobe::outcome::{ReadEnd, ShmOutcome, SocketOutcome};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const PROGRAM: &str = "isoprobe-client";

const HELP: &str = "\
usage: isoprobe-client [--explain | --json] DIR

Reads the info files the servers published in DIR, attaches each server's
shared-memory segment (never creating one), connects to every server's socket
and reads the messages (all at once, one 5 s deadline; a message is complete
at end of stream or after 250 ms of quiet), and classifies each server: both
channels reached -> Host, one -> Container, none -> VM. A refused info file
counts as VM, with one warning line on stderr.

By default prints exactly the course's summary:
  Total Servers: N
  Host: H
  Container: C
  VM: V
  Messages: m1 m2 ...

Options:
  --explain   per server: the info file, the address, the shm key, what each
              channel attempt returned (attached / ENOENT from ftok / no such
              key / EACCES; connected / refused / timed out / unreachable /
              name not resolved), how the message ended, and the verdict with
              its reason; then the summary
  --json      the same as one JSON document
  --help      show this help
  --version   show the version

Exit status: 0 on success, 1 when DIR cannot be read (one line
\"system error: ...\" on stderr), 2 on a usage error.
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Summary,
    Explain,
    Json,
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Version,
    Run { mode: Mode, dir: PathBuf },
}

fn parse(args: Vec<OsString>) -> Result<Command, String> {
    let mut mode = None;
    let mut dir: Option<OsString> = None;
    let mut options_done = false;
    for arg in args {
        let text = arg.to_str();
        let chosen = match text {
            _ if options_done => None,
            Some("--help" | "-h") => return Ok(Command::Help),
            Some("--version") => return Ok(Command::Version),
            Some("--") => {
                options_done = true;
                continue;
            }
            Some("--explain") => Some(Mode::Explain),
            Some("--json") => Some(Mode::Json),
            _ if arg.as_bytes().starts_with(b"-") && arg.len() > 1 => {
                return Err(format!("unknown option '{}'", arg.to_string_lossy()))
            }
            _ => None,
        };
        match chosen {
            Some(m) => {
                if mode.is_some_and(|old| old != m) {
                    return Err("--explain and --json exclude each other".into());
                }
                mode = Some(m);
            }
            None => {
                if let Some(first) = dir.replace(arg.clone()) {
                    return Err(format!(
                        "one directory expected, got '{}' and '{}'",
                        first.to_string_lossy(),
                        arg.to_string_lossy()
                    ));
                }
            }
        }
    }
    let dir = dir.ok_or("missing DIR, the directory of info files")?;
    Ok(Command::Run {
        mode: mode.unwrap_or(Mode::Summary),
        dir: PathBuf::from(dir),
    })
}

fn main() -> ExitCode {
    let (mode, dir) = match parse(std::env::args_os().skip(1).collect()) {
        Ok(Command::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run { mode, dir }) => (mode, dir),
        Err(reason) => {
            eprintln!("{PROGRAM}: {reason} (try --help)");
            return ExitCode::from(2);
        }
    };
    let output = match mode {
        Mode::Summary => client::run(&dir, &mut std::io::stderr()).map(|s| s.to_bytes()),
        Mode::Explain | Mode::Json => {
            client::probe_dir(&dir, RUN_DEADLINE, isoprobe::reach::Until::AllRead).map(|probes| {
                let explanations = explain_all(&probes);
                let summary = Summary::of(&probes);
                drop(probes); // disconnect now: each server is waiting for it
                if mode == Mode::Explain {
                    render_text(&dir, &explanations, &summary)
                } else {
                    render_json(&dir, &explanations, &summary).into_bytes()
                }
            })
        }
    };
    match output {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(&text).and_then(|_| out.flush()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) if e.is_system() => {
            eprintln!("system error: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            ExitCode::from(1)
        }
    }
}

fn key_text(key: libc::key_t) -> String {
    format!("0x{:08x}", key as u32)
}

fn path_text(p: &Path) -> String {
    shown(p.as_os_str().as_bytes())
}

/// A message quoted for a person: escaped like a Rust string literal.
fn message_text(m: &[u8]) -> String {
    format!("{:?}", shown(m))
}

fn socket_line(s: &Explanation) -> String {
    let tail = match (&s.socket, &s.messages.socket, s.messages.socket_end) {
        (SocketOutcome::Connected { .. }, Some(m), Some(end)) => {
            format!(", message {} ({end})", message_text(m))
        }
        (SocketOutcome::Connected { .. }, None, Some(ReadEnd::Silent)) => {
            format!(", but no message within {}", seconds(RUN_DEADLINE))
        }
        (SocketOutcome::Connected { .. }, None, Some(end)) => format!(", no message ({end})"),
        _ => String::new(),
    };
    format!("{}{tail}", s.socket)
}

fn render_text(dir: &Path, servers: &[Explanation], summary: &Summary) -> Vec<u8> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} info file{} in {}; all connects and reads shared one {} deadline \
         (a message is complete at end of stream or after {} of quiet)",
        servers.len(),
        if servers.len() == 1 { "" } else { "s" },
        path_text(dir),
        seconds(RUN_DEADLINE),
        seconds(QUIET_PERIOD)
    );
    for (i, s) in servers.iter().enumerate() {
        let _ = writeln!(out, "\n[{}] {}", i + 1, path_text(&s.path));
        match &s.info {
            Err(e) => {
                let _ = writeln!(out, "    info file: refused: {e}");
            }
            Ok(info) => {
                let _ = writeln!(out, "    address:   {}", info.address_text());
                let ftok = format!(
                    "ftok({}, {})",
                    message_text(&info.shm_pathname),
                    info.shm_proj_id
                );
                let _ = match s.shm_key {
                    Some(key) => writeln!(out, "    shm key:   {} = {ftok}", key_text(key)),
                    None => writeln!(out, "    shm key:   none, {ftok} failed"),
                };
                let shm_msg = match (&s.shm, &s.messages.shm) {
                    (ShmOutcome::Attached { .. }, Some(m)) => {
                        format!(", message {}", message_text(m))
                    }
                    _ => String::new(),
                };
                let _ = writeln!(out, "    shm:       {}{shm_msg}", s.shm);
                let _ = writeln!(out, "    socket:    {}", socket_line(s));
            }
        }
        let _ = writeln!(out, "    verdict:   {}: {}", s.environment, s.reason());
    }
    out.push('\n');
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&summary.to_bytes());
    bytes
}

/// A JSON value; `render` writes it with two-space indentation.
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// Bytes as a JSON string: as they are when UTF-8, else with the other
    /// bytes written as `\xNN` text (JSON strings are Unicode).
    fn bytes(b: &[u8]) -> Json {
        Json::Str(shown(b))
    }

    fn opt<T>(value: Option<T>, f: impl FnOnce(T) -> Json) -> Json {
        value.map_or(Json::Null, f)
    }

    fn render(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => escape_json(s, out),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    push_indent(out, indent + 1);
                    item.render(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push(']');
            }
            Json::Object(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    push_indent(out, indent + 1);
                    escape_json(key, out);
                    out.push_str(": ");
                    value.render(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push('}');
            }
        }
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Writes `s` as a JSON string literal (RFC 8259 §7): quote, backslash and
/// every control character escaped; everything else is UTF-8 as is.
fn escape_json(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            // Valid JSON, but they end lines in JavaScript.
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn failure_fields(failure: Option<(&'static str, i32)>) -> [(&'static str, Json); 3] {
    [
        ("call", Json::opt(failure, |(call, _)| Json::str(call))),
        ("errno", Json::opt(failure, |(_, e)| Json::Int(e.into()))),
        (
            "errno_name",
            Json::opt(failure, |(_, e)| Json::str(errno_name(e))),
        ),
    ]
}

fn shm_json(s: &Explanation) -> Json {
    let mut fields = vec![
        ("outcome", Json::str(s.shm.code())),
        ("reached", Json::Bool(s.shm.reached())),
    ];
    fields.extend(failure_fields(s.shm.failure()));
    let shmid = match s.shm {
        ShmOutcome::Attached { shmid } => Json::Int(shmid.into()),
        _ => Json::Null,
    };
    fields.extend([
        ("detail", Json::str(s.shm.to_string())),
        ("shmid", shmid),
        ("message", Json::opt(s.messages.shm.as_deref(), Json::bytes)),
    ]);
    Json::Object(fields)
}

fn socket_json(s: &Explanation) -> Json {
    let mut fields = vec![
        ("outcome", Json::str(s.socket.code())),
        ("reached", Json::Bool(s.socket.reached())),
    ];
    fields.extend(failure_fields(s.socket.failure()));
    fields.extend([
        ("detail", Json::str(s.socket.to_string())),
        (
            "message",
            Json::opt(s.messages.socket.as_deref(), Json::bytes),
        ),
        (
            "message_end",
            Json::opt(s.messages.socket_end, |end| {
                Json::str(match end {
                    ReadEnd::Eof => "eof",
                    ReadEnd::Quiet => "quiet",
                    ReadEnd::Failed { .. } => "failed",
                    ReadEnd::Silent => "silent",
                })
            }),
        ),
        (
            "message_end_errno",
            Json::opt(
                match s.messages.socket_end {
                    Some(ReadEnd::Failed { errno }) => Some(errno),
                    _ => None,
                },
                |e| Json::str(errno_name(e)),
            ),
        ),
    ]);
    Json::Object(fields)
}

fn server_json(s: &Explanation) -> Json {
    let info = s.info.as_ref().ok();
    Json::Object(vec![
        ("info_file", Json::bytes(s.path.as_os_str().as_bytes())),
        (
            "info_error",
            Json::opt(s.info.as_ref().err(), |e| Json::str(e.to_string())),
        ),
        ("address", Json::opt(info, |i| Json::str(i.address_text()))),
        (
            "shm_pathname",
            Json::opt(info, |i| Json::bytes(&i.shm_pathname)),
        ),
        (
            "shm_proj_id",
            Json::opt(info, |i| Json::Int(i.shm_proj_id.into())),
        ),
        ("shm_key", Json::opt(s.shm_key, |k| Json::str(key_text(k)))),
        ("shm", shm_json(s)),
        ("socket", socket_json(s)),
        ("verdict", Json::str(s.environment.to_string())),
        ("reason", Json::str(s.reason())),
    ])
}

fn render_json(dir: &Path, servers: &[Explanation], summary: &Summary) -> String {
    let count = |n: usize| Json::Int(n as i64);
    let doc = Json::Object(vec![
        ("directory", Json::bytes(dir.as_os_str().as_bytes())),
        (
            "connect_timeout_ms",
            Json::Int(RUN_DEADLINE.as_millis() as i64),
        ),
        ("deadline_ms", Json::Int(RUN_DEADLINE.as_millis() as i64)),
        (
            "quiet_period_ms",
            Json::Int(QUIET_PERIOD.as_millis() as i64),
        ),
        (
            "servers",
            Json::Array(servers.iter().map(server_json).collect()),
        ),
        (
            "summary",
            Json::Object(vec![
                ("total", count(summary.total())),
                ("host", count(summary.host)),
                ("container", count(summary.container)),
                ("vm", count(summary.vm)),
                (
                    "messages",
                    Json::Array(summary.messages.iter().map(|m| Json::bytes(m)).collect()),
                ),
            ]),
        ),
    ]);
    let mut out = String::new();
    doc.render(&mut out, 0);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn run(mode: Mode, dir: &str) -> Command {
        Command::Run {
            mode,
            dir: dir.into(),
        }
    }

    #[test]
    fn modes_and_directory() {
        assert_eq!(parse(args(&["d"])).unwrap(), run(Mode::Summary, "d"));
        assert_eq!(
            parse(args(&["--explain", "d"])).unwrap(),
            run(Mode::Explain, "d")
        );
        assert_eq!(parse(args(&["d", "--json"])).unwrap(), run(Mode::Json, "d"));
        assert_eq!(
            parse(args(&["--", "-d"])).unwrap(),
            run(Mode::Summary, "-d")
        );
        assert_eq!(
            parse(args(&["--json", "--json", "d"])).unwrap(),
            run(Mode::Json, "d")
        );
    }

    #[test]
    fn usage_errors() {
        let err = |a: &[&str]| parse(args(a)).unwrap_err();
        assert!(err(&[]).contains("missing DIR"));
        assert!(err(&["a", "b"]).contains("one directory expected"));
        assert!(err(&["--explain", "--json", "d"]).contains("exclude"));
        assert_eq!(err(&["--verbose", "d"]), "unknown option '--verbose'");
        assert_eq!(parse(args(&["d", "--help"])).unwrap(), Command::Help);
        assert_eq!(parse(args(&["--version"])).unwrap(), Command::Version);
    }

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape_json(s, &mut out);
        out
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(escaped("plain"), "\"plain\"");
        assert_eq!(escaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(escaped("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
        assert_eq!(
            escaped("\u{1}\u{8}\u{c}\u{1f}\u{7f}"),
            "\"\\u0001\\b\\f\\u001f\\u007f\""
        );
        assert_eq!(escaped("é→\u{2028}"), "\"é→\\u2028\"");
    }

    #[test]
    fn json_values_nest_with_indentation() {
        let doc = Json::Object(vec![
            (
                "a",
                Json::Array(vec![Json::Int(-1), Json::Null, Json::Bool(true)]),
            ),
            ("b", Json::Object(vec![])),
            ("c", Json::Array(vec![])),
        ]);
        let mut out = String::new();
        doc.render(&mut out, 0);
        assert_eq!(
            out,
            "{\n  \"a\": [\n    -1,\n    null,\n    true\n  ],\n  \"b\": {},\n  \"c\": []\n}"
        );
    }
}
