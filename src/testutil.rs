//! Helpers for unit tests only.

/// A temporary directory removed (with its contents) on drop.
pub struct TempDir {
    path: String,
}

impl TempDir {
    pub fn new() -> TempDir {
        let template = std::ffi::CString::new(format!(
            "{}/isoprobe-test-XXXXXX",
            std::env::temp_dir().display()
        ))
        .unwrap();
        let mut buf = template.into_bytes_with_nul();
        // SAFETY: buf is a writable NUL-terminated template.
        let p = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) };
        assert!(!p.is_null(), "mkdtemp failed");
        buf.pop();
        TempDir {
            path: String::from_utf8(buf).unwrap(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
