//! The command lines of `isoprobe-server` and `isoprobe-client` as clap
//! definitions, shared by the programs and by `isoprobe-docgen`, which
//! writes the man pages and shell completions from the same definitions.

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{CommandFactory, Parser};
use isoprobe::server::{Setup, Timeouts};
use isoprobe::shm::SHARED_MEMORY_SIZE;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// `--help` starts with the usage line, as the programs always did.
const HELP_TEMPLATE: &str = "usage: {usage}\n\n{about-with-newline}\n{all-args}{after-help}\n";

/// Exit statuses, shown by `--help` and in the man page's EXIT STATUS.
pub const SERVER_EXIT_STATUS: &str = "\
Exit status: 0 when the run completed (also when no client came), 1 when a
system call failed (one line \"system error: ...\" on stderr), 2 on a usage
error (one line on stderr).";

/// Exit statuses, shown by `--help` and in the man page's EXIT STATUS.
pub const CLIENT_EXIT_STATUS: &str = "\
Exit status: 0 on success, 1 when DIR cannot be read (one line
\"system error: ...\" on stderr), 2 on a usage error (one line on stderr).";

/// `isoprobe-server`'s command line.
#[derive(Debug, Parser)]
#[command(
    name = "isoprobe-server",
    version = isoprobe::VERSION,
    override_usage = "isoprobe-server --shm-path PATH --proj-id N --info-name NAME --info-dir DIR [OPTION]...",
    help_template = HELP_TEMPLATE,
    after_help = SERVER_EXIT_STATUS,
    about = "Run one server of the course exercise: a System V segment and a TCP socket for one client",
    long_about = "\
Runs one server of the course exercise: creates the System V segment
ftok(PATH, N) and a TCP socket on this machine's IPv4 address, publishes the
info file DIR/NAME, writes the shm message, waits for one client, sends it the
socket message, waits for it to close, then removes the segment, the socket
and the info file (also when ended by a signal such as SIGINT, SIGTERM or
SIGHUP).

Paths, names and messages are taken as the bytes they are (not necessarily
UTF-8); every option also takes the form --option=VALUE."
)]
pub struct ServerArgs {
    /// Existing path given to ftok to name the segment (required)
    #[arg(long, value_name = "PATH", allow_hyphen_values = true, value_hint = clap::ValueHint::AnyPath)]
    pub shm_path: PathBuf,

    /// ftok proj id; its low 8 bits must not be 0 (required)
    #[arg(long, value_name = "N", allow_hyphen_values = true,
          value_parser = proj_id)]
    pub proj_id: i32,

    /// Name of the info file: a plain name, no leading '.' (required)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub info_name: OsString,

    /// Directory the client reads; the info file goes here (required)
    #[arg(long, value_name = "DIR", allow_hyphen_values = true,
          value_hint = clap::ValueHint::DirPath)]
    pub info_dir: PathBuf,

    /// TCP port to listen on (default 0: any free port; the info file names
    /// the one chosen)
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = port)]
    pub port: Option<u16>,

    /// Message written into the segment (default: empty)
    #[arg(long, value_name = "MSG", allow_hyphen_values = true, value_parser = OsStringValueParser::new().try_map(shm_message))]
    pub shm_message: Option<OsString>,

    /// Message sent to the client (default: empty)
    #[arg(long, value_name = "MSG", allow_hyphen_values = true)]
    pub socket_message: Option<OsString>,

    /// How long to wait for a client, in seconds, fractions allowed
    /// (default 120)
    #[arg(long, value_name = "SECS", allow_hyphen_values = true, value_parser = seconds)]
    pub accept_timeout: Option<Duration>,

    /// How long to wait for the client to close, in seconds (default 10)
    #[arg(long, value_name = "SECS", allow_hyphen_values = true, value_parser = seconds)]
    pub close_timeout: Option<Duration>,
}

impl ServerArgs {
    /// The setup the flags describe, checked by the library (proj id, info
    /// file name, path) so that a bad one is a usage error, not a failed run.
    pub fn setup(&self) -> Result<Setup, String> {
        let setup = Setup {
            port: self.port.unwrap_or(0),
            shm_pathname: self.shm_path.clone(),
            shm_proj_id: self.proj_id,
            info_file_name: self.info_name.clone(),
            info_file_directory: self.info_dir.clone(),
        };
        setup.validate().map_err(|e| e.to_string())?;
        Ok(setup)
    }

    /// The timeouts, the library's defaults where no flag was given.
    pub fn timeouts(&self) -> Timeouts {
        let defaults = Timeouts::default();
        Timeouts {
            accept: self.accept_timeout.unwrap_or(defaults.accept),
            peer_close: self.close_timeout.unwrap_or(defaults.peer_close),
        }
    }
}

fn proj_id(text: &str) -> Result<i32, String> {
    text.parse()
        .map_err(|_| format!("'{text}' is not an integer"))
}

fn port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("'{text}' is not a port number (0..65535)"))
}

/// The segment holds the message and its terminating NUL.
fn shm_message(value: OsString) -> Result<OsString, String> {
    if value.len() >= SHARED_MEMORY_SIZE {
        return Err(format!(
            "{} bytes; the segment holds at most {}",
            value.len(),
            SHARED_MEMORY_SIZE - 1
        ));
    }
    Ok(value)
}

/// A non-negative, finite number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("'{text}' is not a number of seconds (0 or more)"))
}

/// `isoprobe-client`'s command line.
#[derive(Debug, Parser)]
#[command(
    name = "isoprobe-client",
    version = isoprobe::VERSION,
    override_usage = "isoprobe-client [--explain | --json] DIR",
    help_template = HELP_TEMPLATE,
    after_help = CLIENT_EXIT_STATUS,
    // `--json --json` is the same request twice, not a conflict.
    args_override_self = true,
    about = "Classify the course's servers as host, container or VM and print the course summary",
    long_about = "\
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
  Messages: m1 m2 ..."
)]
pub struct ClientArgs {
    /// Per server, why it was classified as it was; then the summary
    ///
    /// Per server: the info file, the address, the shm key, what each channel
    /// attempt returned (attached / ENOENT from ftok / no such key / EACCES;
    /// connected / refused / timed out / unreachable / name not resolved),
    /// how the message ended, and the verdict with its reason; then the
    /// summary
    #[arg(long, conflicts_with = "json")]
    pub explain: bool,

    /// The same as one JSON document
    #[arg(long)]
    pub json: bool,

    /// The directory of info files
    #[arg(value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: PathBuf,
}

/// What the client prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exactly the course summary.
    Summary,
    /// Per server, why it was classified as it was; then the summary.
    Explain,
    /// The same as one JSON document.
    Json,
}

impl ClientArgs {
    /// The output the flags ask for.
    pub fn mode(&self) -> Mode {
        match (self.explain, self.json) {
            (true, _) => Mode::Explain,
            (_, true) => Mode::Json,
            _ => Mode::Summary,
        }
    }
}

/// The clap command of `isoprobe-server` (for man pages and completions).
pub fn server_command() -> clap::Command {
    ServerArgs::command()
}

/// The clap command of `isoprobe-client` (for man pages and completions).
pub fn client_command() -> clap::Command {
    ClientArgs::command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::one_line;
    use isoprobe::client::{QUIET_PERIOD, RUN_DEADLINE};
    use isoprobe::server::{ACCEPT_TIMEOUT, PEER_CLOSE_TIMEOUT};

    const REQUIRED_ARGS: &[&str] = &[
        "isoprobe-server",
        "--shm-path",
        "/tmp",
        "--proj-id",
        "7",
        "--info-name",
        "srv",
        "--info-dir=/tmp/dir",
    ];

    fn server(extra: &[&str]) -> Result<ServerArgs, String> {
        let argv = [REQUIRED_ARGS, extra].concat();
        let args = ServerArgs::try_parse_from(argv).map_err(|e| one_line(&e, None))?;
        args.setup()?;
        Ok(args)
    }

    fn client(argv: &[&str]) -> Result<ClientArgs, String> {
        let argv = [&["isoprobe-client"], argv].concat();
        ClientArgs::try_parse_from(argv).map_err(|e| one_line(&e, Some("one directory")))
    }

    #[test]
    fn clap_accepts_the_definitions() {
        server_command().debug_assert();
        client_command().debug_assert();
    }

    #[test]
    fn server_required_flags_and_defaults() {
        let a = server(&[]).unwrap();
        let setup = a.setup().unwrap();
        assert_eq!(setup.port, 0);
        assert_eq!(setup.shm_proj_id, 7);
        assert_eq!(setup.info_file_directory, std::path::Path::new("/tmp/dir"));
        assert_eq!(a.shm_message, None);
        let t = a.timeouts();
        assert_eq!(
            (t.accept, t.peer_close),
            (ACCEPT_TIMEOUT, PEER_CLOSE_TIMEOUT)
        );
    }

    #[test]
    fn server_every_flag_is_read() {
        let a = server(&[
            "--port",
            "8080",
            "--shm-message=a b",
            "--socket-message",
            "-c=d",
            "--accept-timeout",
            "0.25",
            "--close-timeout=3",
        ])
        .unwrap();
        assert_eq!(a.setup().unwrap().port, 8080);
        assert_eq!(a.shm_message.as_deref(), Some("a b".as_ref()));
        assert_eq!(a.socket_message.as_deref(), Some("-c=d".as_ref()));
        let t = a.timeouts();
        assert_eq!(
            (t.accept, t.peer_close),
            (Duration::from_millis(250), Duration::from_secs(3))
        );
    }

    #[test]
    fn server_usage_errors_say_what_is_wrong() {
        let err = |a: &[&str]| server(a).unwrap_err();
        let missing = ServerArgs::try_parse_from(&REQUIRED_ARGS[..7]).unwrap_err();
        assert_eq!(one_line(&missing, None), "--info-dir is required");
        let none = ServerArgs::try_parse_from(["isoprobe-server"]).unwrap_err();
        assert_eq!(
            one_line(&none, None),
            "--shm-path is required (and --proj-id, --info-name, --info-dir)"
        );
        assert_eq!(
            err(&["--port", "65536"]),
            "--port: '65536' is not a port number (0..65535)"
        );
        assert_eq!(err(&["--proj-id", "8"]), "--proj-id is given twice");
        assert_eq!(err(&["--bogus"]), "unknown option '--bogus'");
        assert_eq!(
            err(&["stray"]),
            "unexpected argument 'stray' (every setting is a --flag)"
        );
        assert!(err(&["--accept-timeout", "-1"]).contains("seconds"));
        assert_eq!(err(&["--close-timeout"]), "--close-timeout needs a value");
        assert!(err(&["--shm-message", &"x".repeat(SHARED_MEMORY_SIZE)]).contains("at most 4095"));
        let mut bad_proj = REQUIRED_ARGS.to_vec();
        bad_proj[4] = "256";
        let args = ServerArgs::try_parse_from(bad_proj).unwrap();
        assert!(args.setup().unwrap_err().contains("low 8 bits"));
    }

    #[test]
    fn paths_names_and_messages_are_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let raw = |b: &[u8]| std::ffi::OsStr::from_bytes(b).to_owned();
        let mut argv: Vec<OsString> = REQUIRED_ARGS.iter().map(OsString::from).collect();
        argv[6] = raw(b"srv-\xff");
        argv.push(raw(b"--shm-message=\xe9t\xe9"));
        let a = ServerArgs::try_parse_from(argv).unwrap();
        assert_eq!(a.setup().unwrap().info_file_name.as_bytes(), b"srv-\xff");
        assert_eq!(a.shm_message.unwrap().as_bytes(), b"\xe9t\xe9");
    }

    #[test]
    fn client_modes_and_directory() {
        let c = client(&["d"]).unwrap();
        assert_eq!((c.mode(), c.dir.to_str()), (Mode::Summary, Some("d")));
        assert_eq!(client(&["--explain", "d"]).unwrap().mode(), Mode::Explain);
        assert_eq!(client(&["d", "--json"]).unwrap().mode(), Mode::Json);
        assert_eq!(
            client(&["--json", "--json", "d"]).unwrap().mode(),
            Mode::Json
        );
        assert_eq!(client(&["--", "-d"]).unwrap().dir.to_str(), Some("-d"));
    }

    #[test]
    fn client_usage_errors() {
        let err = |a: &[&str]| client(a).unwrap_err();
        assert_eq!(err(&[]), "missing DIR");
        assert_eq!(err(&["a", "b"]), "one directory expected, got another: 'b'");
        assert_eq!(
            err(&["--explain", "--json", "d"]),
            "--explain and --json exclude each other"
        );
        assert_eq!(err(&["--verbose", "d"]), "unknown option '--verbose'");
    }

    #[test]
    fn help_texts_name_the_library_constants() {
        let server_help = server_command().render_long_help().to_string();
        let secs = |d: Duration| format!("default {}", d.as_secs());
        assert!(server_help.contains(&secs(ACCEPT_TIMEOUT)), "{server_help}");
        assert!(
            server_help.contains(&secs(PEER_CLOSE_TIMEOUT)),
            "{server_help}"
        );
        let client_help = client_command().render_long_help().to_string();
        let deadline = format!("one {} deadline", crate::explain::seconds(RUN_DEADLINE));
        let quiet = format!("after {} of quiet", crate::explain::seconds(QUIET_PERIOD));
        assert!(client_help.contains(&deadline), "{client_help}");
        assert!(client_help.contains(&quiet), "{client_help}");
        assert!(client_help.starts_with("usage: isoprobe-client [--explain | --json] DIR\n"));
    }
}
