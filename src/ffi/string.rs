//! `isoprobe_string`: the fixed-capacity, NUL-terminated string that stands
//! where the course headers had `std::string`. In C it is a plain buffer; the
//! C++ members the headers add (src/cxx/isoprobe_string.body.h) make it behave like
//! `std::string` for assignment, comparison, printing and conversion.

use crate::error::{Error, Result};
use libc::c_char;

/// Capacity in bytes, including the terminating NUL (`PATH_MAX`).
pub const ISOPROBE_STRING_CAPACITY: usize = 4096;

/// A NUL-terminated string stored inline (`ISOPROBE_STRING_CAPACITY` bytes).
/// Longer strings are refused, never truncated. In C, copy into `data` with
/// a bound (snprintf) and check for truncation; in C++ it behaves like
/// `std::string` (assignment, comparison, conversion, streaming) and throws
/// `std::length_error` instead of truncating. See docs/strings.md.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IsoprobeString {
    /// The bytes, NUL-terminated.
    pub data: [c_char; ISOPROBE_STRING_CAPACITY],
}

impl IsoprobeString {
    /// The empty string.
    pub const fn empty() -> IsoprobeString {
        IsoprobeString {
            data: [0; ISOPROBE_STRING_CAPACITY],
        }
    }

    /// Copies `s`, refusing strings that do not fit or hold a NUL.
    pub fn from_str(what: &str, s: &str) -> Result<IsoprobeString> {
        IsoprobeString::from_bytes(what, s.as_bytes())
    }

    /// Copies the bytes `s` (any bytes but NUL: paths and names are bytes to
    /// the kernel, not text), refusing strings that do not fit or hold a NUL.
    pub fn from_bytes(what: &str, s: &[u8]) -> Result<IsoprobeString> {
        if s.len() >= ISOPROBE_STRING_CAPACITY {
            return Err(Error::invalid(format!(
                "{what} is {} bytes; at most {} fit",
                s.len(),
                ISOPROBE_STRING_CAPACITY - 1
            )));
        }
        if s.contains(&0) {
            return Err(Error::invalid(format!("{what} contains a NUL byte")));
        }
        let mut out = IsoprobeString::empty();
        for (dst, &src) in out.data.iter_mut().zip(s) {
            *dst = src as c_char;
        }
        Ok(out)
    }

    /// The bytes before the NUL, as they are (no UTF-8 requirement),
    /// refusing a buffer with no NUL.
    pub fn to_bytes(&self, what: &str) -> Result<&[u8]> {
        // SAFETY: c_char and u8 have the same size and alignment.
        let bytes: &[u8] =
            unsafe { std::slice::from_raw_parts(self.data.as_ptr().cast(), self.data.len()) };
        let end = bytes
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::invalid(format!("{what} is not NUL-terminated")))?;
        Ok(&bytes[..end])
    }

    /// `to_bytes` as an `OsStr`, for paths and file names.
    pub fn to_os_str(&self, what: &str) -> Result<&std::ffi::OsStr> {
        use std::os::unix::ffi::OsStrExt;
        self.to_bytes(what).map(std::ffi::OsStr::from_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_capacity() {
        let s = IsoprobeString::from_str("x", "abc").unwrap();
        assert_eq!(s.to_bytes("x").unwrap(), b"abc");
        let max = "a".repeat(ISOPROBE_STRING_CAPACITY - 1);
        assert_eq!(
            IsoprobeString::from_str("x", &max)
                .unwrap()
                .to_bytes("x")
                .unwrap(),
            max.as_bytes()
        );
        let over = "a".repeat(ISOPROBE_STRING_CAPACITY);
        assert!(IsoprobeString::from_str("x", &over).is_err());
        assert!(IsoprobeString::from_str("x", "a\0b").is_err());
    }

    #[test]
    fn unterminated_buffer_is_refused() {
        let s = IsoprobeString {
            data: [b'a' as c_char; ISOPROBE_STRING_CAPACITY],
        };
        assert!(s.to_bytes("x").is_err());
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_unchanged() {
        let name = b"caf\xe9-\xff\xfe";
        let s = IsoprobeString::from_bytes("x", name).unwrap();
        assert_eq!(s.to_bytes("x").unwrap(), name);
        assert_eq!(
            std::os::unix::ffi::OsStrExt::as_bytes(s.to_os_str("x").unwrap()),
            name
        );
        assert!(IsoprobeString::from_bytes("x", b"a\0b").is_err());
    }
}
