//! `isoprobe-client --explain` and `--json`: the explanations laid out as
//! text for a person, or as one JSON document (serde) for a program.

use crate::explain::{seconds, shown, Explanation, Words};
use isoprobe::client::{Summary, QUIET_PERIOD, RUN_DEADLINE};
use isoprobe::error::errno_name;
use isoprobe::outcome::{ReadEnd, ShmOutcome, SocketOutcome};
use serde::Serialize;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn key_text(key: libc::key_t) -> String {
    // The key's bits as ipcs shows them, also for a negative key_t.
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
            format!(", message {} ({})", message_text(m), Words(&end))
        }
        (SocketOutcome::Connected { .. }, None, Some(ReadEnd::Silent)) => {
            format!(", but no message within {}", seconds(RUN_DEADLINE))
        }
        (SocketOutcome::Connected { .. }, None, Some(end)) => {
            format!(", no message ({})", Words(&end))
        }
        _ => String::new(),
    };
    format!("{}{tail}", Words(&s.socket))
}

/// The lines of one server that read an info file.
fn announced_lines(out: &mut String, s: &Explanation, info: &isoprobe::announce::Announcement) {
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
        (ShmOutcome::Attached { .. }, Some(m)) => format!(", message {}", message_text(m)),
        _ => String::new(),
    };
    let _ = writeln!(out, "    shm:       {}{shm_msg}", Words(&s.shm));
    let _ = writeln!(out, "    socket:    {}", socket_line(s));
}

/// `--explain`: a header, one block per server, then the course summary.
pub fn render_text(dir: &Path, servers: &[Explanation], summary: &Summary) -> Vec<u8> {
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
            Ok(info) => announced_lines(&mut out, s, info),
        }
        let _ = writeln!(out, "    verdict:   {}: {}", s.environment, s.reason());
    }
    out.push('\n');
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&summary.to_bytes());
    bytes
}

/// The `--json` document. Field order is the output's order. Bytes (paths,
/// messages) are strings: as they are when UTF-8, else with the other bytes
/// written as `\xNN` text (JSON strings are Unicode).
#[derive(Serialize)]
struct Document {
    directory: String,
    connect_timeout_ms: u128,
    deadline_ms: u128,
    quiet_period_ms: u128,
    servers: Vec<ServerJson>,
    summary: SummaryJson,
}

#[derive(Serialize)]
struct ServerJson {
    info_file: String,
    info_error: Option<String>,
    address: Option<String>,
    shm_pathname: Option<String>,
    shm_proj_id: Option<i32>,
    shm_key: Option<String>,
    shm: ShmJson,
    socket: SocketJson,
    verdict: String,
    reason: String,
}

/// The failed call and its errno; all null when no call failed.
#[derive(Serialize)]
struct Failure {
    call: Option<&'static str>,
    errno: Option<i32>,
    errno_name: Option<String>,
}

impl Failure {
    fn of(failure: Option<(&'static str, i32)>) -> Failure {
        Failure {
            call: failure.map(|(call, _)| call),
            errno: failure.map(|(_, e)| e),
            errno_name: failure.map(|(_, e)| errno_name(e)),
        }
    }
}

#[derive(Serialize)]
struct ShmJson {
    outcome: &'static str,
    reached: bool,
    #[serde(flatten)]
    failure: Failure,
    detail: String,
    shmid: Option<i32>,
    message: Option<String>,
}

#[derive(Serialize)]
struct SocketJson {
    outcome: &'static str,
    reached: bool,
    #[serde(flatten)]
    failure: Failure,
    detail: String,
    message: Option<String>,
    message_end: Option<&'static str>,
    message_end_errno: Option<String>,
}

#[derive(Serialize)]
struct SummaryJson {
    total: usize,
    host: usize,
    container: usize,
    vm: usize,
    messages: Vec<String>,
}

fn shm_json(s: &Explanation) -> ShmJson {
    ShmJson {
        outcome: s.shm.code(),
        reached: s.shm.reached(),
        failure: Failure::of(s.shm.failure()),
        detail: Words(&s.shm).to_string(),
        shmid: match s.shm {
            ShmOutcome::Attached { shmid } => Some(shmid),
            _ => None,
        },
        message: s.messages.shm.as_deref().map(shown),
    }
}

fn read_end_code(end: ReadEnd) -> &'static str {
    match end {
        ReadEnd::Eof => "eof",
        ReadEnd::Quiet => "quiet",
        ReadEnd::Failed { .. } => "failed",
        ReadEnd::Silent => "silent",
    }
}

fn socket_json(s: &Explanation) -> SocketJson {
    SocketJson {
        outcome: s.socket.code(),
        reached: s.socket.reached(),
        failure: Failure::of(s.socket.failure()),
        detail: Words(&s.socket).to_string(),
        message: s.messages.socket.as_deref().map(shown),
        message_end: s.messages.socket_end.map(read_end_code),
        message_end_errno: match s.messages.socket_end {
            Some(ReadEnd::Failed { errno }) => Some(errno_name(errno)),
            _ => None,
        },
    }
}

fn server_json(s: &Explanation) -> ServerJson {
    let info = s.info.as_ref().ok();
    ServerJson {
        info_file: shown(s.path.as_os_str().as_bytes()),
        info_error: s.info.as_ref().err().map(|e| e.to_string()),
        address: info.map(|i| i.address_text()),
        shm_pathname: info.map(|i| shown(&i.shm_pathname)),
        shm_proj_id: info.map(|i| i.shm_proj_id),
        shm_key: s.shm_key.map(key_text),
        shm: shm_json(s),
        socket: socket_json(s),
        verdict: s.environment.to_string(),
        reason: s.reason(),
    }
}

/// `--json`: one document, two-space indentation, ending in a newline.
pub fn render_json(dir: &Path, servers: &[Explanation], summary: &Summary) -> String {
    let doc = Document {
        directory: path_text(dir),
        connect_timeout_ms: RUN_DEADLINE.as_millis(),
        deadline_ms: RUN_DEADLINE.as_millis(),
        quiet_period_ms: QUIET_PERIOD.as_millis(),
        servers: servers.iter().map(server_json).collect(),
        summary: SummaryJson {
            total: summary.total(),
            host: summary.host,
            container: summary.container,
            vm: summary.vm,
            messages: summary.messages.iter().map(|m| shown(m)).collect(),
        },
    };
    // Only strings, integers, options and vectors: serialising cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).expect("plain data serialises");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use isoprobe::client::{Environment, Messages};
    use isoprobe::info_file::ParseError;
    use std::path::PathBuf;

    fn refused(path: &str) -> Explanation {
        Explanation {
            path: PathBuf::from(path),
            info: Err(ParseError("bad \"line\"\t1".into())),
            shm_key: None,
            shm: ShmOutcome::NotTried,
            socket: SocketOutcome::NotTried,
            messages: Messages::default(),
            environment: Environment::Vm,
        }
    }

    #[test]
    fn json_is_one_indented_document_with_nulls() {
        let servers = [refused("/d/q\"uote")];
        let summary = Summary::new(&[Environment::Vm], &[Messages::default()]);
        let out = render_json(Path::new("/d"), &servers, &summary);
        assert!(out.starts_with("{\n  \"directory\": \"/d\",\n  \"connect_timeout_ms\": 5000,"));
        assert!(out.ends_with("}\n"));
        assert!(out.contains("\"info_file\": \"/d/q\\\"uote\""), "{out}");
        assert!(
            out.contains("\"info_error\": \"bad \\\"line\\\"\\t1\""),
            "{out}"
        );
        assert!(out.contains("\"address\": null"), "{out}");
        assert!(out.contains("\"messages\": []"), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["summary"]["vm"], 1);
        assert_eq!(v["servers"][0]["shm"]["outcome"], "not_tried");
        assert!(v["servers"][0]["shm"]["errno"].is_null());
        assert!(v["servers"][0]["socket"]["message_end"].is_null());
    }

    #[test]
    fn text_names_the_refusal_and_ends_with_the_summary() {
        let servers = [refused("/d/x")];
        let summary = Summary::new(&[Environment::Vm], &[Messages::default()]);
        let out = String::from_utf8(render_text(Path::new("/d"), &servers, &summary)).unwrap();
        assert!(
            out.starts_with("1 info file in /d; all connects and reads shared one 5 s deadline")
        );
        assert!(
            out.contains("\n[1] /d/x\n    info file: refused: bad"),
            "{out}"
        );
        assert!(
            out.contains("    verdict:   VM: the info file was refused"),
            "{out}"
        );
        assert!(
            out.ends_with("\n\nTotal Servers: 1\nHost: 0\nContainer: 0\nVM: 1\nMessages:\n"),
            "{out}"
        );
    }
}
