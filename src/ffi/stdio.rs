//! C's stdio streams, which the course's output goes to.

/// Writes `bytes` on C's `stdout`/`stderr` stream as they are (no
/// conversion, NUL bytes included), so they interleave correctly with the
/// program's own stdio output.
pub(crate) fn print_bytes(to_stderr: bool, bytes: &[u8]) {
    extern "C" {
        static mut stdout: *mut libc::FILE;
        static mut stderr: *mut libc::FILE;
    }
    if bytes.is_empty() {
        return;
    }
    // SAFETY: glibc's stdio streams are initialised before main and
    // thread-safe; bytes is valid for reads of its length.
    unsafe {
        let stream = if to_stderr { stderr } else { stdout };
        libc::fwrite(bytes.as_ptr().cast(), 1, bytes.len(), stream);
        libc::fflush(stream);
    }
}
