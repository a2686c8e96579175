//! The client's C functions (declared in `client.h`).

use super::error::{isoprobe_error, isoprobe_status};
use super::panic::{boundary, c_str, deref, print_c, Failure};
use super::string::IsoprobeString;
use super::types::live_server_info;
use crate::client::{self, Environment, Messages, Summary};
use crate::error::Error;
use libc::{c_char, c_uint, c_void};
use std::os::fd::IntoRawFd;
use std::time::Duration;

/// Default bound on connecting to all servers together: 5 s, as the course asks.
pub const ISOPROBE_CONNECT_TIMEOUT_MS: c_uint = 5_000;
/// Default bound on reading the socket messages (all servers together).
pub const ISOPROBE_READ_TIMEOUT_MS: c_uint = 5_000;
/// Longest socket message the client reads; a buffer of this plus one byte
/// always suffices for `isoprobe_client_get_message_from_socket`.
pub const ISOPROBE_MAX_SOCKET_MESSAGE: usize = 65536;
static_assertions::const_assert_eq!(ISOPROBE_MAX_SOCKET_MESSAGE, crate::net::MAX_SOCKET_MESSAGE);

const OK: isoprobe_status = isoprobe_status::ISOPROBE_OK;

#[allow(non_camel_case_types)]
/// Receives each server `isoprobe_client_count_servers` finds, in order. The
/// record is only valid during the call: copy it.
pub type isoprobe_server_callback =
    Option<unsafe extern "C" fn(context: *mut c_void, server: *const live_server_info)>;

/// Reads every info file in `directory` (regular files, dot-files skipped,
/// sorted by name), attaches each server's segment (never creating one), then
/// connects to all servers at once, all within `timeout_ms` together (use
/// ISOPROBE_CONNECT_TIMEOUT_MS). Calls `on_server(context, &info)` once per
/// file: `client_fd` and `shmid` are -1 for channels not reached. Sockets and
/// attachments stay open until `isoprobe_client_disconnect`. A malformed info
/// file gets one warning line on stderr and counts as unreachable.
/// `*count` (if not NULL) receives the number of servers found.
#[no_mangle]
pub extern "C" fn isoprobe_client_count_servers(
    directory: *const c_char,
    timeout_ms: c_uint,
    on_server: isoprobe_server_callback,
    context: *mut c_void,
    count: *mut usize,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let dir = c_str(directory, "directory")?;
        let on_server = on_server.ok_or(Failure::Null("on_server"))?;
        let probes = client::probe_dir(dir, Duration::from_millis(timeout_ms.into()))?;
        let found = probes.len();
        for probe in probes {
            if let Some(line) = client::warning_for(&probe) {
                print_c(true, &format!("{line}\n"));
            }
            let mut info = live_server_info::empty();
            match IsoprobeString::from_str("info_file_path", &probe.path) {
                Ok(path) => {
                    info.info_file_path = path;
                    info.client_fd = probe.socket.map_or(-1, IntoRawFd::into_raw_fd);
                    info.shmid = probe.shm.map_or(-1, |a| a.leak());
                }
                Err(e) => print_c(
                    true,
                    &format!("isoprobe: warning: {e}; counted as unreachable\n"),
                ),
            }
            // SAFETY: the caller's callback, given its own context and a valid record.
            unsafe { on_server(context, &info) };
        }
        if !count.is_null() {
            // SAFETY: non-NULL `count` is writable (C contract).
            unsafe { count.write(found) };
        }
        Ok(OK)
    })
}

fn servers_slice<'a>(
    servers: *const live_server_info,
    n: usize,
) -> Result<&'a [live_server_info], Failure> {
    if n == 0 {
        return Ok(&[]);
    }
    if servers.is_null() {
        return Err(Failure::Null("servers"));
    }
    // SAFETY: C passes `n` valid records.
    Ok(unsafe { std::slice::from_raw_parts(servers, n) })
}

/// Reads every reached channel of the `n` servers (socket messages all
/// together, at most ISOPROBE_READ_TIMEOUT_MS), classifies each server (both
/// channels: Host; one: Container; none: VM) and prints on stdout exactly:
/// `Total Servers: N\nHost: H\nContainer: C\nVM: V\nMessages: m1 m2 ...\n`.
#[no_mangle]
pub extern "C" fn isoprobe_client_print_server_infos(
    servers: *const live_server_info,
    n: usize,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let servers = servers_slice(servers, n)?;
        let fds: Vec<_> = servers
            .iter()
            .filter(|s| s.client_fd >= 0)
            .map(|s| s.client_fd)
            .collect();
        let read_timeout = Duration::from_millis(ISOPROBE_READ_TIMEOUT_MS.into());
        let mut socket_msgs = crate::net::read_messages(&fds, read_timeout).into_iter();
        // Through the attachments count_servers left, all found at once.
        let shmids: Vec<_> = servers
            .iter()
            .filter(|s| s.shmid >= 0)
            .map(|s| s.shmid)
            .collect();
        let mut shm_msgs = crate::shm::read_messages_by_id(&shmids).into_iter();
        let mut envs = Vec::with_capacity(servers.len());
        let mut msgs = Vec::with_capacity(servers.len());
        for s in servers {
            envs.push(Environment::classify(s.shmid >= 0, s.client_fd >= 0));
            msgs.push(Messages {
                shm: (s.shmid >= 0)
                    .then(|| shm_msgs.next().and_then(|r| r.ok()))
                    .flatten(),
                socket: (s.client_fd >= 0)
                    .then(|| socket_msgs.next().and_then(|r| r.ok()))
                    .flatten(),
            });
        }
        print_c(false, &Summary::new(&envs, &msgs).to_string());
        Ok(OK)
    })
}

fn copy_out(msg: &str, buf: *mut c_char, capacity: usize) -> Result<(), Failure> {
    if buf.is_null() {
        return Err(Failure::Null("buf"));
    }
    if msg.len() >= capacity {
        return Err(Error::invalid(format!(
            "message is {} bytes; buffer holds {capacity} with the NUL",
            msg.len()
        ))
        .into());
    }
    // SAFETY: buf has `capacity` writable bytes (C contract), msg.len() < capacity.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr().cast(), buf, msg.len());
        *buf.add(msg.len()) = 0;
    }
    Ok(())
}

/// Reads the server's socket message (up to end-of-stream or a NUL, at most
/// ISOPROBE_MAX_SOCKET_MESSAGE bytes, trailing whitespace stripped) into
/// `buf` (NUL-terminated). ISOPROBE_ERROR_TIMEOUT when nothing came within
/// `timeout_ms`.
#[no_mangle]
pub extern "C" fn isoprobe_client_get_message_from_socket(
    server: *const live_server_info,
    buf: *mut c_char,
    capacity: usize,
    timeout_ms: c_uint,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let info = deref(server, "server")?;
        if info.client_fd < 0 {
            return Err(
                Error::invalid("server's socket is not connected (client_fd is -1)").into(),
            );
        }
        if !super::server::is_socket(info.client_fd, Some(false)) {
            return Err(Error::invalid(format!(
                "client_fd {} is not a connected socket (live_server_info uninitialised?)",
                info.client_fd
            ))
            .into());
        }
        let result =
            crate::net::read_messages(&[info.client_fd], Duration::from_millis(timeout_ms.into()))
                .pop()
                .expect("one result per fd");
        match result {
            Ok(msg) => copy_out(&msg, buf, capacity).map(|_| OK),
            Err(e) if e.errno() == libc::ETIMEDOUT => Err(Failure::Timeout(format!(
                "no message within {timeout_ms} ms"
            ))),
            Err(e) => Err(e.into()),
        }
    })
}

/// Reads the NUL-terminated message at the start of the server's segment
/// (bounded by SHARED_MEMORY_SIZE) into `buf` (NUL-terminated).
#[no_mangle]
pub extern "C" fn isoprobe_client_get_message_from_shm(
    server: *const live_server_info,
    buf: *mut c_char,
    capacity: usize,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let info = deref(server, "server")?;
        if info.shmid < 0 {
            return Err(Error::invalid("server's segment is not attached (shmid is -1)").into());
        }
        let msg = crate::shm::read_message_by_id(info.shmid)?;
        copy_out(&msg, buf, capacity)?;
        Ok(OK)
    })
}

/// Closes every server's socket and detaches its segment (never removes it),
/// then sets `client_fd` and `shmid` to -1: calling it again is a no-op.
#[no_mangle]
pub extern "C" fn isoprobe_client_disconnect(
    servers: *mut live_server_info,
    n: usize,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        if n > 0 && servers.is_null() {
            return Err(Failure::Null("servers"));
        }
        let servers: &mut [live_server_info] = if n == 0 {
            &mut []
        } else {
            // SAFETY: C passes `n` valid, writable records.
            unsafe { std::slice::from_raw_parts_mut(servers, n) }
        };
        let shmids: Vec<_> = servers.iter().map(|s| s.shmid).collect();
        let mut first_error = crate::shm::detach_leaked(&shmids).err();
        for s in servers.iter_mut() {
            if s.client_fd >= 0 && super::server::is_socket(s.client_fd, None) {
                if let Err(e) = crate::fd::close_raw(s.client_fd) {
                    first_error.get_or_insert(e);
                }
            }
            s.client_fd = -1;
            s.shmid = -1;
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(OK),
        }
    })
}

/// The course's client `run`: find and probe the servers in `directory`,
/// print the summary on stdout (format of `isoprobe_client_print_server_infos`),
/// disconnect.
#[no_mangle]
pub extern "C" fn isoprobe_client_run(
    directory: *const c_char,
    err: *mut isoprobe_error,
) -> isoprobe_status {
    boundary(err, || {
        let dir = c_str(directory, "directory")?;
        let mut warnings = Vec::new();
        let summary = client::run(dir, &mut warnings);
        print_c(true, &String::from_utf8_lossy(&warnings));
        print_c(false, &summary?.to_string());
        Ok(OK)
    })
}
