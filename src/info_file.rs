//! The info file a server publishes: exactly `IP\nport\nshm_pathname\nproj_id\n`.
//! Parsing is strict and says what is wrong; publishing is atomic (a dot-file
//! in the same directory, then `rename`) so a client never reads half a file.

use crate::error::{check, Error, Result};
use crate::shm::c_path;
use std::ffi::{CStr, OsStr};
use std::fmt;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest info file the client reads; anything longer is malformed.
pub const MAX_INFO_FILE_BYTES: usize = 8192;

/// What an info file announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoFile {
    /// Line 1: the IPv4 address the server listens on.
    pub ip: Ipv4Addr,
    /// Line 2: its TCP port.
    pub port: u16,
    /// Line 3: the path given to `ftok` for the segment's key.
    pub shm_pathname: String,
    /// Line 4: the `ftok` proj id.
    pub shm_proj_id: i32,
}

/// Why an info file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(
    /// The one-line reason.
    pub String,
);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad<T>(reason: impl Into<String>) -> std::result::Result<T, ParseError> {
    Err(ParseError(reason.into()))
}

impl InfoFile {
    /// The file's exact content.
    pub fn render(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.ip, self.port, self.shm_pathname, self.shm_proj_id
        )
    }

    /// Parses the four-line format; every deviation is an error with a reason.
    pub fn parse(bytes: &[u8]) -> std::result::Result<InfoFile, ParseError> {
        if bytes.is_empty() {
            return bad("file is empty");
        }
        if bytes.len() > MAX_INFO_FILE_BYTES {
            return bad(format!("file is longer than {MAX_INFO_FILE_BYTES} bytes"));
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bad("file is not text (invalid UTF-8)");
        };
        if text.contains('\0') {
            return bad("file contains a NUL byte");
        }
        if text.contains('\r') {
            return bad("file has CR characters (CRLF line ends?)");
        }
        let Some(body) = text.strip_suffix('\n') else {
            return bad("file is truncated (last line has no newline)");
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() != 4 {
            return bad(format!("file has {} lines, expected 4", lines.len()));
        }
        let Ok(ip) = lines[0].parse::<Ipv4Addr>() else {
            return bad(format!(
                "line 1: {} is not an IPv4 address",
                quoted(lines[0])
            ));
        };
        let port = match canonical_decimal(lines[1]).map(u16::try_from) {
            Some(Ok(p)) if p != 0 => p,
            _ => {
                return bad(format!(
                    "line 2: {} is not a port in 1..65535",
                    quoted(lines[1])
                ))
            }
        };
        let shm_pathname = lines[2];
        if shm_pathname.is_empty() {
            return bad("line 3: shm pathname is empty");
        }
        let shm_proj_id = match canonical_decimal(lines[3]).map(i32::try_from) {
            Some(Ok(id)) if id & 0xff != 0 => id,
            _ => {
                return bad(format!(
                    "line 4: {} is not a proj id (integer with a nonzero low byte)",
                    quoted(lines[3])
                ))
            }
        };
        Ok(InfoFile {
            ip,
            port,
            shm_pathname: shm_pathname.to_owned(),
            shm_proj_id,
        })
    }
}

/// A field quoted for a warning line: escaped, and cut short so a huge
/// line still makes a readable warning.
fn quoted(field: &str) -> String {
    const SHOWN: usize = 40;
    match field.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}... ({} bytes)", &field[..cut], field.len()),
        None => format!("{field:?}"),
    }
}

/// An integer written the way `render` writes one: ASCII digits with an
/// optional leading '-', no '+', no leading zeros, no "-0". Rust's `parse`
/// also takes "+80" and "0080"; accepting those would let two different
/// files describe one server, and a file would not survive a re-render.
fn canonical_decimal(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.len() <= 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0";
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// Checks that `name` is a plain file name the client will list. Any bytes
/// but '/' and NUL: the kernel takes them, and so does the client.
pub fn validate_name(name: &OsStr) -> Result<()> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes == b"." || bytes == b".." || bytes.contains(&b'/') {
        return Err(Error::invalid(format!(
            "info_file_name {name:?} is not a plain file name"
        )));
    }
    if bytes.starts_with(b".") {
        return Err(Error::invalid(format!(
            "info_file_name {name:?} starts with '.': the client skips dot-files"
        )));
    }
    if bytes.contains(&0) {
        return Err(Error::invalid("info_file_name contains a NUL byte"));
    }
    Ok(())
}

/// `dir/name` without doubling a trailing slash.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The info file's exact bytes, as the server writes it: the four lines of
/// the course, the shm path as the bytes it is (not necessarily UTF-8).
pub fn announcement(ip: Ipv4Addr, port: u16, shm_pathname: &OsStr, proj_id: i32) -> Vec<u8> {
    let mut out = format!("{ip}\n{port}\n").into_bytes();
    out.extend_from_slice(shm_pathname.as_bytes());
    out.extend_from_slice(format!("\n{proj_id}\n").as_bytes());
    out
}

/// A file's identity: its device and inode. A server unlinks its info file
/// only while the path still names this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

impl FileId {
    /// The identity of the file `path` names now (following symlinks).
    /// Async-signal-safe.
    pub fn of_path(path: &CStr) -> Result<FileId> {
        // SAFETY: libc::stat is a C struct of integers; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: path is NUL-terminated; st is a valid out-buffer.
        check("stat", unsafe { libc::stat(path.as_ptr(), &mut st) })?;
        Ok(FileId::from_stat(&st))
    }

    /// The identity of the open file `fd`.
    pub fn of_fd(fd: std::os::fd::BorrowedFd<'_>) -> Result<FileId> {
        use std::os::fd::AsRawFd;
        // SAFETY: libc::stat is a C struct of integers; all zeroes is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: st is a valid out-buffer.
        check("fstat", unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
        Ok(FileId::from_stat(&st))
    }

    #[allow(clippy::unnecessary_cast)] // dev_t/ino_t are not u64 on every target
    fn from_stat(st: &libc::stat) -> FileId {
        FileId {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
        }
    }
}

/// Unlinks `path` if it still names the file `id`; a file already gone, or
/// replaced by another (a second server of the same name), stays as it is.
/// Async-signal-safe (no allocation).
pub fn unlink_if_same(path: &CStr, id: FileId) -> Result<()> {
    match FileId::of_path(path) {
        Ok(now) if now == id => {
            // SAFETY: path is NUL-terminated.
            match check("unlink", unsafe { libc::unlink(path.as_ptr()) }) {
                Err(e) if e.errno() != libc::ENOENT => Err(e),
                _ => Ok(()),
            }
        }
        Ok(_) => Ok(()),
        Err(e) if matches!(e.errno(), libc::ENOENT | libc::ENOTDIR) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A published info file; unlinked on drop (if it is still this file).
#[derive(Debug)]
pub struct PublishedFile {
    path: PathBuf,
    id: FileId,
}

impl PublishedFile {
    /// Writes `content` to `dir/name` atomically.
    pub fn publish(dir: &Path, name: &OsStr, content: &[u8]) -> Result<PublishedFile> {
        PublishedFile::publish_then(dir, name, content, |_, _| {})
    }

    /// `publish`, calling `before_rename(final path, identity)` once the
    /// content is written and just before the file becomes visible (whoever
    /// sees it appear may act at once, e.g. send a signal).
    pub fn publish_then(
        dir: &Path,
        name: &OsStr,
        content: &[u8],
        before_rename: impl FnOnce(&Path, FileId),
    ) -> Result<PublishedFile> {
        validate_name(name)?;
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid("info_file_directory is empty"));
        }
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut tmp_name = b".".to_vec();
        tmp_name.extend_from_slice(temp_stem(name.as_bytes()));
        tmp_name.extend_from_slice(
            format!(
                ".{}.{}.tmp",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )
            .as_bytes(),
        );
        let tmp = dir.join(OsStr::from_bytes(&tmp_name));
        let path = dir.join(name);
        let ctmp = c_path("info file path", &tmp)?;
        let cpath = c_path("info file path", &path)?;
        let tmp_file = TempFile::create(ctmp)?;
        tmp_file.write_all(content)?;
        let id = {
            use std::os::fd::AsFd;
            FileId::of_fd(tmp_file.fd.as_fd())?
        };
        before_rename(&path, id);
        tmp_file.rename_to(&cpath)?;
        Ok(PublishedFile { path, id })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's identity.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// Gives up ownership: the caller unlinks the file (see `unlink_if_same`).
    pub fn into_path(self) -> PathBuf {
        let mut this = std::mem::ManuallyDrop::new(self);
        std::mem::take(&mut this.path)
    }
}

impl Drop for PublishedFile {
    fn drop(&mut self) {
        if let Ok(c) = c_path("info file path", &self.path) {
            let _ = unlink_if_same(&c, self.id);
        }
    }
}

/// The start of `name` (at most `TEMP_STEM_BYTES`) for the temporary's
/// name: a name of NAME_MAX bytes is valid, and the dot, pid, counter and
/// suffix must not push the temporary over that limit.
fn temp_stem(name: &[u8]) -> &[u8] {
    const TEMP_STEM_BYTES: usize = 64;
    &name[..name.len().min(TEMP_STEM_BYTES)]
}

/// `unlink(path)`; an empty path is a no-op, and so is a file already gone
/// (someone cleaned the info directory while the server waited): the file
/// is not there either way, which is all a shutdown needs.
pub fn remove_path(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    let cpath = c_path("info file path", path)?;
    // SAFETY: cpath is NUL-terminated.
    match check("unlink", unsafe { libc::unlink(cpath.as_ptr()) }) {
        Err(e) if e.errno() != libc::ENOENT => Err(e),
        _ => Ok(()),
    }
}

/// The temporary dot-file: closed and unlinked on drop unless renamed.
struct TempFile {
    fd: std::os::fd::OwnedFd,
    path: Option<std::ffi::CString>,
}

impl TempFile {
    fn create(path: std::ffi::CString) -> Result<TempFile> {
        use std::os::fd::FromRawFd;
        // SAFETY: path is NUL-terminated; O_EXCL never reuses a file.
        let fd = check("open", unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                0o644 as libc::c_uint,
            )
        })?;
        Ok(TempFile {
            // SAFETY: fd was just returned by open.
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
            path: Some(path),
        })
    }

    fn write_all(&self, mut bytes: &[u8]) -> Result<()> {
        use std::os::fd::AsRawFd;
        while !bytes.is_empty() {
            // SAFETY: bytes is valid for reads of its length.
            let n = crate::error::retry_eintr(|| unsafe {
                libc::write(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len())
            });
            if n < 0 {
                return Err(Error::last("write"));
            }
            bytes = &bytes[n as usize..];
        }
        Ok(())
    }

    fn rename_to(mut self, dest: &std::ffi::CStr) -> Result<()> {
        let from = self.path.as_ref().expect("temp file has a path");
        // SAFETY: both paths are NUL-terminated.
        check("rename", unsafe {
            libc::rename(from.as_ptr(), dest.as_ptr())
        })?;
        self.path = None;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            // SAFETY: NUL-terminated path of the file we created.
            unsafe { libc::unlink(path.as_ptr()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> InfoFile {
        InfoFile {
            ip: Ipv4Addr::new(1, 1, 1, 1),
            port: 1234,
            shm_pathname: "abcd".into(),
            shm_proj_id: 10,
        }
    }

    #[test]
    fn renders_the_course_example_exactly() {
        assert_eq!(sample().render(), "1.1.1.1\n1234\nabcd\n10\n");
    }

    #[test]
    fn parse_inverts_render() {
        assert_eq!(InfoFile::parse(sample().render().as_bytes()), Ok(sample()));
    }

    #[test]
    fn malformed_files_are_refused_with_reasons() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"1.1.1.1\n1234\nabcd\n", "3 lines"),
            (b"1.1.1.1\n1234\nabcd\n10", "truncated"),
            (b"1.1.1.1\r\n1234\r\nabcd\r\n10\r\n", "CR"),
            (b"::1\n1234\nabcd\n10\n", "IPv4"),
            (b"999.1.1.1\n1234\nabcd\n10\n", "IPv4"),
            (b"localhost\n1234\nabcd\n10\n", "IPv4"),
            (b"1.1.1.1\n0\nabcd\n10\n", "port"),
            (b"1.1.1.1\n70000\nabcd\n10\n", "port"),
            (b"1.1.1.1\nabc\nabcd\n10\n", "port"),
            (b"1.1.1.1\n+1234\nabcd\n10\n", "port"),
            (b"1.1.1.1\n01234\nabcd\n10\n", "port"),
            (b"1.1.1.1\n1234\nabcd\n010\n", "proj id"),
            (b"1.1.1.1\n1234\n\n10\n", "empty"),
            (b"1.1.1.1\n1234\nabcd\n0\n", "proj id"),
            (b"1.1.1.1\n1234\nabcd\n10\nextra\n", "5 lines"),
            (b"\xff\xfe\x00garbage", "UTF-8"),
        ];
        for (bytes, why) in cases {
            let err = InfoFile::parse(bytes).expect_err(why);
            assert!(
                err.0.contains(why),
                "{:?}: {err}",
                String::from_utf8_lossy(bytes)
            );
        }
        let huge_field = format!("{}\n1\nx\n1\n", "9".repeat(5000));
        let reason = InfoFile::parse(huge_field.as_bytes()).unwrap_err().0;
        assert!(
            reason.len() < 120 && reason.contains("5000 bytes"),
            "{reason}"
        );
        let long = vec![b'1'; MAX_INFO_FILE_BYTES + 1];
        assert!(InfoFile::parse(&long).unwrap_err().0.contains("longer"));
    }

    #[test]
    fn publish_is_atomic_and_removed_on_drop() {
        let dir = crate::testutil::TempDir::new();
        let file = PublishedFile::publish(dir.path().as_ref(), "srv.txt".as_ref(), b"x\n").unwrap();
        assert_eq!(std::fs::read_to_string(file.path()).unwrap(), "x\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("srv.txt")],
            "no temporary left"
        );
        let path = file.path().to_owned();
        drop(file);
        assert!(!std::path::Path::new(&path).exists());
        remove_path(&path).expect("already gone is not an error");
    }

    #[test]
    fn longest_valid_name_publishes() {
        let dir = crate::testutil::TempDir::new();
        let name = "n".to_owned() + &"é".repeat(127); // 255 bytes; the stem cut falls inside a char
        let file = PublishedFile::publish(dir.path().as_ref(), name.as_ref(), b"x\n").unwrap();
        assert!(file.path().ends_with(&name));
    }

    #[test]
    fn names_and_paths_that_are_not_utf8_publish_as_bytes() {
        let dir = crate::testutil::TempDir::new();
        let name = OsStr::from_bytes(b"srv-\xff\xfe");
        let shm = OsStr::from_bytes(b"/tmp/\xe9t\xe9");
        let content = announcement(Ipv4Addr::LOCALHOST, 5, shm, 7);
        assert_eq!(content, b"127.0.0.1\n5\n/tmp/\xe9t\xe9\n7\n");
        let file = PublishedFile::publish(dir.path().as_ref(), name, &content).unwrap();
        assert_eq!(file.path().file_name(), Some(name));
        assert_eq!(std::fs::read(file.path()).unwrap(), content);
    }

    #[test]
    fn drop_spares_a_file_that_replaced_ours() {
        let dir = crate::testutil::TempDir::new();
        let first = PublishedFile::publish(dir.path().as_ref(), "srv".as_ref(), b"1\n").unwrap();
        let second = PublishedFile::publish(dir.path().as_ref(), "srv".as_ref(), b"2\n").unwrap();
        assert_ne!(first.id(), second.id());
        drop(first);
        assert_eq!(std::fs::read(second.path()).unwrap(), b"2\n");
        let path = second.path().to_owned();
        drop(second);
        assert!(!path.exists());
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", ".", "..", "a/b", ".hidden"] {
            assert!(validate_name(name.as_ref()).is_err(), "{name}");
        }
    }

    #[test]
    fn publish_into_missing_directory_names_open() {
        let err = PublishedFile::publish("/nonexistent-isoprobe-dir".as_ref(), "a".as_ref(), b"x")
            .unwrap_err();
        assert_eq!(err.call(), Some("open"));
        assert_eq!(err.errno(), libc::ENOENT);
    }
}
