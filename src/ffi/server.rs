//! The server's C functions (declared in `server.h`).

use super::args::{borrow_fd, c_bytes, deref, deref_mut, open_fd, take_fd};
use super::error::{isoprobe_error, isoprobe_status};
use super::panic::{boundary, Failure};
use super::string::IsoprobeString;
use super::types::{live_server_info, server_setup_information};
use crate::error::Error;
use crate::net::SocketRef;
use crate::server::{self, RunOutcome, Server, ServerParts, Timeouts};
use crate::{fd, shm};
use libc::{c_char, c_int, c_uint};
use std::net::{TcpListener, TcpStream};
use std::os::fd::IntoRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// Default of `isoprobe_server_get_connection`'s timeout: 120 s, as the course asks.
pub const ISOPROBE_ACCEPT_TIMEOUT_MS: c_uint = 120_000;
/// Default bound on waiting for the client to close after the message (10 s).
pub const ISOPROBE_PEER_CLOSE_TIMEOUT_MS: c_uint = 10_000;
/// Bound on one `isoprobe_server_write_to_socket` (5 s).
pub const ISOPROBE_SEND_TIMEOUT_MS: c_uint = 5_000;
static_assertions::const_assert_eq!(
    ISOPROBE_SEND_TIMEOUT_MS as u128,
    crate::net::SEND_TIMEOUT.as_millis()
);

const OK: isoprobe_status = isoprobe_status::ISOPROBE_OK;

fn ms(v: c_uint) -> Duration {
    Duration::from_millis(v.into())
}

/// Creates the shared-memory segment `ftok(shm_pathname, shm_proj_id)` and a
/// socket listening on this machine's IPv4 address at `port`, and fills every
/// field of `*server` (`client_fd` = -1, empty `info_file_path`). On failure
/// nothing is left behind and `*server` is untouched.
#[no_mangle]
pub extern "C" fn isoprobe_server_start_communication(
    setup: *const server_setup_information,
    server: *mut live_server_info,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let setup = deref(setup, "setup")?.to_setup()?;
        let out = deref_mut(server, "server")?;
        *out = live_server_info::from_parts(Server::start(&setup)?.into_parts())?;
        Ok(OK)
    })
}

/// Writes the info file `info_file_directory/info_file_name` atomically with
/// the server's address, port, shm path and proj id, and stores its path in
/// `server->info_file_path`. Called again, it replaces the server's previous
/// info file (which is removed).
#[no_mangle]
pub extern "C" fn isoprobe_server_create_info_file(
    setup: *const server_setup_information,
    server: *mut live_server_info,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let setup = deref(setup, "setup")?.to_setup()?;
        let info = deref_mut(server, "server")?;
        let raw = checked_handles(info)?;
        if raw.server_fd < 0 {
            return Err(Error::invalid(
                "server has no listening socket (call start_communication first)",
            )
            .into());
        }
        let listener = SocketRef::<TcpListener>::new(borrow_fd(raw.server_fd, "getsockname")?);
        let address = crate::net::local_addr(&listener)?;
        // The path fits: publish refused nothing longer than the C fields.
        let published = server::publish(&setup, address, raw.shmid)?;
        info.info_file_path =
            IsoprobeString::from_bytes("info_file_path", published.as_os_str().as_bytes())?;
        Ok(OK)
    })
}

/// Waits up to `timeout_ms` (use ISOPROBE_ACCEPT_TIMEOUT_MS for the course's
/// 120 s) for a client with `select()`, then `accept()`s it into
/// `server->client_fd`. Returns ISOPROBE_ERROR_TIMEOUT when nobody came.
#[no_mangle]
pub extern "C" fn isoprobe_server_get_connection(
    server: *mut live_server_info,
    timeout_ms: c_uint,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let info = deref_mut(server, "server")?;
        let raw = checked_handles(info)?;
        if raw.server_fd < 0 {
            return Err(Error::invalid("server has no listening socket").into());
        }
        if raw.client_fd >= 0 {
            return Err(Error::invalid(format!(
                "server already has a client connection (client_fd {})",
                raw.client_fd
            ))
            .into());
        }
        crate::signals::claim(raw.shmid);
        let listener = borrow_fd(raw.server_fd, "accept")?;
        match crate::net::accept_within(listener, ms(timeout_ms))? {
            Some(conn) => {
                info.client_fd = conn.into_raw_fd();
                Ok(OK)
            }
            None => Err(Failure::Timeout(format!(
                "no client connected within {timeout_ms} ms"
            ))),
        }
    })
}

/// Sends the NUL-terminated `msg` to the connected client (all of it, no
/// SIGPIPE) within ISOPROBE_SEND_TIMEOUT_MS: a client that does not take it
/// in time fails the call with ISOPROBE_ERROR_TIMEOUT (`call` "send", no
/// errno: every system call succeeded). May be called any number of
/// times; `isoprobe_server_shutdown` half-closes and closes the connection.
#[no_mangle]
pub extern "C" fn isoprobe_server_write_to_socket(
    server: *const live_server_info,
    msg: *const c_char,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let info = checked_handles(deref(server, "server")?)?;
        let msg = c_bytes(msg, "msg")?;
        if info.client_fd < 0 {
            return Err(
                Error::invalid("no client is connected (call get_connection first)").into(),
            );
        }
        crate::signals::claim(info.shmid);
        let conn = borrow_fd(info.client_fd, "send")?;
        crate::net::send_all_within(conn, msg, crate::net::SEND_TIMEOUT)?;
        Ok(OK)
    })
}

/// Writes the NUL-terminated `msg` (at most SHARED_MEMORY_SIZE - 1 bytes)
/// into the server's segment, NUL-terminated.
#[no_mangle]
pub extern "C" fn isoprobe_server_write_to_shm(
    server: *const live_server_info,
    msg: *const c_char,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        // Checked: root may attach any segment, so a stale or uninitialised
        // record must not make this write into another process's segment.
        let info = checked_handles(deref(server, "server")?)?;
        let msg = c_bytes(msg, "msg")?;
        if info.shmid < 0 {
            return Err(
                Error::invalid("server has no segment (call start_communication first)").into(),
            );
        }
        crate::signals::claim(info.shmid);
        crate::shm::write_message(info.shmid, msg)?;
        Ok(OK)
    })
}

/// Closes both sockets, removes the segment and unlinks the info file, then
/// resets `*server` to -1 / empty: calling it again is a no-op. Handles that
/// do not look like this server's (an uninitialised struct) are refused before
/// anything is touched.
#[no_mangle]
pub extern "C" fn isoprobe_server_shutdown(
    server: *mut live_server_info,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let info = deref_mut(server, "server")?;
        let raw = checked_handles(info)?;
        *info = live_server_info::empty();
        raw.into_parts().shutdown()?;
        Ok(OK)
    })
}

/// The course's `run` with its timeouts: set up, publish the info file, write
/// `shm_msg`, wait up to 120 s for a client, send `socket_msg`, wait for the
/// client to close (at most 10 s), shut down. Everything is freed on every path.
#[no_mangle]
pub extern "C" fn isoprobe_server_run(
    setup: *const server_setup_information,
    shm_msg: *const c_char,
    socket_msg: *const c_char,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    isoprobe_server_run_with_timeouts(
        setup,
        shm_msg,
        socket_msg,
        ISOPROBE_ACCEPT_TIMEOUT_MS,
        ISOPROBE_PEER_CLOSE_TIMEOUT_MS,
        err,
    )
}

/// `isoprobe_server_run` with explicit timeouts. Returns ISOPROBE_OK also when
/// no client came (the course skips the send then).
#[no_mangle]
pub extern "C" fn isoprobe_server_run_with_timeouts(
    setup: *const server_setup_information,
    shm_msg: *const c_char,
    socket_msg: *const c_char,
    accept_timeout_ms: c_uint,
    peer_close_timeout_ms: c_uint,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let setup = deref(setup, "setup")?.to_setup()?;
        let shm_msg = c_bytes(shm_msg, "shm_msg")?;
        let socket_msg = c_bytes(socket_msg, "socket_msg")?;
        let timeouts = Timeouts {
            accept: ms(accept_timeout_ms),
            peer_close: ms(peer_close_timeout_ms),
        };
        let _: RunOutcome = server::run(&setup, shm_msg, socket_msg, timeouts)?;
        Ok(OK)
    })
}

/// The handles of a `live_server_info` as C holds them, checked by
/// `checked_handles`: a descriptor number nothing is open under is -1 here.
struct Handles {
    server_fd: c_int,
    client_fd: c_int,
    shmid: i32,
    info_file_path: PathBuf,
}

impl Handles {
    /// Takes the handles over from C, whose record the caller resets: the
    /// open descriptors become owned sockets.
    fn into_parts(self) -> ServerParts {
        ServerParts {
            listener: take_fd(self.server_fd).map(TcpListener::from),
            connection: take_fd(self.client_fd).map(TcpStream::from),
            shmid: self.shmid,
            info_file_path: self.info_file_path,
        }
    }
}

/// Reads the handles of `*info`, refusing ones that cannot be this server's:
/// a `server_fd` that is not a listening socket, a `client_fd` that is not a
/// socket, a `shmid` not created by this process, an unterminated path.
fn checked_handles(info: &live_server_info) -> Result<Handles, Failure> {
    let invalid = |what: String| {
        Failure::Core(Error::invalid(format!(
            "{what} (live_server_info uninitialised or not from start_communication?)"
        )))
    };
    if open_fd(info.server_fd).is_some_and(|fd| !fd::is_socket(fd, Some(true))) {
        return Err(invalid(format!(
            "server_fd {} is not a listening socket",
            info.server_fd
        )));
    }
    if open_fd(info.client_fd).is_some_and(|fd| !fd::is_socket(fd, Some(false))) {
        return Err(invalid(format!(
            "client_fd {} is not a connected socket",
            info.client_fd
        )));
    }
    // A live segment must be one this process holds as a server: created
    // here, or inherited by fork from the process that created it.
    if info.shmid >= 0
        && shm::segment_exists(info.shmid)
        && !crate::signals::is_registered(info.shmid)
    {
        return Err(invalid(format!(
            "shmid {} is not a server segment of this process (or of the process it was forked from)",
            info.shmid
        )));
    }
    if info.server_fd < -1 || info.client_fd < -1 || info.shmid < -1 {
        return Err(invalid("negative handle other than -1".into()));
    }
    let path = PathBuf::from(info.info_file_path.to_os_str("info_file_path")?);
    // A descriptor closed behind the library's back is nothing to close (and
    // must not be: its number may be reused by the time shutdown runs). A
    // segment removed behind its back (ipcrm) stays: removing it again is
    // harmless, and shutdown takes "already gone" as done.
    let open_or_none = |fd: c_int| if open_fd(fd).is_some() { fd } else { -1 };
    Ok(Handles {
        server_fd: open_or_none(info.server_fd),
        client_fd: open_or_none(info.client_fd),
        shmid: info.shmid,
        info_file_path: path,
    })
}
