//! `isoprobe-server`: the course's server `run` as a program. Creates the
//! segment and the listening socket, publishes the info file, writes the shm
//! message, waits for one client, sends the socket message, waits for the
//! client to close, and removes everything (also when ended by a signal).
//!
//! Exit status: 0 when the run completed (also when no client came), 1 on a
//! failure while running, 2 on a usage error.

use isoprobe::server::{self, RunOutcome, Setup, Timeouts};
use isoprobe::shm::SHARED_MEMORY_SIZE;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::ExitCode;
use std::time::Duration;

const PROGRAM: &str = "isoprobe-server";

const HELP: &str = "\
usage: isoprobe-server --shm-path PATH --proj-id N --info-name NAME --info-dir DIR [OPTION]...

Runs one server of the course exercise: creates the System V segment
ftok(PATH, N) and a TCP socket on this machine's IPv4 address, publishes the
info file DIR/NAME, writes the shm message, waits for one client, sends it the
socket message, waits for it to close, then removes the segment, the socket
and the info file (also when ended by a signal such as SIGINT, SIGTERM or
SIGHUP).

Required:
  --shm-path PATH         existing path given to ftok to name the segment
  --proj-id N             ftok proj id (its low 8 bits must not be 0)
  --info-name NAME        name of the info file (plain name, no leading '.')
  --info-dir DIR          directory the client reads (the info file goes here)

Options:
  --port N                TCP port to listen on (default 0: any free port;
                          the info file names the one chosen)
  --shm-message MSG       message written into the segment (default: empty)
  --socket-message MSG    message sent to the client (default: empty)
  --accept-timeout SECS   how long to wait for a client (default 120)
  --close-timeout SECS    how long to wait for the client to close (default 10)
  --help                  show this help
  --version               show the version

Every option also takes the form --option=VALUE. SECS may be fractional.
Exit status: 0 when the run completed (also when no client came), 1 when a
system call failed (one line \"system error: ...\" on stderr), 2 on a usage error.
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Version,
    Run(Config),
}

/// A complete, checked server configuration.
#[derive(Debug, PartialEq)]
struct Config {
    setup: Setup,
    shm_message: Vec<u8>,
    socket_message: Vec<u8>,
    timeouts: (Duration, Duration),
}

/// The flags that take a value, in the order `--help` lists them.
const FLAGS: &[&str] = &[
    "--shm-path",
    "--proj-id",
    "--info-name",
    "--info-dir",
    "--port",
    "--shm-message",
    "--socket-message",
    "--accept-timeout",
    "--close-timeout",
];

fn parse(args: Vec<OsString>) -> Result<Command, String> {
    // Paths, names and messages are bytes (not necessarily UTF-8), as the
    // kernel takes them; only flag names and numbers must be text.
    let mut values: Vec<Option<OsString>> = vec![None; FLAGS.len()];
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        match bytes {
            b"--help" | b"-h" => return Ok(Command::Help),
            b"--version" => return Ok(Command::Version),
            _ => {}
        }
        let (name, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(eq) if bytes.starts_with(b"--") => (&bytes[..eq], Some(&bytes[eq + 1..])),
            _ => (bytes, None),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let Some(index) = FLAGS.iter().position(|f| *f == name) else {
            return Err(if bytes.starts_with(b"-") {
                format!("unknown option '{name}'")
            } else {
                format!(
                    "unexpected argument '{}' (every setting is a --flag)",
                    arg.to_string_lossy()
                )
            });
        };
        let value = match inline {
            Some(v) => OsStr::from_bytes(v).to_owned(),
            None => args.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        if values[index].replace(value).is_some() {
            return Err(format!("{name} is given twice"));
        }
    }
    let mut take = |flag: &str| values[FLAGS.iter().position(|f| *f == flag).unwrap()].take();
    let required = |flag: &str, v: Option<OsString>| v.ok_or_else(|| format!("{flag} is required"));
    let text = |flag: &str, v: OsString| {
        v.into_string()
            .map_err(|v| format!("{flag}: {v:?} is not a number"))
    };
    let shm_pathname = required("--shm-path", take("--shm-path"))?;
    let proj_id = text("--proj-id", required("--proj-id", take("--proj-id"))?)?;
    let info_file_name = required("--info-name", take("--info-name"))?;
    let info_file_directory = required("--info-dir", take("--info-dir"))?;
    let port = match take("--port") {
        None => 0,
        Some(p) => {
            let p = text("--port", p)?;
            p.parse::<u16>()
                .map_err(|_| format!("--port: '{p}' is not a port number (0..65535)"))?
        }
    };
    let shm_proj_id = proj_id
        .parse::<i32>()
        .map_err(|_| format!("--proj-id: '{proj_id}' is not an integer"))?;
    let setup = Setup {
        port,
        shm_pathname: shm_pathname.into(),
        shm_proj_id,
        info_file_name,
        info_file_directory: info_file_directory.into(),
    };
    setup.validate().map_err(|e| e.to_string())?;
    let shm_message = take("--shm-message").unwrap_or_default().into_vec();
    if shm_message.len() >= SHARED_MEMORY_SIZE {
        return Err(format!(
            "--shm-message is {} bytes; the segment holds at most {}",
            shm_message.len(),
            SHARED_MEMORY_SIZE - 1
        ));
    }
    let socket_message = take("--socket-message").unwrap_or_default().into_vec();
    let defaults = Timeouts::default();
    let accept = take("--accept-timeout")
        .map(|v| text("--accept-timeout", v))
        .transpose()?;
    let close = take("--close-timeout")
        .map(|v| text("--close-timeout", v))
        .transpose()?;
    let accept = seconds("--accept-timeout", accept, defaults.accept)?;
    let close = seconds("--close-timeout", close, defaults.peer_close)?;
    Ok(Command::Run(Config {
        setup,
        shm_message,
        socket_message,
        timeouts: (accept, close),
    }))
}

/// Parses a non-negative, finite number of seconds.
fn seconds(flag: &str, value: Option<String>, default: Duration) -> Result<Duration, String> {
    let Some(text) = value else {
        return Ok(default);
    };
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("{flag}: '{text}' is not a number of seconds (0 or more)"))
}

fn describe(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

fn main() -> ExitCode {
    let command = match parse(std::env::args_os().skip(1).collect()) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("{PROGRAM}: {reason} (try --help)");
            return ExitCode::from(2);
        }
    };
    let config = match command {
        Command::Help => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Run(config) => config,
    };
    let (accept, peer_close) = config.timeouts;
    let timeouts = Timeouts { accept, peer_close };
    match server::run(
        &config.setup,
        &config.shm_message,
        &config.socket_message,
        timeouts,
    ) {
        Ok(RunOutcome::Served) => ExitCode::SUCCESS,
        Ok(RunOutcome::ServedClientLingered) => {
            eprintln!(
                "{PROGRAM}: the client did not close within {}; shut down anyway",
                describe(peer_close)
            );
            ExitCode::SUCCESS
        }
        Ok(RunOutcome::NoClient) => {
            eprintln!(
                "{PROGRAM}: no client connected within {}; nothing was sent",
                describe(accept)
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    const REQUIRED: &[&str] = &[
        "--shm-path",
        "/tmp",
        "--proj-id",
        "7",
        "--info-name",
        "srv",
        "--info-dir=/tmp/dir",
    ];

    #[test]
    fn required_flags_and_defaults() {
        let Command::Run(c) = parse(args(REQUIRED)).unwrap() else {
            panic!("expected a run");
        };
        assert_eq!(c.setup.port, 0);
        assert_eq!(c.setup.shm_proj_id, 7);
        assert_eq!(
            c.setup.info_file_directory,
            std::path::Path::new("/tmp/dir")
        );
        assert_eq!(c.shm_message, b"");
        assert_eq!(
            c.timeouts,
            (server::ACCEPT_TIMEOUT, server::PEER_CLOSE_TIMEOUT)
        );
    }

    #[test]
    fn every_flag_is_read() {
        let mut a = REQUIRED.to_vec();
        a.extend([
            "--port",
            "8080",
            "--shm-message=a b",
            "--socket-message",
            "c=d",
            "--accept-timeout",
            "0.25",
            "--close-timeout=3",
        ]);
        let Command::Run(c) = parse(args(&a)).unwrap() else {
            panic!("expected a run");
        };
        assert_eq!(c.setup.port, 8080);
        assert_eq!(c.shm_message, b"a b");
        assert_eq!(c.socket_message, b"c=d");
        assert_eq!(
            c.timeouts,
            (Duration::from_millis(250), Duration::from_secs(3))
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        let err = |a: &[&str]| parse(args(a)).unwrap_err();
        assert_eq!(err(&REQUIRED[..6]), "--info-dir is required");
        assert!(err(&[REQUIRED, &["--port", "65536"]].concat()).contains("--port"));
        assert!(err(&[REQUIRED, &["--proj-id", "8"]].concat()).contains("twice"));
        assert!(err(&[REQUIRED, &["--bogus"]].concat()).contains("unknown option '--bogus'"));
        assert!(err(&[REQUIRED, &["stray"]].concat()).contains("unexpected argument"));
        assert!(err(&[REQUIRED, &["--accept-timeout", "-1"]].concat()).contains("seconds"));
        assert!(err(&[REQUIRED, &["--close-timeout"]].concat()).contains("needs a value"));
        let mut bad_proj = REQUIRED.to_vec();
        bad_proj[3] = "256";
        assert!(err(&bad_proj).contains("low 8 bits"));
    }

    #[test]
    fn paths_names_and_messages_are_bytes() {
        let raw = |b: &[u8]| OsStr::from_bytes(b).to_owned();
        let mut a = args(REQUIRED);
        a[5] = raw(b"srv-\xff");
        a.push(raw(b"--shm-message=\xe9t\xe9"));
        let Command::Run(c) = parse(a).unwrap() else {
            panic!("expected a run");
        };
        assert_eq!(c.setup.info_file_name.as_bytes(), b"srv-\xff");
        assert_eq!(c.shm_message, b"\xe9t\xe9");
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(
            parse(args(&["--bogus", "--help"])).unwrap_err(),
            "unknown option '--bogus'"
        );
        assert_eq!(parse(args(&["--help", "--bogus"])).unwrap(), Command::Help);
        assert_eq!(parse(args(&["--version"])).unwrap(), Command::Version);
    }
}
