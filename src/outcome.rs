//! What happened on each channel of one server, as values: the probe of the
//! segment returns a `ShmOutcome`, the connect a `SocketOutcome`, the read of
//! a connected socket a `ReadEnd`. Classification, the course summary,
//! `--explain` and `--json` all read these; nothing decides by the name of a
//! failed call, and nothing invents an errno (a passed deadline is its own
//! variant). The words for people live in `explain`.

use std::net::SocketAddr;
use std::time::Duration;

/// The step of the segment probe that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShmStep {
    /// `shmget(key, 0, 0)`: find the segment without creating it.
    Shmget,
    /// `shmat(id, NULL, SHM_RDONLY)`: map it.
    Shmat,
}

impl ShmStep {
    /// The call's name.
    pub fn call(self) -> &'static str {
        match self {
            ShmStep::Shmget => "shmget",
            ShmStep::Shmat => "shmat",
        }
    }
}

/// What the attempt to reach a server's shared-memory segment returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShmOutcome {
    /// `shmat` succeeded: the segment is visible from this IPC namespace.
    Attached {
        /// The segment id `shmget` returned.
        shmid: i32,
    },
    /// `ftok` failed (ENOENT: the announced path does not exist in this
    /// client's filesystem, typical of a server in a container or VM that
    /// named a path of its own root).
    FtokFailed {
        /// The errno `ftok` (its `stat`) left.
        errno: i32,
    },
    /// `shmget` failed with ENOENT: no segment has this key in this client's
    /// IPC namespace.
    NoSuchKey,
    /// `shmget` or `shmat` failed with EACCES: the segment exists but its
    /// permissions refuse this user.
    PermissionDenied {
        /// The step that refused.
        step: ShmStep,
    },
    /// Any other failure of `shmget` or `shmat`.
    Failed {
        /// The step that failed.
        step: ShmStep,
        /// Its errno.
        errno: i32,
    },
    /// The info file was refused, so nothing was tried.
    NotTried,
}

impl ShmOutcome {
    /// The outcome of `step` failing with `errno`.
    pub fn of_failure(step: ShmStep, errno: i32) -> ShmOutcome {
        match (step, errno) {
            (ShmStep::Shmget, libc::ENOENT) => ShmOutcome::NoSuchKey,
            (_, libc::EACCES) => ShmOutcome::PermissionDenied { step },
            _ => ShmOutcome::Failed { step, errno },
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
            ShmOutcome::FtokFailed { errno } if *errno == libc::ENOENT => "ftok_enoent",
            ShmOutcome::FtokFailed { .. } => "ftok_failed",
            ShmOutcome::NoSuchKey => "no_such_key",
            ShmOutcome::PermissionDenied { .. } => "eacces",
            ShmOutcome::Failed { .. } => "failed",
            ShmOutcome::NotTried => "not_tried",
        }
    }

    /// The failed call and its errno, when a call failed.
    pub fn failure(&self) -> Option<(&'static str, i32)> {
        match *self {
            ShmOutcome::Attached { .. } | ShmOutcome::NotTried => None,
            ShmOutcome::FtokFailed { errno } => Some(("ftok", errno)),
            ShmOutcome::NoSuchKey => Some(("shmget", libc::ENOENT)),
            ShmOutcome::PermissionDenied { step } => Some((step.call(), libc::EACCES)),
            ShmOutcome::Failed { step, errno } => Some((step.call(), errno)),
        }
    }
}

/// What the attempt to connect to a server's socket returned. "Reached"
/// means the TCP handshake completed; what the server does afterwards
/// (reset, silence) is a `ReadEnd` and never changes this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOutcome {
    /// The handshake completed with this address.
    Connected {
        /// The address that answered (one of a host name's addresses).
        addr: SocketAddr,
    },
    /// ECONNREFUSED: the address answered, but nothing listens on that port
    /// as seen from here.
    Refused,
    /// ENETUNREACH or EHOSTUNREACH: this machine has no route to the address.
    Unreachable {
        /// Which of the two.
        errno: i32,
    },
    /// No answer before the client run's one deadline (the packets went
    /// nowhere, or the listener's queue was full). No errno: nothing failed.
    DeadlinePassed {
        /// The deadline the whole run shared.
        after: Duration,
    },
    /// The announced host name could not be resolved.
    NameNotResolved {
        /// The resolver's reason (or that the deadline passed first).
        reason: String,
    },
    /// `connect` failed with another errno (or the `poll` waiting for it
    /// failed, e.g. ENOMEM).
    ConnectFailed {
        /// Its errno.
        errno: i32,
    },
    /// `socket()` failed: a shortage of this client (EMFILE, ENOBUFS...), not
    /// a fact about the server. The run reports it as its own system error.
    SocketFailed {
        /// Its errno.
        errno: i32,
    },
    /// The info file was refused, so nothing was tried.
    NotTried,
}

impl SocketOutcome {
    /// The outcome of a connect that failed with `errno`.
    pub fn of_connect_errno(errno: i32) -> SocketOutcome {
        match errno {
            libc::ECONNREFUSED => SocketOutcome::Refused,
            libc::ENETUNREACH | libc::EHOSTUNREACH => SocketOutcome::Unreachable { errno },
            _ => SocketOutcome::ConnectFailed { errno },
        }
    }

    /// True when the handshake completed.
    pub fn reached(&self) -> bool {
        matches!(self, SocketOutcome::Connected { .. })
    }

    /// A stable machine-readable name (used by `--json`).
    pub fn code(&self) -> &'static str {
        match self {
            SocketOutcome::Connected { .. } => "connected",
            SocketOutcome::Refused => "refused",
            SocketOutcome::Unreachable { .. } => "unreachable",
            SocketOutcome::DeadlinePassed { .. } => "timed_out",
            SocketOutcome::NameNotResolved { .. } => "name_not_resolved",
            SocketOutcome::ConnectFailed { .. } => "failed",
            SocketOutcome::SocketFailed { .. } => "socket_failed",
            SocketOutcome::NotTried => "not_tried",
        }
    }

    /// The failed call and its errno, when a call failed with one.
    pub fn failure(&self) -> Option<(&'static str, i32)> {
        match *self {
            SocketOutcome::Refused => Some(("connect", libc::ECONNREFUSED)),
            SocketOutcome::Unreachable { errno } | SocketOutcome::ConnectFailed { errno } => {
                Some(("connect", errno))
            }
            SocketOutcome::SocketFailed { errno } => Some(("socket", errno)),
            _ => None,
        }
    }
}

/// How the read of a connected socket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The server closed its side (end of stream).
    Eof,
    /// Data had arrived, then the connection stayed quiet for
    /// `client::QUIET_PERIOD`: the message is complete.
    Quiet,
    /// The connection was reset or failed after the handshake (the errno of
    /// `recv`); what arrived before counts.
    Failed {
        /// The errno `recv` (or `poll`'s POLLNVAL: EBADF) gave.
        errno: i32,
    },
    /// Nothing arrived before the deadline.
    Silent,
}

/// What one connected socket sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketRead {
    /// The message: the bytes up to the first NUL, at most
    /// `net::MAX_SOCKET_MESSAGE`, trailing whitespace removed. `None` when
    /// nothing at all arrived before the deadline.
    pub message: Option<Vec<u8>>,
    /// How the read ended.
    pub end: ReadEnd,
    /// Bytes received in all, including the ones drained and discarded past
    /// the cap.
    pub received: u64,
}
