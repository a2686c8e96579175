//! Signal-time cleanup: the only process-wide mutable state in the library.
//!
//! A server killed by SIGINT/SIGTERM must still remove its segment and info
//! file. Each live server claims a slot holding its shmid and info-file path;
//! the handler empties every slot with atomic swaps (async-signal-safe, no
//! locks, no allocation) and then re-raises the signal with the default
//! action. Whoever swaps a value out owns it, so a server shutting down in
//! another thread and the handler never both free or remove the same thing.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};
use std::sync::Once;

/// How many servers of one process the handler can clean up.
const SLOTS: usize = 8192;

struct Slot {
    in_use: AtomicBool,
    shmid: AtomicI32,
    path: AtomicPtr<libc::c_char>,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    in_use: AtomicBool::new(false),
    shmid: AtomicI32::new(-1),
    path: AtomicPtr::new(std::ptr::null_mut()),
};

static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];
static INSTALL: Once = Once::new();

/// Registers segment `shmid` for removal if the process is killed by
/// SIGINT/SIGTERM. Returns false when every slot is taken (the server still
/// works; it is just not cleaned up at signal time).
pub fn protect(shmid: i32) -> bool {
    if shmid < 0 {
        return false;
    }
    INSTALL.call_once(install_handlers);
    for slot in REGISTRY.iter() {
        if slot
            .in_use
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            slot.shmid.store(shmid, Ordering::Release);
            return true;
        }
    }
    false
}

fn find(shmid: i32) -> Option<&'static Slot> {
    REGISTRY
        .iter()
        .find(|s| s.in_use.load(Ordering::Acquire) && s.shmid.load(Ordering::Acquire) == shmid)
}

/// Adds the info file of the server owning `shmid`.
pub fn protect_file(shmid: i32, path: &Path) {
    drop(replace_file(shmid, Some(path)));
}

/// Sets the info file of the server owning `shmid` (`None`: no file) and
/// returns the one set before, so a failed publication can put it back.
pub fn replace_file(shmid: i32, path: Option<&Path>) -> Option<CString> {
    let slot = find(shmid)?;
    let new = match path.map(|p| CString::new(p.as_os_str().as_bytes())) {
        Some(Ok(cpath)) => cpath.into_raw(),
        Some(Err(_)) => return None,
        None => std::ptr::null_mut(),
    };
    let old = slot.path.swap(new, Ordering::AcqRel);
    // SAFETY: as in `free_path`: from CString::into_raw, and ours after the swap.
    (!old.is_null()).then(|| unsafe { CString::from_raw(old) })
}

/// Forgets the server owning `shmid` (it is shutting down normally).
pub fn release(shmid: i32) {
    if let Some(slot) = find(shmid) {
        free_path(slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel));
        slot.shmid.store(-1, Ordering::Release);
        slot.in_use.store(false, Ordering::Release);
    }
}

fn free_path(p: *mut libc::c_char) {
    if !p.is_null() {
        // SAFETY: every non-null pointer stored came from CString::into_raw,
        // and the swap that returned it made us its only owner.
        drop(unsafe { CString::from_raw(p) });
    }
}

/// Keeps a server's slot while it lives.
#[derive(Debug)]
pub struct Protection {
    shmid: i32,
}

impl Protection {
    pub fn new(shmid: i32) -> Protection {
        protect(shmid);
        Protection { shmid }
    }
}

impl Drop for Protection {
    fn drop(&mut self) {
        release(self.shmid);
    }
}

fn install_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: querying and setting dispositions with valid structs. The
        // application's own handler, if any, is left alone.
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
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    cleanup_all();
    // SAFETY: restoring the default action and re-raising is async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Removes every registered segment and info file (async-signal-safe).
fn cleanup_all() {
    for slot in REGISTRY.iter() {
        let id = slot.shmid.swap(-1, Ordering::AcqRel);
        if id >= 0 {
            // SAFETY: shmctl is async-signal-safe in practice (a plain syscall).
            unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
        }
        let p = slot.path.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: p is a NUL-terminated path we own now; never freed here
            // (the process is about to die).
            unsafe { libc::unlink(p) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protect_release_reuses_slots() {
        assert!(protect(1_000_001));
        protect_file(1_000_001, Path::new("/nonexistent/a"));
        assert!(find(1_000_001).is_some());
        release(1_000_001);
        assert!(find(1_000_001).is_none());
    }

    #[test]
    fn replace_file_hands_back_the_previous_registration() {
        assert!(protect(1_000_002));
        assert!(replace_file(1_000_002, Some(Path::new("/nonexistent/a"))).is_none());
        let previous = replace_file(1_000_002, Some(Path::new("/nonexistent/b"))).unwrap();
        assert_eq!(previous.to_str(), Ok("/nonexistent/a"));
        let previous = replace_file(1_000_002, None).unwrap();
        assert_eq!(previous.to_str(), Ok("/nonexistent/b"));
        release(1_000_002);
    }
}
