//! Why each server was classified as it was: the outcome of every channel
//! attempt, named the way a person debugging with strace would name it
//! (ENOENT from ftok, no such key, EACCES; refused, timed out, unreachable),
//! and the verdict with its reason. `isoprobe-client --explain` and `--json`
//! render these values.

use crate::client::{Environment, Messages, Probe};
use crate::error::Error;
use crate::info_file::{InfoFile, ParseError};
use crate::net::errno_name;
use std::fmt;
use std::net::SocketAddrV4;
use std::time::Duration;

/// What the attempt to reach a server's shared-memory segment returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShmOutcome {
    /// `shmat` succeeded: the segment is visible from this IPC namespace.
    Attached {
        /// The segment id `shmget` returned.
        shmid: i32,
    },
    /// `ftok` failed with ENOENT: the announced path does not exist in this
    /// client's filesystem (typical of a server in a container or VM that
    /// named a path of its own root).
    PathMissing,
    /// `shmget` failed with ENOENT: no segment has this key in this client's
    /// IPC namespace (the server's segment lives in another one).
    NoSuchKey,
    /// A shm call (`shmget`, `shmctl(IPC_STAT)` or `shmat`) failed with
    /// EACCES: the segment exists but its permissions refuse this user.
    PermissionDenied {
        /// The call that refused.
        call: &'static str,
    },
    /// The info file was refused, so nothing was tried.
    NotTried,
    /// Any other failure, as the failing call reported it.
    Failed(Error),
}

impl ShmOutcome {
    /// Names what `shm` (a probe's segment attempt) returned.
    pub fn of(info_ok: bool, shm: &Result<crate::shm::Attachment, Error>) -> ShmOutcome {
        if !info_ok {
            return ShmOutcome::NotTried;
        }
        let err = match shm {
            Ok(attachment) => {
                return ShmOutcome::Attached {
                    shmid: attachment.shmid(),
                }
            }
            Err(e) => e,
        };
        match (err.call(), err.errno()) {
            (Some("ftok"), libc::ENOENT) => ShmOutcome::PathMissing,
            (Some("shmget"), libc::ENOENT) => ShmOutcome::NoSuchKey,
            // shmget, shmctl(IPC_STAT) before attaching, or shmat.
            (Some(call), libc::EACCES) if call.starts_with("shm") => {
                ShmOutcome::PermissionDenied { call }
            }
            _ => ShmOutcome::Failed(err.clone()),
        }
    }

    /// True when the segment was attached.
    pub fn reached(&self) -> bool {
        matches!(self, ShmOutcome::Attached { .. })
    }

    /// A stable machine-readable name (used by `--json`).
    pub fn code(&self) -> &'static str {
        match self {
            ShmOutcome::Attached { .. } => "attached",
            ShmOutcome::PathMissing => "ftok_enoent",
            ShmOutcome::NoSuchKey => "no_such_key",
            ShmOutcome::PermissionDenied { .. } => "eacces",
            ShmOutcome::NotTried => "not_tried",
            ShmOutcome::Failed(_) => "failed",
        }
    }

    /// The failed call and its errno, when a call failed.
    pub fn failure(&self) -> Option<(&'static str, i32)> {
        match self {
            ShmOutcome::Attached { .. } | ShmOutcome::NotTried => None,
            ShmOutcome::PathMissing => Some(("ftok", libc::ENOENT)),
            ShmOutcome::NoSuchKey => Some(("shmget", libc::ENOENT)),
            ShmOutcome::PermissionDenied { call } => Some((call, libc::EACCES)),
            ShmOutcome::Failed(e) => e.call().map(|call| (call, e.errno())),
        }
    }
}

impl fmt::Display for ShmOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmOutcome::Attached { shmid } => write!(f, "attached (shmid {shmid})"),
            ShmOutcome::PathMissing => {
                f.write_str("ENOENT from ftok: the path does not exist on this machine")
            }
            ShmOutcome::NoSuchKey => f.write_str(
                "no such key: shmget (without IPC_CREAT) found no segment with this key \
                 in this IPC namespace (ENOENT)",
            ),
            ShmOutcome::PermissionDenied { call } => write!(
                f,
                "EACCES from {call}: the segment exists but its permissions refuse this user"
            ),
            ShmOutcome::NotTried => f.write_str("not tried (the info file was refused)"),
            ShmOutcome::Failed(e) => describe_failure(f, e),
        }
    }
}

/// What the attempt to connect to a server's socket returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOutcome {
    /// The connection was established.
    Connected,
    /// ECONNREFUSED: the address answered, but nothing listens on that port
    /// as seen from here (the server's port lives in another network
    /// namespace, or the server is gone).
    Refused,
    /// No answer before the shared connect deadline (the packets went
    /// nowhere, or the listener's queue was full).
    TimedOut {
        /// The deadline every connect shared.
        after: Duration,
    },
    /// ENETUNREACH or EHOSTUNREACH: this machine has no route to the address.
    Unreachable {
        /// Which of the two errno values.
        errno: i32,
    },
    /// The info file was refused, so nothing was tried.
    NotTried,
    /// Any other failure, as the failing call reported it.
    Failed(Error),
}

impl SocketOutcome {
    /// Names what `socket` (a probe's connect attempt) returned, given the
    /// deadline all connects shared.
    pub fn of<T>(info_ok: bool, socket: &Result<T, Error>, timeout: Duration) -> SocketOutcome {
        if !info_ok {
            return SocketOutcome::NotTried;
        }
        let err = match socket {
            Ok(_) => return SocketOutcome::Connected,
            Err(e) => e,
        };
        match (err.call(), err.errno()) {
            (Some("connect"), libc::ECONNREFUSED) => SocketOutcome::Refused,
            (Some("connect"), libc::ETIMEDOUT) => SocketOutcome::TimedOut { after: timeout },
            (Some("connect"), errno @ (libc::ENETUNREACH | libc::EHOSTUNREACH)) => {
                SocketOutcome::Unreachable { errno }
            }
            _ => SocketOutcome::Failed(err.clone()),
        }
    }

    /// True when the socket connected.
    pub fn reached(&self) -> bool {
        matches!(self, SocketOutcome::Connected)
    }

    /// A stable machine-readable name (used by `--json`).
    pub fn code(&self) -> &'static str {
        match self {
            SocketOutcome::Connected => "connected",
            SocketOutcome::Refused => "refused",
            SocketOutcome::TimedOut { .. } => "timed_out",
            SocketOutcome::Unreachable { .. } => "unreachable",
            SocketOutcome::NotTried => "not_tried",
            SocketOutcome::Failed(_) => "failed",
        }
    }

    /// The failed call and its errno, when a call failed.
    pub fn failure(&self) -> Option<(&'static str, i32)> {
        match self {
            SocketOutcome::Connected | SocketOutcome::NotTried => None,
            SocketOutcome::Refused => Some(("connect", libc::ECONNREFUSED)),
            SocketOutcome::TimedOut { .. } => Some(("connect", libc::ETIMEDOUT)),
            SocketOutcome::Unreachable { errno } => Some(("connect", *errno)),
            SocketOutcome::Failed(e) => e.call().map(|call| (call, e.errno())),
        }
    }
}

impl fmt::Display for SocketOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketOutcome::Connected => f.write_str("connected"),
            SocketOutcome::Refused => f.write_str(
                "refused (ECONNREFUSED): nothing listens on this address and port as seen from here",
            ),
            SocketOutcome::TimedOut { after } => write!(
                f,
                "timed out after {}: no answer to the connection request",
                seconds(*after)
            ),
            SocketOutcome::Unreachable { errno } => write!(
                f,
                "unreachable ({}): this machine has no route to the address",
                errno_name(*errno)
            ),
            SocketOutcome::NotTried => f.write_str("not tried (the info file was refused)"),
            SocketOutcome::Failed(e) => describe_failure(f, e),
        }
    }
}

fn describe_failure(f: &mut fmt::Formatter<'_>, e: &Error) -> fmt::Result {
    match e.call() {
        Some(call) => write!(
            f,
            "{call} failed: {} ({})",
            crate::error::strerror(e.errno()),
            errno_name(e.errno())
        ),
        None => write!(f, "failed: {e}"),
    }
}

/// "5 s" for whole seconds, "250 ms" otherwise.
fn seconds(d: Duration) -> String {
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
    pub path: String,
    /// What the file announced, or why it was refused.
    pub info: Result<InfoFile, ParseError>,
    /// The System V key the client looked for (`ftok` of the announced path
    /// and proj id); `None` when ftok failed or the file was refused.
    pub shm_key: Option<libc::key_t>,
    /// What the segment attempt returned.
    pub shm: ShmOutcome,
    /// What the connect attempt returned.
    pub socket: SocketOutcome,
    /// The messages read from the reached channels.
    pub messages: Messages,
    /// The verdict.
    pub environment: Environment,
}

impl Explanation {
    /// Explains `probe`, whose connect shared `connect_timeout` with the
    /// others, given the messages read from it.
    pub fn new(probe: &Probe, messages: Messages, connect_timeout: Duration) -> Explanation {
        let info_ok = probe.info.is_ok();
        Explanation {
            path: probe.path.clone(),
            info: probe.info.clone(),
            shm_key: probe.shm_key(),
            shm: ShmOutcome::of(info_ok, &probe.shm),
            socket: SocketOutcome::of(info_ok, &probe.socket, connect_timeout),
            messages,
            environment: probe.environment(),
        }
    }

    /// The announced address, when the info file was accepted.
    pub fn address(&self) -> Option<SocketAddrV4> {
        self.info
            .as_ref()
            .ok()
            .map(|i| SocketAddrV4::new(i.ip, i.port))
    }

    /// Why the verdict follows from the channel outcomes (the course's rule:
    /// both channels → Host, one → Container, none → VM).
    pub fn reason(&self) -> String {
        if let Err(e) = &self.info {
            return format!("the info file was refused ({e}), so neither channel was tried");
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

/// Explains every probe, pairing it with the messages read from it.
pub fn explain_all(
    probes: &[Probe],
    messages: &[Messages],
    connect_timeout: Duration,
) -> Vec<Explanation> {
    probes
        .iter()
        .zip(messages)
        .map(|(p, m)| Explanation::new(p, m.clone(), connect_timeout))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: Duration = Duration::from_secs(5);

    fn shm_err(call: &'static str, errno: i32) -> ShmOutcome {
        ShmOutcome::of(true, &Err(Error::sys(call, errno)))
    }

    fn sock_err(call: &'static str, errno: i32) -> SocketOutcome {
        SocketOutcome::of::<()>(true, &Err(Error::sys(call, errno)), FIVE)
    }

    #[test]
    fn shm_failures_are_named_by_call_and_errno() {
        assert_eq!(shm_err("ftok", libc::ENOENT), ShmOutcome::PathMissing);
        assert_eq!(shm_err("shmget", libc::ENOENT), ShmOutcome::NoSuchKey);
        assert_eq!(
            shm_err("shmat", libc::EACCES),
            ShmOutcome::PermissionDenied { call: "shmat" }
        );
        assert_eq!(
            shm_err("shmctl(IPC_STAT)", libc::EACCES),
            ShmOutcome::PermissionDenied {
                call: "shmctl(IPC_STAT)"
            }
        );
        assert_eq!(shm_err("ftok", libc::EACCES).code(), "failed");
        assert!(shm_err("ftok", libc::EACCES)
            .to_string()
            .contains("ftok failed"));
        assert_eq!(
            ShmOutcome::of(false, &Err(Error::invalid("x"))),
            ShmOutcome::NotTried
        );
    }

    #[test]
    fn socket_failures_are_named_by_errno() {
        assert_eq!(
            sock_err("connect", libc::ECONNREFUSED),
            SocketOutcome::Refused
        );
        let timed_out = sock_err("connect", libc::ETIMEDOUT);
        assert_eq!(timed_out.code(), "timed_out");
        assert!(timed_out.to_string().contains("timed out after 5 s"));
        let unreachable = sock_err("connect", libc::EHOSTUNREACH);
        assert_eq!(unreachable.code(), "unreachable");
        assert!(unreachable.to_string().contains("EHOSTUNREACH"));
        assert_eq!(sock_err("socket", libc::EMFILE).code(), "failed");
        assert_eq!(
            SocketOutcome::of::<()>(true, &Ok(()), FIVE),
            SocketOutcome::Connected
        );
    }

    #[test]
    fn sub_second_deadlines_are_shown_in_milliseconds() {
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
    }
}
