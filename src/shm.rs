//! System V shared memory (TLPI ch. 48): the server's `Segment` (removed on
//! drop) and the client's `Attachment` (detached on drop). Failing to find or
//! attach a segment is an *outcome* for the client, not an error.

use crate::error::{check, Error, Result};
use std::ffi::CString;

/// Size of every server's segment, as in the course's `globals.h`.
pub const SHARED_MEMORY_SIZE: usize = 4096;

/// Validates a proj id for `ftok`, which uses only its low 8 bits.
pub fn validate_proj_id(proj_id: i32) -> Result<()> {
    if proj_id & 0xff == 0 {
        return Err(Error::invalid(format!(
            "shm_proj_id {proj_id} is invalid: ftok uses only its low 8 bits, which must not be 0"
        )));
    }
    Ok(())
}

/// Converts a path (any bytes: it need not be UTF-8) for a C call, refusing
/// embedded NULs and empty paths.
pub fn c_path(what: &str, path: impl AsRef<std::ffi::OsStr>) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    let path = path.as_ref().as_bytes();
    if path.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    CString::new(path).map_err(|_| Error::invalid(format!("{what} contains a NUL byte")))
}

/// `ftok(path, proj_id)`.
pub fn key_for(path: impl AsRef<std::ffi::OsStr>, proj_id: i32) -> Result<libc::key_t> {
    validate_proj_id(proj_id)?;
    let cpath = c_path("shm_pathname", path)?;
    // SAFETY: cpath is a valid NUL-terminated string.
    let key = unsafe { libc::ftok(cpath.as_ptr(), proj_id) };
    if key == -1 {
        return Err(Error::last("ftok"));
    }
    Ok(key)
}

/// A segment this process created; `IPC_RMID` on drop.
#[derive(Debug)]
pub struct Segment {
    id: i32,
}

impl Segment {
    /// Creates a fresh segment of `SHARED_MEMORY_SIZE` bytes for `key`.
    ///
    /// `IPC_EXCL`: a segment left over under the same key (another live
    /// server, or a leak) is reported as `EEXIST` instead of being shared.
    pub fn create(key: libc::key_t) -> Result<Segment> {
        // SAFETY: plain syscall, no pointers.
        let id = unsafe {
            libc::shmget(
                key,
                SHARED_MEMORY_SIZE,
                libc::IPC_CREAT | libc::IPC_EXCL | 0o666,
            )
        };
        let id = check("shmget", id)?;
        Ok(Segment { id })
    }

    /// `create`, and when `key` is taken by a dead server's segment (see
    /// `reclaim_stale`), removes that one (saying so in one stderr line) and
    /// creates again. Anything else under the key stays an `EEXIST` error.
    pub fn create_reclaiming(key: libc::key_t) -> Result<Segment> {
        match Segment::create(key) {
            Err(e) if e.errno() == libc::EEXIST && key != libc::IPC_PRIVATE => {
                match reclaim_stale(key) {
                    Some(note) => {
                        eprintln!("{note}");
                        Segment::create(key)
                    }
                    None => Err(e),
                }
            }
            other => other,
        }
    }

    /// The segment id (`shmid`).
    pub fn id(&self) -> i32 {
        self.id
    }

    /// Gives up ownership: the caller must remove the segment (see `remove_id`).
    pub fn into_raw(self) -> i32 {
        let id = self.id;
        std::mem::forget(self);
        id
    }

    /// Removes the segment now, reporting failure.
    pub fn remove(self) -> Result<()> {
        remove_id(self.into_raw())
    }

    /// Writes `msg` NUL-terminated at the start of the segment.
    pub fn write_message(&self, msg: &[u8]) -> Result<()> {
        write_message(self.id, msg)
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        let _ = remove_id(self.id);
    }
}

/// Removes the segment under `key` when it is a dead server's: nothing is
/// attached (`shm_nattch` 0; a live server holds an attachment in every
/// process that has it) and its creator (`shm_cpid`) no longer exists.
/// Returns the line that says what was reclaimed; `None` (nothing touched)
/// for anything else, including a creator this PID namespace cannot see.
pub fn reclaim_stale(key: libc::key_t) -> Option<String> {
    // SAFETY: plain syscall; no IPC_CREAT, so nothing is created.
    let id = unsafe { libc::shmget(key, 0, 0) };
    if id < 0 {
        return None;
    }
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: ds is a valid out-buffer for IPC_STAT.
    if unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) } != 0 {
        return None;
    }
    let creator = ds.shm_cpid;
    // SAFETY: signal 0 only checks that the process exists.
    let dead = creator > 0
        && unsafe { libc::kill(creator, 0) } == -1
        && crate::error::errno() == libc::ESRCH;
    if ds.shm_nattch != 0 || !dead {
        return None;
    }
    remove_id(id).ok()?;
    Some(format!(
        "isoprobe: reclaimed stale segment {id} (key {key:#010x}): its creator pid {creator} is dead and nothing is attached"
    ))
}

/// `shmctl(id, IPC_RMID)`; `-1` is a no-op.
pub fn remove_id(id: i32) -> Result<()> {
    if id < 0 {
        return Ok(());
    }
    // SAFETY: IPC_RMID takes no buffer.
    check("shmctl(IPC_RMID)", unsafe {
        libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut())
    })?;
    Ok(())
}

/// Writes `msg` NUL-terminated into segment `id` through a short attachment.
pub fn write_message(id: i32, msg: &[u8]) -> Result<()> {
    if msg.contains(&0) {
        return Err(Error::invalid("shm message contains a NUL byte"));
    }
    let mut att = Attachment::attach(id, false)?;
    let room = att.len();
    if msg.len() >= room {
        return Err(Error::invalid(format!(
            "shm message is {} bytes; the segment holds at most {} plus the terminating NUL",
            msg.len(),
            room - 1
        )));
    }
    let buf = att.bytes_mut();
    buf[..msg.len()].copy_from_slice(msg);
    buf[msg.len()] = 0;
    Ok(())
}

/// Reads the NUL-terminated message in segment `id` through a short
/// attachment (Linux allows attaching a segment already marked for removal
/// while others are still attached).
pub fn read_message_by_id(id: i32) -> Result<String> {
    Ok(Attachment::attach(id, true)?.read_message())
}

/// One `shmat()` of a segment; `shmdt()` on drop.
#[derive(Debug)]
pub struct Attachment {
    addr: *mut u8,
    len: usize,
    shmid: i32,
}

// SAFETY: the mapping is process-wide; the raw pointer is only a handle, and
// reads go through `read_volatile`-free copies of bytes another process may
// change (the course protocol writes before the client reads).
unsafe impl Send for Attachment {}
unsafe impl Sync for Attachment {}

/// Bytes of an attachment that are always safe to touch, whatever the
/// segment's size: `shmat` maps whole pages and a segment has at least one
/// byte, so the first page is always mapped (bytes past the segment's size
/// read as zero). This bound needs no `shmctl(IPC_STAT)` per attach.
fn readable_len() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    SHARED_MEMORY_SIZE.min(usize::try_from(page).unwrap_or(SHARED_MEMORY_SIZE))
}

impl Attachment {
    /// Attaches segment `shmid` (read-only when `readonly`).
    pub fn attach(shmid: i32, readonly: bool) -> Result<Attachment> {
        if shmid < 0 {
            return Err(Error::invalid(format!("shmid {shmid} is not a segment id")));
        }
        let flags = if readonly { libc::SHM_RDONLY } else { 0 };
        // SAFETY: the kernel chooses the address; failure is (void*)-1.
        let addr = unsafe { libc::shmat(shmid, std::ptr::null(), flags) };
        if addr as isize == -1 {
            return Err(Error::last("shmat"));
        }
        Ok(Attachment {
            addr: addr.cast(),
            len: readable_len(),
            shmid,
        })
    }

    /// The attached segment's id.
    pub fn shmid(&self) -> i32 {
        self.shmid
    }

    /// Bytes readable through this attachment (`SHARED_MEMORY_SIZE`, bounded
    /// by the page size).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length segment.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` is at most one page, and shmat mapped at least one
        // whole page (see `readable_len`); the mapping lives until drop.
        unsafe { std::slice::from_raw_parts(self.addr, self.len) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; only called on read-write attachments.
        unsafe { std::slice::from_raw_parts_mut(self.addr, self.len) }
    }

    /// The NUL-terminated string at the start, bounded by the segment size;
    /// invalid UTF-8 is replaced, not trusted.
    pub fn read_message(&self) -> String {
        message_in(self.bytes())
    }

    /// The bytes before the first NUL, bounded by the segment size.
    pub fn message_bytes(&self) -> Vec<u8> {
        let bytes = self.bytes();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        bytes[..end].to_vec()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // SAFETY: addr came from a successful shmat and is detached once.
        unsafe { libc::shmdt(self.addr.cast()) };
    }
}

/// What the client found when it looked for a server's segment: the key
/// (when `ftok` succeeded), the outcome, and the attachment when there is one.
#[derive(Debug)]
pub struct ShmProbe {
    /// `ftok(path, proj_id)`, when it succeeded.
    pub key: Option<libc::key_t>,
    /// What happened.
    pub outcome: crate::outcome::ShmOutcome,
    /// The read-only attachment, when the outcome is `Attached`.
    pub attachment: Option<Attachment>,
}

/// Looks for the segment `ftok(path, proj_id)` WITHOUT creating it, and
/// attaches it read-only. Any proj id is passed to glibc's `ftok` as is (it
/// uses the low 8 bits, 0 included), so the key is the one a foreign server
/// computed with the same arguments.
pub fn probe(path: &std::ffi::CStr, proj_id: i32) -> ShmProbe {
    use crate::outcome::{ShmOutcome, ShmStep};
    let failed = |key, outcome| ShmProbe {
        key,
        outcome,
        attachment: None,
    };
    // SAFETY: path is NUL-terminated.
    let key = unsafe { libc::ftok(path.as_ptr(), proj_id) };
    if key == -1 {
        let errno = crate::error::errno();
        return failed(None, ShmOutcome::FtokFailed { errno });
    }
    // SAFETY: plain syscall; no IPC_CREAT, so nothing is created.
    let id = unsafe { libc::shmget(key, 0, 0) };
    if id == -1 {
        let outcome = ShmOutcome::of_failure(ShmStep::Shmget, crate::error::errno());
        return failed(Some(key), outcome);
    }
    match Attachment::attach(id, true) {
        Ok(a) => ShmProbe {
            key: Some(key),
            outcome: ShmOutcome::Attached { shmid: id },
            attachment: Some(a),
        },
        Err(e) => failed(Some(key), ShmOutcome::of_failure(ShmStep::Shmat, e.errno())),
    }
}

/// The NUL-terminated string at the start of `bytes` (all of it without a
/// NUL); invalid UTF-8 is replaced, not trusted.
fn message_in(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_segment() -> Segment {
        Segment::create(libc::IPC_PRIVATE).expect("shmget(IPC_PRIVATE)")
    }

    #[test]
    fn write_then_read_round_trips() {
        let seg = private_segment();
        seg.write_message(b"hello").unwrap();
        assert_eq!(read_message_by_id(seg.id()).unwrap(), "hello");
    }

    #[test]
    fn message_must_leave_room_for_nul() {
        let seg = private_segment();
        let max = vec![b'a'; SHARED_MEMORY_SIZE - 1];
        seg.write_message(&max).unwrap();
        assert_eq!(
            read_message_by_id(seg.id()).unwrap().len(),
            SHARED_MEMORY_SIZE - 1
        );
        let over = vec![b'a'; SHARED_MEMORY_SIZE];
        assert!(matches!(seg.write_message(&over), Err(Error::Invalid(_))));
    }

    #[test]
    fn small_foreign_segment_reads_to_its_end_without_stat() {
        // A segment smaller than SHARED_MEMORY_SIZE, filled with no NUL: the
        // message stops where the segment does (the rest of the page is zero).
        // SAFETY: plain syscall.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 100, libc::IPC_CREAT | 0o600) };
        assert!(id >= 0, "shmget: {}", Error::last("shmget"));
        let seg = Segment { id };
        {
            let mut rw = Attachment::attach(seg.id(), false).unwrap();
            rw.bytes_mut()[..100].fill(b'a');
        }
        assert_eq!(read_message_by_id(seg.id()).unwrap(), "a".repeat(100));
    }

    #[test]
    fn attachment_outlives_removal() {
        let seg = private_segment();
        seg.write_message(b"kept").unwrap();
        let att = Attachment::attach(seg.id(), true).unwrap();
        seg.remove().unwrap();
        assert_eq!(att.read_message(), "kept");
    }

    #[test]
    fn proj_id_with_zero_low_byte_is_refused() {
        assert!(key_for("/", 0).is_err());
        assert!(key_for("/", 256).is_err());
        assert!(key_for("/", 1).is_ok());
    }

    #[test]
    fn probe_outcomes_are_typed() {
        use crate::outcome::ShmOutcome;
        let p = probe(c"/nonexistent/isoprobe/path", 7);
        assert_eq!(
            p.outcome,
            ShmOutcome::FtokFailed {
                errno: libc::ENOENT
            }
        );
        assert!(p.key.is_none() && p.attachment.is_none());
        // A path that exists, with a proj id whose key has no segment here.
        let dir = crate::testutil::TempDir::new();
        let path = std::ffi::CString::new(dir.path()).unwrap();
        let p = probe(&path, 0x5a);
        assert_eq!(p.outcome, ShmOutcome::NoSuchKey);
        assert!(p.key.is_some());
    }

    #[test]
    fn probe_uses_glibc_ftok_for_every_proj_id() {
        let dir = crate::testutil::TempDir::new();
        let path = std::ffi::CString::new(dir.path()).unwrap();
        for proj in [0, 256, -256, 1, 257] {
            // SAFETY: path is NUL-terminated.
            let want = unsafe { libc::ftok(path.as_ptr(), proj) };
            assert_eq!(probe(&path, proj).key, Some(want), "proj {proj}");
        }
        assert_eq!(probe(&path, 0).key, probe(&path, 256).key);
        assert_ne!(probe(&path, 1).key, probe(&path, 0).key);
    }

    #[test]
    fn probe_attaches_an_existing_segment() {
        let dir = crate::testutil::TempDir::new();
        let path = std::ffi::CString::new(dir.path()).unwrap();
        // SAFETY: path is NUL-terminated.
        let key = unsafe { libc::ftok(path.as_ptr(), 0) };
        let seg = Segment::create(key).unwrap();
        seg.write_message(b"zero").unwrap();
        let p = probe(&path, 0);
        assert_eq!(
            p.outcome,
            crate::outcome::ShmOutcome::Attached { shmid: seg.id() }
        );
        assert_eq!(p.attachment.unwrap().message_bytes(), b"zero");
    }
}
