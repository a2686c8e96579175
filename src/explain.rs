//! Words for the outcomes: why each server was classified as it was, named
//! the way a person debugging with strace would name it (ENOENT from ftok, no
//! such key, EACCES; refused, timed out, unreachable), and the verdict with
//! its reason. This module only formats the typed outcomes the probes
//! returned (`outcome`); `isoprobe-client --explain` and `--json` render it.

use crate::announce::Announcement;
use crate::client::{Environment, Messages, Probe, QUIET_PERIOD};
use crate::info_file::ParseError;
use crate::net::errno_name;
use crate::outcome::{ReadEnd, ShmOutcome, SocketOutcome};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

impl fmt::Display for ShmOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ShmOutcome::Attached { shmid } => write!(f, "attached (shmid {shmid})"),
            ShmOutcome::FtokFailed {
                errno: libc::ENOENT,
            } => f.write_str("ENOENT from ftok: the path does not exist on this machine"),
            ShmOutcome::FtokFailed { errno } => failed(f, "ftok", errno),
            ShmOutcome::NoSuchKey => f.write_str(
                "no such key: shmget (without IPC_CREAT) found no segment with this key \
                 in this IPC namespace (ENOENT)",
            ),
            ShmOutcome::PermissionDenied { step } => write!(
                f,
                "EACCES from {}: the segment exists but its permissions refuse this user",
                step.call()
            ),
            ShmOutcome::Failed { step, errno } => failed(f, step.call(), errno),
            ShmOutcome::NotTried => f.write_str("not tried (the info file was refused)"),
        }
    }
}

impl fmt::Display for SocketOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketOutcome::Connected { addr } => write!(f, "connected to {addr}"),
            SocketOutcome::Refused => f.write_str(
                "refused (ECONNREFUSED): nothing listens on this address and port as seen from here",
            ),
            SocketOutcome::DeadlinePassed { after } => write!(
                f,
                "timed out: no answer to the connection request within the run's {} deadline",
                seconds(*after)
            ),
            SocketOutcome::Unreachable { errno } => write!(
                f,
                "unreachable ({}): this machine has no route to the address",
                errno_name(*errno)
            ),
            SocketOutcome::NameNotResolved { reason } => {
                write!(f, "the host name was not resolved: {reason}")
            }
            SocketOutcome::ConnectFailed { errno } => failed(f, "connect", *errno),
            SocketOutcome::SocketFailed { errno } => failed(f, "socket", *errno),
            SocketOutcome::NotTried => f.write_str("not tried (the info file was refused)"),
        }
    }
}

impl fmt::Display for ReadEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReadEnd::Eof => f.write_str("complete at end of stream"),
            ReadEnd::Quiet => write!(
                f,
                "complete after {} of quiet (the server kept the connection open)",
                seconds(QUIET_PERIOD)
            ),
            ReadEnd::Failed { errno } => write!(
                f,
                "the connection failed after the handshake ({}); what arrived before counts",
                errno_name(errno)
            ),
            ReadEnd::Silent => f.write_str("nothing arrived before the deadline"),
        }
    }
}

fn failed(f: &mut fmt::Formatter<'_>, call: &str, errno: i32) -> fmt::Result {
    write!(
        f,
        "{call} failed: {} ({})",
        crate::error::strerror(errno),
        errno_name(errno)
    )
}

/// "5 s" for whole seconds, "250 ms" otherwise.
pub fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Everything `--explain` says about one server.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The info file's path.
    pub path: PathBuf,
    /// What the file announced, or why it was refused.
    pub info: Result<Announcement, ParseError>,
    /// The System V key the client looked for (`ftok` of the announced path
    /// and proj id); `None` when ftok failed or the file was refused.
    pub shm_key: Option<libc::key_t>,
    /// What the segment probe returned.
    pub shm: ShmOutcome,
    /// What the connect returned.
    pub socket: SocketOutcome,
    /// The messages read from the reached channels.
    pub messages: Messages,
    /// The verdict.
    pub environment: Environment,
}

impl Explanation {
    /// Explains `probe`.
    pub fn new(probe: &Probe) -> Explanation {
        Explanation {
            path: probe.path.clone(),
            info: probe.info.clone(),
            shm_key: probe.shm_key,
            shm: probe.shm,
            socket: probe.socket.clone(),
            messages: probe.messages(),
            environment: probe.environment(),
        }
    }

    /// Why the verdict follows from the channel outcomes (the course's rule:
    /// both channels → Host, one → Container, none → VM).
    pub fn reason(&self) -> String {
        if let Err(e) = &self.info {
            return format!(
                "the info file was refused ({e}), so neither channel was tried; \
                 it counts as a VM"
            );
        }
        match (self.shm.reached(), self.socket.reached()) {
            (true, true) => "both channels were reached: it shares this client's IPC \
                             namespace and network, so it runs on this host"
                .into(),
            (true, false) => "only the shared-memory segment was reached: it shares this \
                              client's IPC namespace but not its network, so it counts as a \
                              container"
                .into(),
            (false, true) => "only the socket was reached: it shares the network, but its \
                              segment is not visible here (own IPC namespace or own \
                              filesystem), so it counts as a container"
                .into(),
            (false, false) => "neither channel was reached: it shares neither IPC namespace \
                               nor network with this client, so it counts as a VM (another \
                               kernel)"
                .into(),
        }
    }
}

/// Explains every probe.
pub fn explain_all(probes: &[Probe]) -> Vec<Explanation> {
    probes.iter().map(Explanation::new).collect()
}

/// Bytes for a person: as they are when they are UTF-8, else with the
/// other bytes escaped (`\xff`).
pub fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.escape_ascii().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ShmStep;

    #[test]
    fn shm_outcomes_are_named() {
        let missing = ShmOutcome::FtokFailed {
            errno: libc::ENOENT,
        };
        assert_eq!(missing.code(), "ftok_enoent");
        assert!(missing.to_string().starts_with("ENOENT from ftok"));
        assert_eq!(missing.failure(), Some(("ftok", libc::ENOENT)));
        let eacces_ftok = ShmOutcome::FtokFailed {
            errno: libc::EACCES,
        };
        assert_eq!(eacces_ftok.code(), "ftok_failed");
        assert!(eacces_ftok.to_string().contains("ftok failed"));
        assert_eq!(
            ShmOutcome::of_failure(ShmStep::Shmget, libc::ENOENT),
            ShmOutcome::NoSuchKey
        );
        let denied = ShmOutcome::of_failure(ShmStep::Shmat, libc::EACCES);
        assert_eq!(
            denied,
            ShmOutcome::PermissionDenied {
                step: ShmStep::Shmat
            }
        );
        assert!(denied.to_string().starts_with("EACCES from shmat"));
        assert_eq!(
            ShmOutcome::of_failure(ShmStep::Shmat, libc::EINVAL).failure(),
            Some(("shmat", libc::EINVAL))
        );
        assert_eq!(ShmOutcome::NotTried.failure(), None);
    }

    #[test]
    fn socket_outcomes_are_named_without_invented_errnos() {
        assert_eq!(
            SocketOutcome::of_connect_errno(libc::ECONNREFUSED),
            SocketOutcome::Refused
        );
        let late = SocketOutcome::DeadlinePassed {
            after: Duration::from_secs(5),
        };
        assert_eq!(late.code(), "timed_out");
        assert_eq!(late.failure(), None, "a deadline is not an errno");
        assert!(late.to_string().contains("5 s deadline"));
        let unreachable = SocketOutcome::of_connect_errno(libc::EHOSTUNREACH);
        assert_eq!(unreachable.code(), "unreachable");
        assert!(unreachable.to_string().contains("EHOSTUNREACH"));
        let own = SocketOutcome::SocketFailed {
            errno: libc::EMFILE,
        };
        assert_eq!(own.failure(), Some(("socket", libc::EMFILE)));
        let addr = "127.0.0.1:80".parse().unwrap();
        assert!(SocketOutcome::Connected { addr }.reached());
        assert_eq!(
            SocketOutcome::Connected { addr }.to_string(),
            "connected to 127.0.0.1:80"
        );
    }

    #[test]
    fn read_ends_and_durations() {
        assert!(ReadEnd::Quiet.to_string().contains("250 ms"));
        assert!(ReadEnd::Failed {
            errno: libc::ECONNRESET
        }
        .to_string()
        .contains("ECONNRESET"));
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(shown(b"a\xffb"), "a\\xffb");
        assert_eq!(shown("é".as_bytes()), "é");
    }
}
