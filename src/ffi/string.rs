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
        if s.len() >= ISOPROBE_STRING_CAPACITY {
            return Err(Error::invalid(format!(
                "{what} is {} bytes; at most {} fit",
                s.len(),
                ISOPROBE_STRING_CAPACITY - 1
            )));
        }
        if s.contains('\0') {
            return Err(Error::invalid(format!("{what} contains a NUL byte")));
        }
        let mut out = IsoprobeString::empty();
        for (dst, src) in out.data.iter_mut().zip(s.bytes()) {
            *dst = src as c_char;
        }
        Ok(out)
    }

    /// The content, refusing a buffer with no NUL or with invalid UTF-8.
    pub fn to_str(&self, what: &str) -> Result<&str> {
        // SAFETY: c_char and u8 have the same size and alignment.
        let bytes: &[u8] =
            unsafe { std::slice::from_raw_parts(self.data.as_ptr().cast(), self.data.len()) };
        let end = bytes
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::invalid(format!("{what} is not NUL-terminated")))?;
        std::str::from_utf8(&bytes[..end])
            .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_capacity() {
        let s = IsoprobeString::from_str("x", "abc").unwrap();
        assert_eq!(s.to_str("x").unwrap(), "abc");
        let max = "a".repeat(ISOPROBE_STRING_CAPACITY - 1);
        assert_eq!(
            IsoprobeString::from_str("x", &max)
                .unwrap()
                .to_str("x")
                .unwrap(),
            max
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
        assert!(s.to_str("x").is_err());
    }
}
