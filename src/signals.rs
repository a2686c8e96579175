//! The live servers of this process: what each one created, which process
//! owns it, and their removal when the process is killed by a signal. The
//! only process-wide mutable state in the library.
//!
//! # Ownership
//!
//! A server (its segment and info file) has exactly one *owner* process at
//! any moment, and only the owner ever removes it:
//!
//! - the process that creates the server (`start_communication`) owns it;
//! - a process that uses it through the library (`create_info_file`,
//!   `write_to_shm`, `get_connection`, `write_to_socket`, `shutdown`) takes
//!   it over: after `fork`, the child that serves becomes the owner, and the
//!   parent no longer is;
//! - at a fatal signal, a process removes only the servers it owns at that
//!   moment; a process that merely inherited a server by `fork` (and never
//!   used it) removes nothing of it, and neither does a parent whose child
//!   took the server over.
//!
//! The owner's pid lives in a small `MAP_SHARED` anonymous page per server,
//! which `fork` shares instead of copying, so a takeover in the child is
//! seen by the parent. Every process that holds a server also holds one
//! attachment of its segment (inherited by `fork`, dropped by the kernel at
//! exit or exec): `shm_nattch` is then zero only when no process holding the
//! server is alive, which is what lets a restart reclaim a dead server's
//! segment (see `shm::reclaim_stale`).
//!
//! What is removed is checked to still be what this server made: the
//! segment only while its key and creator pid are the ones recorded at
//! creation, the info file only while the path still names the same device
//! and inode (a second server that replaced the file keeps it).
//!
//! Each slot is a set of atomics; the handler empties them with swaps
//! (async-signal-safe: no locks, no allocation, plain syscalls) and then
//! re-raises the signal with the default action. Whoever swaps a value out
//! owns it, so a shutdown in another thread and the handler never both
//! remove the same thing.

use crate::error::{check, Error, Result};
use crate::info_file::{unlink_if_same, FileId};
use std::ffi::{CStr, CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::sync::Once;

/// How many live servers one process can hold.
const SLOTS: usize = 8192;

struct Slot {
    in_use: AtomicBool,
    shmid: AtomicI32,
    key: AtomicI32,
    creator: AtomicI32,
    /// The shared page holding the owner's pid.
    owner: AtomicPtr<AtomicI32>,
    /// This process's attachment of the segment.
    attachment: AtomicPtr<libc::c_void>,
    /// The info file (absolute path) and its identity.
    path: AtomicPtr<libc::c_char>,
    dev: AtomicU64,
    ino: AtomicU64,
    /// The working directory when the server was created: a relative
    /// shm path is announced against it.
    cwd: AtomicPtr<libc::c_char>,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    in_use: AtomicBool::new(false),
    shmid: AtomicI32::new(-1),
    key: AtomicI32::new(0),
    creator: AtomicI32::new(0),
    owner: AtomicPtr::new(std::ptr::null_mut()),
    attachment: AtomicPtr::new(std::ptr::null_mut()),
    path: AtomicPtr::new(std::ptr::null_mut()),
    dev: AtomicU64::new(0),
    ino: AtomicU64::new(0),
    cwd: AtomicPtr::new(std::ptr::null_mut()),
};

static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];
static INSTALL: Once = Once::new();

fn my_pid() -> i32 {
    // SAFETY: getpid has no preconditions (and is async-signal-safe).
    unsafe { libc::getpid() }
}

fn find(shmid: i32) -> Option<&'static Slot> {
    if shmid < 0 {
        return None;
    }
    REGISTRY
        .iter()
        .find(|s| s.in_use.load(Ordering::Acquire) && s.shmid.load(Ordering::Acquire) == shmid)
}

/// A registered server; dropping it ends the registration (removing the
/// server only in the process that owns it).
#[derive(Debug)]
pub struct Registration {
    shmid: i32,
}

/// Registers the segment `shmid` (key `key`, just created by this process):
/// this process owns it, holds an attachment, and removes it at a fatal
/// signal. `cwd` is the working directory a relative shm path was given in.
pub fn register(shmid: i32, key: libc::key_t, cwd: Option<&Path>) -> Result<Registration> {
    INSTALL.call_once(install_handlers);
    let owner = owner_cell()?;
    // Read-only is enough: the attachment only marks this process as a
    // holder of the server (shm_nattch); writes use their own attachment.
    // SAFETY: the kernel chooses the address; failure is (void*)-1.
    let attachment = unsafe { libc::shmat(shmid, std::ptr::null(), libc::SHM_RDONLY) };
    if attachment as isize == -1 {
        let e = Error::last("shmat");
        free_owner_cell(owner);
        return Err(e);
    }
    let cwd = cwd.and_then(|c| CString::new(c.as_os_str().as_bytes()).ok());
    for slot in REGISTRY.iter() {
        if slot
            .in_use
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            slot.key.store(key, Ordering::Release);
            slot.creator.store(my_pid(), Ordering::Release);
            slot.owner.store(owner, Ordering::Release);
            slot.attachment.store(attachment, Ordering::Release);
            slot.cwd.store(
                cwd.map_or(std::ptr::null_mut(), CString::into_raw),
                Ordering::Release,
            );
            slot.shmid.store(shmid, Ordering::Release);
            return Ok(Registration { shmid });
        }
    }
    // SAFETY: the attachment made above, detached once.
    unsafe { libc::shmdt(attachment) };
    free_owner_cell(owner);
    Err(Error::invalid(format!(
        "this process already has {SLOTS} live servers"
    )))
}

impl Registration {
    /// The registered segment.
    pub fn shmid(&self) -> i32 {
        self.shmid
    }

    /// Gives the registration to C: `shutdown` (or `forget`) ends it.
    pub fn into_raw(self) -> i32 {
        let id = self.shmid;
        std::mem::forget(self);
        id
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Dropping is not using: only the owner removes anything.
        if is_owner(self.shmid) {
            let _ = shutdown(self.shmid);
        } else {
            forget(self.shmid);
        }
    }
}

/// A page shared across `fork` holding the owner's pid (this process's).
fn owner_cell() -> Result<*mut AtomicI32> {
    // SAFETY: anonymous shared mapping; checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            std::mem::size_of::<AtomicI32>(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(Error::last("mmap"));
    }
    let cell = p.cast::<AtomicI32>();
    // SAFETY: a fresh, page-aligned, writable mapping.
    unsafe { cell.write(AtomicI32::new(my_pid())) };
    Ok(cell)
}

fn free_owner_cell(cell: *mut AtomicI32) {
    if !cell.is_null() {
        // SAFETY: a mapping made by owner_cell, unmapped once (by whoever
        // swapped the pointer out of its slot).
        unsafe { libc::munmap(cell.cast(), std::mem::size_of::<AtomicI32>()) };
    }
}

/// True when this process is registered as holding segment `shmid` (it, or
/// the process it was forked from, created it through the library) and the
/// segment is still the one created then (or already gone).
pub fn is_registered(shmid: i32) -> bool {
    let Some(slot) = find(shmid) else {
        return false;
    };
    matches!(
        segment_matches(
            shmid,
            slot.key.load(Ordering::Acquire),
            slot.creator.load(Ordering::Acquire)
        ),
        Ok(true) | Err(_)
    )
}

/// Makes this process the owner of the server with segment `shmid` (it is
/// using it). No effect for a segment that is not registered here.
pub fn claim(shmid: i32) {
    if let Some(slot) = find(shmid) {
        let cell = slot.owner.load(Ordering::Acquire);
        if !cell.is_null() {
            // SAFETY: the cell stays mapped while the slot holds it.
            unsafe { &*cell }.store(my_pid(), Ordering::Release);
        }
    }
}

/// True when this process owns the server with segment `shmid`.
pub fn is_owner(shmid: i32) -> bool {
    find(shmid).is_some_and(|slot| owns(slot, my_pid()))
}

fn owns(slot: &Slot, pid: i32) -> bool {
    let cell = slot.owner.load(Ordering::Acquire);
    // SAFETY: the cell stays mapped while the slot holds it.
    !cell.is_null() && unsafe { &*cell }.load(Ordering::Acquire) == pid
}

/// The working directory recorded when the server was created.
pub fn creation_cwd(shmid: i32) -> Option<PathBuf> {
    let p = find(shmid)?.cwd.load(Ordering::Acquire);
    // SAFETY: set once at registration, freed only when the slot is freed.
    (!p.is_null()).then(|| path_of(unsafe { CStr::from_ptr(p) }))
}

/// The info file registered for `shmid`, with its identity.
pub fn info_file(shmid: i32) -> Option<(PathBuf, FileId)> {
    let slot = find(shmid)?;
    let p = slot.path.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    // SAFETY: a registered path; replaced only by this server's own calls.
    let path = path_of(unsafe { CStr::from_ptr(p) });
    Some((path, file_id(slot)))
}

fn file_id(slot: &Slot) -> FileId {
    FileId {
        dev: slot.dev.load(Ordering::Acquire),
        ino: slot.ino.load(Ordering::Acquire),
    }
}

fn path_of(c: &CStr) -> PathBuf {
    PathBuf::from(OsString::from_vec(c.to_bytes().to_vec()))
}

/// Sets the info file of the server `shmid` (`None`: no file) and returns
/// the one set before, so a failed publication can put it back and a
/// successful one can remove it.
pub fn replace_file(shmid: i32, file: Option<(&Path, FileId)>) -> Option<(PathBuf, FileId)> {
    let slot = find(shmid)?;
    let new = match file {
        Some((path, _)) => match CString::new(path.as_os_str().as_bytes()) {
            Ok(c) => c.into_raw(),
            Err(_) => return None,
        },
        None => std::ptr::null_mut(),
    };
    // Emptied first, so the handler never pairs one file's path with
    // another's identity.
    let old = slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel);
    let old_id = file_id(slot);
    if let Some((_, id)) = file {
        slot.dev.store(id.dev, Ordering::Release);
        slot.ino.store(id.ino, Ordering::Release);
    }
    slot.path.store(new, Ordering::Release);
    if old.is_null() {
        return None;
    }
    // SAFETY: ours after the swap; freed right after the copy.
    let previous = path_of(unsafe { CStr::from_ptr(old) });
    free_c_string(old);
    Some((previous, old_id))
}

/// The normal end of a server: this process takes it over, removes its
/// segment and info file (each only if still its own), and forgets it.
/// Every step runs; the first failure is reported.
pub fn shutdown(shmid: i32) -> Result<()> {
    let Some(slot) = find(shmid) else {
        return Ok(());
    };
    claim(shmid);
    let id = slot.shmid.swap(-1, Ordering::AcqRel);
    let segment = if id >= 0 {
        remove_segment_if_created(
            id,
            slot.key.load(Ordering::Acquire),
            slot.creator.load(Ordering::Acquire),
        )
    } else {
        Ok(())
    };
    let p = slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel);
    let file = if p.is_null() {
        Ok(())
    } else {
        // SAFETY: ours after the swap.
        let r = unlink_if_same(unsafe { CStr::from_ptr(p) }, file_id(slot));
        free_c_string(p);
        r
    };
    free_slot(slot);
    segment.and(file)
}

/// Forgets the server `shmid` without removing anything (it is not ours to
/// remove): detaches, unmaps, frees the slot.
pub fn forget(shmid: i32) {
    if let Some(slot) = find(shmid) {
        slot.shmid.store(-1, Ordering::Release);
        free_c_string(slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel));
        free_slot(slot);
    }
}

fn free_slot(slot: &Slot) {
    let att = slot.attachment.swap(std::ptr::null_mut(), Ordering::AcqRel);
    if !att.is_null() {
        // SAFETY: our own attachment, detached once.
        unsafe { libc::shmdt(att) };
    }
    free_owner_cell(slot.owner.swap(std::ptr::null_mut(), Ordering::AcqRel));
    free_c_string(slot.cwd.swap(std::ptr::null_mut(), Ordering::AcqRel));
    slot.shmid.store(-1, Ordering::Release);
    slot.in_use.store(false, Ordering::Release);
}

fn free_c_string(p: *mut libc::c_char) {
    if !p.is_null() {
        // SAFETY: every non-null pointer stored came from CString::into_raw,
        // and the swap that returned it made us its only owner.
        drop(unsafe { CString::from_raw(p) });
    }
}

/// `shm_perm.mode` bit of a segment already removed (IPC_RMID) that lives
/// on while attached (linux/shm.h).
const SHM_DEST: libc::c_ushort = 0o1000;

/// Whether segment `id` still has key `key` and creator `creator`; `Err`
/// (EIDRM) when it is gone or already removed and only still attached.
/// Async-signal-safe.
fn segment_matches(id: i32, key: libc::key_t, creator: i32) -> Result<bool> {
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: ds is a valid out-buffer for IPC_STAT.
    check("shmctl(IPC_STAT)", unsafe {
        libc::shmctl(id, libc::IPC_STAT, &mut ds)
    })?;
    if ds.shm_perm.mode & SHM_DEST != 0 {
        return Err(Error::sys("shmctl(IPC_STAT)", libc::EIDRM));
    }
    Ok(ds.shm_perm.__key == key && ds.shm_cpid == creator)
}

/// Removes segment `id` if it is still the one created with `key` by
/// `creator`; one already gone (ipcrm) is what we wanted anyway.
/// Async-signal-safe (no allocation).
fn remove_segment_if_created(id: i32, key: libc::key_t, creator: i32) -> Result<()> {
    match segment_matches(id, key, creator) {
        Ok(true) => {
            // SAFETY: IPC_RMID takes no buffer.
            match check("shmctl(IPC_RMID)", unsafe {
                libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut())
            }) {
                Err(e) if !matches!(e.errno(), libc::EINVAL | libc::EIDRM) => Err(e),
                _ => Ok(()),
            }
        }
        Ok(false) => Ok(()),
        Err(e) if matches!(e.errno(), libc::EINVAL | libc::EIDRM) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Every signal whose default action ends the process (SIGKILL and SIGSTOP
/// cannot be caught; the stop, continue and ignore-by-default signals do not
/// end it). Real-time signals end it too; SIGRTMAX is left alone because
/// valgrind reserves it.
fn terminating_signals() -> impl Iterator<Item = libc::c_int> {
    [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGILL,
        libc::SIGTRAP,
        libc::SIGABRT,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGUSR1,
        libc::SIGSEGV,
        libc::SIGUSR2,
        libc::SIGPIPE,
        libc::SIGALRM,
        libc::SIGTERM,
        libc::SIGSTKFLT,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGSYS,
    ]
    .into_iter()
    .chain(libc::SIGRTMIN()..libc::SIGRTMAX())
}

fn install_handlers() {
    for sig in terminating_signals() {
        // SAFETY: querying and setting dispositions with valid structs. A
        // handler or SIG_IGN the program installed is left alone.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            if old.sa_sigaction != libc::SIG_DFL {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_fatal_signal as extern "C" fn(libc::c_int) as usize;
            // Nothing interrupts the cleanup; the alternate stack, if the
            // program set one, serves a stack overflow.
            libc::sigfillset(&mut new.sa_mask);
            new.sa_flags = libc::SA_ONSTACK;
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    cleanup_owned();
    // SAFETY: restoring the default action and re-raising is async-signal-safe;
    // the raised signal is blocked until the handler returns, then ends the
    // process by the same signal.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Removes the segment and info file of every server this process owns
/// (async-signal-safe).
fn cleanup_owned() {
    let me = my_pid();
    for slot in REGISTRY.iter() {
        if !slot.in_use.load(Ordering::Acquire) || !owns(slot, me) {
            continue;
        }
        let id = slot.shmid.swap(-1, Ordering::AcqRel);
        if id >= 0 {
            let _ = remove_segment_if_created(
                id,
                slot.key.load(Ordering::Acquire),
                slot.creator.load(Ordering::Acquire),
            );
        }
        let p = slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: p is a NUL-terminated path we own now; never freed
            // here (the process is about to die).
            let _ = unlink_if_same(unsafe { CStr::from_ptr(p) }, file_id(slot));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_segment() -> i32 {
        // SAFETY: plain syscall.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o600) };
        assert!(id >= 0);
        id
    }

    #[test]
    fn register_claim_and_shutdown_remove_only_what_matches() {
        let id = private_segment();
        let reg = register(id, libc::IPC_PRIVATE, None).unwrap();
        assert!(is_registered(id));
        assert!(is_owner(id));
        let dir = crate::testutil::TempDir::new();
        let path = PathBuf::from(format!("{}/f", dir.path()));
        std::fs::write(&path, "x").unwrap();
        let cpath = CString::new(path.as_os_str().as_bytes()).unwrap();
        let fid = FileId::of_path(&cpath).unwrap();
        assert!(replace_file(id, Some((&path, fid))).is_none());
        assert_eq!(info_file(id), Some((path.clone(), fid)));
        // Another file now under the same name (renamed over it, as a
        // second server publishes): it stays.
        let other = format!("{}/g", dir.path());
        std::fs::write(&other, "y").unwrap();
        std::fs::rename(&other, &path).unwrap();
        shutdown(reg.into_raw()).unwrap();
        assert!(path.exists(), "replaced file kept");
        assert!(!is_registered(id));
        assert!(segment_matches(id, libc::IPC_PRIVATE, my_pid()).is_err());
    }

    #[test]
    fn a_drop_by_a_process_that_does_not_own_removes_nothing() {
        let id = private_segment();
        let reg = register(id, libc::IPC_PRIVATE, None).unwrap();
        let cell = find(id).unwrap().owner.load(Ordering::Acquire);
        // As if a forked child had taken the server over.
        unsafe { &*cell }.store(my_pid() + 1, Ordering::Release);
        assert!(!is_owner(id));
        drop(reg);
        assert!(segment_matches(id, libc::IPC_PRIVATE, my_pid()).unwrap());
        crate::shm::remove_id(id).unwrap();
    }

    #[test]
    fn unlink_if_same_spares_other_files() {
        let dir = crate::testutil::TempDir::new();
        let path = CString::new(format!("{}/f", dir.path())).unwrap();
        std::fs::write(dir.path().to_owned() + "/f", "x").unwrap();
        let id = FileId::of_path(&path).unwrap();
        let other = FileId {
            dev: id.dev,
            ino: id.ino + 1,
        };
        unlink_if_same(&path, other).unwrap();
        assert!(FileId::of_path(&path).is_ok());
        unlink_if_same(&path, id).unwrap();
        assert!(FileId::of_path(&path).is_err());
        unlink_if_same(&path, id).unwrap(); // already gone
    }
}
