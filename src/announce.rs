//! The client's reading of an info file: the four lines (address, port, shm
//! path, proj id) as the world writes them, not only as our server does.
//!
//! Accepted: CRLF or LF line ends, a missing final newline, blanks (space,
//! tab, CR, VT, FF) around any field, blank lines before and after the four
//! lines, a port with leading zeros or a '+' (decimal), a host name (resolved
//! when probing, each address tried), an IPv4 or IPv6 literal (also in
//! brackets), and every proj id glibc's `ftok` takes (any `int`: `ftok` uses
//! only its low 8 bits, so 0 and 256 give the same key as `ftok` does). The
//! shm path is bytes, passed to `ftok` as they are.
//!
//! Refused, with one reason line: an empty or oversized file, a NUL byte,
//! fewer or more than four non-blank lines (so a blank line between fields
//! too), an address that is neither an IP literal nor a host name, a port
//! outside 1..65535 or not a decimal number, a proj id that is not a decimal
//! `int`. A field cannot start or end with a blank: they are stripped, as
//! the `>>` readers of the course's solutions do.

use crate::info_file::{ParseError, MAX_INFO_FILE_BYTES};
use std::fmt;
use std::net::IpAddr;

/// Where an info file says the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A host name, resolved (getaddrinfo) when the server is probed.
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// What an info file announces, as the client read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Line 1: the address.
    pub host: Host,
    /// Line 2: the TCP port.
    pub port: u16,
    /// Line 3: the path given to `ftok`, as bytes.
    pub shm_pathname: Vec<u8>,
    /// Line 4: the `ftok` proj id (only its low 8 bits make the key).
    pub shm_proj_id: i32,
}

impl Announcement {
    /// `host:port`, with brackets around an IPv6 literal.
    pub fn address_text(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            host => format!("{host}:{}", self.port),
        }
    }
}

fn bad<T>(reason: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(reason.into()))
}

/// The blanks stripped around a field and the only content of a blank line.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn trim(mut line: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = line {
        if !is_blank(*first) {
            break;
        }
        line = rest;
    }
    while let [rest @ .., last] = line {
        if !is_blank(*last) {
            break;
        }
        line = rest;
    }
    line
}

/// Parses an info file; see the module documentation for what is accepted.
pub fn parse(bytes: &[u8]) -> Result<Announcement, ParseError> {
    if bytes.len() > MAX_INFO_FILE_BYTES {
        return bad(format!("file is longer than {MAX_INFO_FILE_BYTES} bytes"));
    }
    if bytes.contains(&0) {
        return bad("file contains a NUL byte");
    }
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').map(trim).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let Some(first) = first else {
        return bad("file is empty");
    };
    let last = lines.iter().rposition(|l| !l.is_empty()).unwrap_or(first);
    let fields = &lines[first..=last];
    if fields.len() != 4 {
        return bad(format!(
            "file has {} lines between its first and last non-blank line, expected 4 \
             (address, port, shm path, proj id)",
            fields.len()
        ));
    }
    let host = parse_host(fields[0])?;
    let port = match decimal(fields[1]) {
        Some(p @ 1..=65535) => p as u16,
        _ => {
            return bad(format!(
                "port {} is not a port in 1..65535",
                quoted(fields[1])
            ))
        }
    };
    if fields[2].is_empty() {
        return bad("shm path (line 3) is blank");
    }
    let shm_proj_id = match decimal(fields[3]).map(i32::try_from) {
        Some(Ok(id)) => id,
        _ => {
            return bad(format!(
                "proj id {} is not a decimal int",
                quoted(fields[3])
            ))
        }
    };
    Ok(Announcement {
        host,
        port,
        shm_pathname: fields[2].to_vec(),
        shm_proj_id,
    })
}

fn parse_host(field: &[u8]) -> Result<Host, ParseError> {
    let refuse = || {
        bad(format!(
            "address {} is not an IP address or host name",
            quoted(field)
        ))
    };
    let Ok(text) = std::str::from_utf8(field) else {
        return refuse();
    };
    let literal = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    // RFC 1123 names: letters, digits, '-' (and '_', seen in the wild), dot
    // separated; all-numeric ones are mistyped IPv4 addresses, not names.
    let labels = text.strip_suffix('.').unwrap_or(text);
    let name_like = text.len() <= 253
        && labels.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && !text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if name_like {
        Ok(Host::Name(text.to_owned()))
    } else {
        refuse()
    }
}

/// A decimal integer: an optional sign, then ASCII digits (leading zeros
/// allowed, as `>>` and `atoi` allow them; never octal or hex).
fn decimal(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = digits
        .iter()
        .position(|&d| d != b'0')
        .map_or(&digits[digits.len() - 1..], |i| &digits[i..]);
    if significant.len() > 12 {
        return None;
    }
    let value: i64 = std::str::from_utf8(significant).ok()?.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// A field quoted for a warning line: escaped, and cut short so a huge
/// line still makes a readable warning.
fn quoted(field: &[u8]) -> String {
    const SHOWN: usize = 40;
    let shown = &field[..field.len().min(SHOWN)];
    let text = format!("\"{}\"", shown.escape_ascii());
    if field.len() > SHOWN {
        format!("{text}... ({} bytes)", field.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ok(text: &[u8]) -> Announcement {
        parse(text).unwrap_or_else(|e| panic!("{:?}: {e}", text.escape_ascii().to_string()))
    }

    fn expected(host: Host, port: u16, path: &[u8], proj: i32) -> Announcement {
        Announcement {
            host,
            port,
            shm_pathname: path.to_vec(),
            shm_proj_id: proj,
        }
    }

    const LOCAL: Host = Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn the_spellings_of_the_world_are_read_alike() {
        let want = expected(LOCAL, 5000, b"/tmp/x", 7);
        for text in [
            &b"127.0.0.1\n5000\n/tmp/x\n7\n"[..],
            b"127.0.0.1\n5000\n/tmp/x\n7",
            b"127.0.0.1\r\n5000\r\n/tmp/x\r\n7\r\n",
            b"127.0.0.1\r\n5000\r\n/tmp/x\r\n7",
            b"127.0.0.1 \n5000\t\n/tmp/x  \n7 \n",
            b"\n\n127.0.0.1\n5000\n/tmp/x\n7\n\n\n",
            b"  127.0.0.1\n 05000\n/tmp/x\n+7\n",
            b"127.0.0.1\n005000\n/tmp/x\n0007\n \t\r\n",
        ] {
            assert_eq!(ok(text), want);
        }
    }

    #[test]
    fn hosts_names_and_ipv6() {
        assert_eq!(
            ok(b"localhost\n1\np\n1\n").host,
            Host::Name("localhost".into())
        );
        assert_eq!(
            ok(b"my-host.example.\n1\np\n1\n").host,
            Host::Name("my-host.example.".into())
        );
        assert_eq!(
            ok(b"::1\n1\np\n1\n").host,
            Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(
            ok(b"[::1]\n1\np\n1\n").host,
            Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        assert_eq!(ok(b"::1\n80\np\n1\n").address_text(), "[::1]:80");
        assert_eq!(ok(b"localhost\n80\np\n1\n").address_text(), "localhost:80");
    }

    #[test]
    fn every_int_proj_id_is_taken() {
        for (text, id) in [
            ("0", 0),
            ("256", 256),
            ("-1", -1),
            ("2147483647", i32::MAX),
            ("-2147483648", i32::MIN),
            ("-0", 0),
        ] {
            let file = format!("1.2.3.4\n1\np\n{text}\n");
            assert_eq!(ok(file.as_bytes()).shm_proj_id, id, "{text}");
        }
    }

    #[test]
    fn paths_are_bytes() {
        let a = ok(b"1.2.3.4\n1\n/tmp/\xff\xfe dir/f\n1\n");
        assert_eq!(a.shm_pathname, b"/tmp/\xff\xfe dir/f");
    }

    #[test]
    fn what_cannot_be_meant_is_refused_with_one_line() {
        let huge = format!("{}\n1\nx\n1\n", "9".repeat(5000));
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b" \n\r\n\t\n", "empty"),
            (b"1.1.1.1\n1234\nabcd\n", "3 lines"),
            (b"1.1.1.1\n1234\n\nabcd\n10\n", "5 lines"),
            (b"1.1.1.1\n1234\nabcd\n10\nextra\n", "5 lines"),
            (
                b"999.1.1.1\n1234\nabcd\n10\n",
                "not an IP address or host name",
            ),
            (b"1.2.3\n1234\nabcd\n10\n", "not an IP address"),
            (b"a b\n1234\nabcd\n10\n", "not an IP address"),
            (b"-bad\n1234\nabcd\n10\n", "not an IP address"),
            (b"h\xff\n1234\nabcd\n10\n", "not an IP address"),
            (b"1.1.1.1\n0\nabcd\n10\n", "port"),
            (b"1.1.1.1\n65536\nabcd\n10\n", "port"),
            (b"1.1.1.1\n-80\nabcd\n10\n", "port"),
            (b"1.1.1.1\n0x50\nabcd\n10\n", "port"),
            (b"1.1.1.1\n80 81\nabcd\n10\n", "port"),
            (b"1.1.1.1\n99999999999999999999\nabcd\n10\n", "port"),
            (b"1.1.1.1\n80\nabcd\n2147483648\n", "proj id"),
            (b"1.1.1.1\n80\nabcd\nten\n", "proj id"),
            (b"1.1.1.1\n80\nab\0cd\n1\n", "NUL"),
            (huge.as_bytes(), "5000 bytes"),
        ];
        for (bytes, why) in cases {
            let err = parse(bytes).expect_err(why);
            assert!(
                err.0.contains(why) && !err.0.contains('\n') && err.0.len() < 200,
                "{}: {err}",
                bytes.escape_ascii()
            );
        }
        let long = vec![b'1'; MAX_INFO_FILE_BYTES + 1];
        assert!(parse(&long).unwrap_err().0.contains("longer"));
    }

    #[test]
    fn what_our_server_writes_is_read_back() {
        let file = crate::info_file::InfoFile {
            ip: Ipv4Addr::new(10, 0, 0, 2),
            port: 65535,
            shm_pathname: "/a b/é".into(),
            shm_proj_id: -7,
        };
        let a = ok(file.render().as_bytes());
        assert_eq!(
            a,
            expected(
                Host::Ip(IpAddr::V4(file.ip)),
                65535,
                "/a b/é".as_bytes(),
                -7
            )
        );
    }
}
