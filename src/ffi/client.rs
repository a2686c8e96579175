//! The client's C functions (declared in `client.h`).

use super::args::{deref, open_fd, take_fd};
use super::error::{isoprobe_error, isoprobe_status};
use super::held;
use super::panic::{boundary, Failure};
use super::stdio::print_bytes;
use super::string::{IsoprobeString, ISOPROBE_STRING_CAPACITY};
use super::types::live_server_info;
use crate::client::{self, Environment, Messages, Summary};
use crate::error::Error;
use crate::outcome::{ReadEnd, SocketRead};
use libc::{c_char, c_uint, c_void};
use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// Default deadline of `isoprobe_client_count_servers`: 5 s, as the course
/// asks, for every connect and every read of the connected servers together.
pub const ISOPROBE_CONNECT_TIMEOUT_MS: c_uint = 5_000;
/// Default bound on reading the socket messages that
/// `isoprobe_client_count_servers` did not already read (all together).
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

/// A path argument from C, as the bytes it is.
fn c_path<'a>(p: *const c_char, what: &'static str) -> Result<&'a Path, Failure> {
    if p.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-NULL C strings are NUL-terminated (C contract).
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Ok(Path::new(OsStr::from_bytes(bytes)))
}

/// `bytes` (no NUL: they come from a path) as an isoprobe_string.
fn string_of_bytes(what: &str, bytes: &[u8]) -> crate::error::Result<IsoprobeString> {
    if bytes.len() >= ISOPROBE_STRING_CAPACITY {
        return Err(Error::invalid(format!(
            "{what} is {} bytes; at most {} fit",
            bytes.len(),
            ISOPROBE_STRING_CAPACITY - 1
        )));
    }
    let mut out = IsoprobeString::empty();
    for (dst, &src) in out.data.iter_mut().zip(bytes) {
        *dst = src as c_char;
    }
    Ok(out)
}

/// Reads every info file in `directory` (regular files, dot-files skipped,
/// sorted by name), attaches each server's segment (never creating one), then
/// connects to all servers at once, all within the one deadline `timeout_ms`
/// (use ISOPROBE_CONNECT_TIMEOUT_MS), and meanwhile reads what the connected
/// servers send: a message that started to arrive is read to its end (a
/// message still arriving gets up to 250 ms more); a server that has sent
/// nothing when the last connect settled is read by
/// `isoprobe_client_print_server_infos`. Calls
/// `on_server(context, &info)` once per file: `client_fd` and `shmid` are -1
/// for channels not reached. Sockets and attachments stay open until
/// `isoprobe_client_disconnect`; the library keeps each attachment's address
/// and each socket's message. A malformed info file gets one warning line on
/// stderr and counts as a server no channel reached (VM).
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
        let dir = c_path(directory, "directory")?;
        let on_server = on_server.ok_or(Failure::Null("on_server"))?;
        let deadline = Duration::from_millis(timeout_ms.into());
        let probes = client::probe_dir(dir, deadline, crate::reach::Until::Connected)?;
        let found = probes.len();
        for mut probe in probes {
            if let Some(line) = client::warning_for(&probe) {
                print_bytes(true, &line);
            }
            let mut info = live_server_info::empty();
            let path = probe.path.as_os_str().as_bytes();
            match string_of_bytes("info_file_path", path) {
                Ok(path) => {
                    info.info_file_path = path;
                    let read = probe.read.take();
                    info.client_fd = probe
                        .stream
                        .take()
                        .map_or(-1, |s| held::hold_socket(s, read));
                    info.shmid = probe.attachment.take().map_or(-1, held::hold_attachment);
                }
                Err(e) => {
                    let mut line = format!("isoprobe: warning: {e}: ").into_bytes();
                    line.extend_from_slice(path);
                    line.extend_from_slice(b"; counted as VM\n");
                    print_bytes(true, &line);
                }
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

/// What each of `fds` sent: the read `count_servers` made when the number
/// is still its socket, else a fresh read (all together, within `timeout`).
fn socket_reads(fds: &[libc::c_int], timeout: Duration) -> Vec<SocketRead> {
    let mut reads: Vec<Option<SocketRead>> = fds.iter().map(|&fd| held::socket_read(fd)).collect();
    let mut unread: Vec<(usize, BorrowedFd<'_>)> = Vec::new();
    for (i, (read, &fd)) in reads.iter_mut().zip(fds).enumerate() {
        if read.is_some() {
            continue;
        }
        match open_fd(fd) {
            Some(open) => unread.push((i, open)),
            None => {
                *read = Some(SocketRead {
                    message: None,
                    end: ReadEnd::Failed { errno: libc::EBADF },
                    received: 0,
                })
            }
        }
    }
    let borrowed: Vec<BorrowedFd<'_>> = unread.iter().map(|&(_, fd)| fd).collect();
    for ((i, _), read) in unread
        .into_iter()
        .zip(crate::reach::read_all(&borrowed, timeout))
    {
        reads[i] = Some(read);
    }
    reads
        .into_iter()
        .map(|r| r.expect("every socket read"))
        .collect()
}

/// The message of segment `shmid`: through the library's attachment, else
/// through a short one.
fn shm_message(shmid: i32) -> crate::error::Result<Vec<u8>> {
    match held::shm_message(shmid) {
        Some(m) => Ok(m),
        None => Ok(crate::shm::Attachment::attach(shmid, true)?.message_bytes()),
    }
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
        let mut socket_reads = socket_reads(&fds, read_timeout).into_iter();
        let mut envs = Vec::with_capacity(servers.len());
        let mut msgs = Vec::with_capacity(servers.len());
        for s in servers {
            envs.push(Environment::classify(s.shmid >= 0, s.client_fd >= 0));
            let read = (s.client_fd >= 0).then(|| socket_reads.next().expect("one read per fd"));
            msgs.push(Messages {
                shm: (s.shmid >= 0).then(|| shm_message(s.shmid).ok()).flatten(),
                socket: read.as_ref().and_then(|r| r.message.clone()),
                socket_end: read.map(|r| r.end),
            });
        }
        print_bytes(false, &Summary::new(&envs, &msgs).to_bytes());
        Ok(OK)
    })
}

fn copy_out(msg: &[u8], buf: *mut c_char, capacity: usize) -> Result<(), Failure> {
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
        if !open_fd(info.client_fd).is_some_and(|fd| crate::fd::is_socket(fd, Some(false))) {
            return Err(Error::invalid(format!(
                "client_fd {} is not a connected socket (live_server_info uninitialised?)",
                info.client_fd
            ))
            .into());
        }
        let read = socket_reads(&[info.client_fd], Duration::from_millis(timeout_ms.into()))
            .pop()
            .expect("one result per fd");
        match (read.message, read.end) {
            (Some(msg), _) => copy_out(&msg, buf, capacity).map(|_| OK),
            (None, ReadEnd::Failed { errno }) => Err(Error::sys("recv", errno).into()),
            (None, _) => Err(Failure::Timeout(format!(
                "no message within {timeout_ms} ms"
            ))),
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
        copy_out(&shm_message(info.shmid)?, buf, capacity)?;
        Ok(OK)
    })
}

/// Closes every server's socket (first reading what it sent unread, so the
/// close does not reset the connection) and detaches the attachments
/// `isoprobe_client_count_servers` made for these records (the library
/// keeps their addresses; an attachment the program made itself to the
/// same segment is never touched), then sets `client_fd` and `shmid` to -1:
/// calling it again is a no-op. Never removes a segment.
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
        let mut first_error = None;
        for s in servers.iter_mut() {
            if s.shmid >= 0 {
                held::release_attachment(s.shmid);
            }
            let ours = s.client_fd >= 0 && held::release_socket(s.client_fd);
            let socket = open_fd(s.client_fd).is_some_and(|fd| crate::fd::is_socket(fd, None));
            // A number that is neither ours nor a socket is not taken (it
            // would be closed): the program may have reused it for a file.
            if let Some(fd) = (ours || socket).then(|| take_fd(s.client_fd)).flatten() {
                crate::reach::drain(fd.as_fd());
                if let Err(e) = crate::fd::close(fd) {
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
        let dir = c_path(directory, "directory")?;
        let mut warnings = Vec::new();
        let summary = client::run(dir, &mut warnings);
        print_bytes(true, &warnings);
        print_bytes(false, &summary?.to_bytes());
        Ok(OK)
    })
}
