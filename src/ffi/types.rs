//! The two structs of the course interface, with its exact field names and
//! order, and the course's constants. Layouts are pinned here and by
//! `static_assert` in the C and C++ tests.

#![allow(non_camel_case_types)]

use super::string::{IsoprobeString, ISOPROBE_STRING_CAPACITY};
use crate::error::Result;
use crate::server::{ServerParts, Setup};
use libc::{c_int, c_ushort};
use static_assertions::{assert_eq_size, const_assert_eq};
use std::mem::{align_of, offset_of, size_of};
use std::os::fd::IntoRawFd;
use std::os::unix::ffi::OsStrExt;

/// Size in bytes of every server's shared-memory segment.
pub const SHARED_MEMORY_SIZE: usize = 4096;
/// Longest host name the course headers allowed for.
pub const MAXHOSTNAME: usize = 512;

/// A live server, as the server and the client each see it.
///
/// Server side: `server_fd` is the listening socket, `client_fd` the accepted
/// connection (-1 before `get_connection`), `shmid` the created segment.
/// Client side: `client_fd` is the connected socket and `shmid` the attached
/// segment, each -1 when that channel could not be reached; `server_fd` is -1.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct live_server_info {
    /// The server's listening socket (server side), or -1.
    pub server_fd: c_int,
    /// The connection between client and server, or -1.
    pub client_fd: c_int,
    /// The shared-memory segment id, or -1.
    pub shmid: c_int,
    /// Path of the server's info file.
    pub info_file_path: IsoprobeString,
}

/// What a server is asked to set up.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct server_setup_information {
    /// TCP port to listen on (0: any free port).
    pub port: c_ushort,
    /// Existing path given to `ftok` to name the segment.
    pub shm_pathname: IsoprobeString,
    /// `ftok` project id; its low 8 bits must not be 0.
    pub shm_proj_id: c_int,
    /// Name of the info file (a plain name, not starting with '.').
    pub info_file_name: IsoprobeString,
    /// Directory the info file is written to.
    pub info_file_directory: IsoprobeString,
}

const_assert_eq!(SHARED_MEMORY_SIZE, crate::shm::SHARED_MEMORY_SIZE);
const_assert_eq!(size_of::<IsoprobeString>(), ISOPROBE_STRING_CAPACITY);
const_assert_eq!(align_of::<IsoprobeString>(), 1);
const_assert_eq!(offset_of!(live_server_info, server_fd), 0);
const_assert_eq!(offset_of!(live_server_info, client_fd), 4);
const_assert_eq!(offset_of!(live_server_info, shmid), 8);
const_assert_eq!(offset_of!(live_server_info, info_file_path), 12);
assert_eq_size!(live_server_info, [u8; 12 + ISOPROBE_STRING_CAPACITY]);
const_assert_eq!(offset_of!(server_setup_information, port), 0);
const_assert_eq!(offset_of!(server_setup_information, shm_pathname), 2);
const_assert_eq!(
    offset_of!(server_setup_information, shm_proj_id),
    2 + ISOPROBE_STRING_CAPACITY + 2
);
const_assert_eq!(
    offset_of!(server_setup_information, info_file_name),
    2 + ISOPROBE_STRING_CAPACITY + 2 + 4
);
const_assert_eq!(
    offset_of!(server_setup_information, info_file_directory),
    2 + ISOPROBE_STRING_CAPACITY + 2 + 4 + ISOPROBE_STRING_CAPACITY
);
assert_eq_size!(
    server_setup_information,
    [u8; 2 + ISOPROBE_STRING_CAPACITY + 2 + 4 + 2 * ISOPROBE_STRING_CAPACITY]
);

impl live_server_info {
    /// A record with no resources: every handle -1, empty path.
    pub(crate) const fn empty() -> live_server_info {
        live_server_info {
            server_fd: -1,
            client_fd: -1,
            shmid: -1,
            info_file_path: IsoprobeString::empty(),
        }
    }

    /// The record C holds for `parts`, which C owns from now on. A path too
    /// long for the record frees the parts and fails.
    pub(crate) fn from_parts(parts: ServerParts) -> Result<live_server_info> {
        let path = IsoprobeString::from_bytes(
            "info_file_path",
            parts.info_file_path.as_os_str().as_bytes(),
        );
        let info_file_path = match path {
            Ok(path) => path,
            Err(e) => {
                // The path is the error to report; the cleanup's own
                // failure would only hide it.
                let _ = parts.shutdown();
                return Err(e);
            }
        };
        Ok(live_server_info {
            server_fd: parts.listener.map_or(-1, IntoRawFd::into_raw_fd),
            client_fd: parts.connection.map_or(-1, IntoRawFd::into_raw_fd),
            shmid: parts.shmid,
            info_file_path,
        })
    }
}

impl server_setup_information {
    // By reference: the struct is 12 KiB, and C hands us a pointer to it.
    #[allow(clippy::wrong_self_convention)]
    pub(crate) fn to_setup(&self) -> Result<Setup> {
        // Bytes as they are: a path or name the kernel accepts need not be UTF-8.
        Ok(Setup {
            port: self.port,
            shm_pathname: self.shm_pathname.to_os_str("shm_pathname")?.into(),
            shm_proj_id: self.shm_proj_id,
            info_file_name: self.info_file_name.to_os_str("info_file_name")?.into(),
            info_file_directory: self
                .info_file_directory
                .to_os_str("info_file_directory")?
                .into(),
        })
    }
}
