//! Randomised property test of the client's info-file reader (`announce`):
//! for random valid files, every spelling the world uses (CRLF, no final
//! newline, blanks around fields, blank lines around the four lines, leading
//! zeros or '+' in the port) reads as the same announcement; random bytes and
//! mutations never panic, and every refusal is one non-empty line.
//!
//! The PRNG is xorshift64*, seeded with fixed values so a failure
//! reproduces; ISOPROBE_PROPTEST_CASES sets the case count.

use isoprobe::announce::{parse, Announcement, Host};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;
use common::{cases, XorShift};

fn valid(rng: &mut XorShift) -> Announcement {
    let host = match rng.below(4) {
        0 => Host::Name(["localhost", "srv-1.example", "a_b"][rng.below(3)].into()),
        1 => Host::Ip(IpAddr::V6(Ipv6Addr::from(rng.next() as u128 * 7919))),
        _ => Host::Ip(IpAddr::V4(Ipv4Addr::from(rng.next() as u32))),
    };
    let len = 1 + rng.below(40);
    // Path bytes: anything but NUL and newline, not starting or ending blank.
    let mut shm_pathname: Vec<u8> = (0..len)
        .map(|_| match rng.next() as u8 {
            0 | b'\n' => b'x',
            b => b,
        })
        .collect();
    for end in [0, shm_pathname.len() - 1] {
        if shm_pathname[end].is_ascii_whitespace() || shm_pathname[end] == 0x0b {
            shm_pathname[end] = b'p';
        }
    }
    Announcement {
        host,
        port: 1 + rng.below(65535) as u16,
        shm_pathname,
        shm_proj_id: rng.next() as i32,
    }
}

fn spell(a: &Announcement, rng: &mut XorShift) -> Vec<u8> {
    let host = match &a.host {
        Host::Ip(IpAddr::V6(ip)) if rng.below(2) == 0 => format!("[{ip}]"),
        h => h.to_string(),
    };
    let port = match rng.below(3) {
        0 => format!("{:05}", a.port),
        1 => format!("+{}", a.port),
        _ => a.port.to_string(),
    };
    let fields: [Vec<u8>; 4] = [
        host.into_bytes(),
        port.into_bytes(),
        a.shm_pathname.clone(),
        a.shm_proj_id.to_string().into_bytes(),
    ];
    let eol: &[u8] = if rng.below(2) == 0 { b"\r\n" } else { b"\n" };
    let blanks = [&b""[..], b" ", b"\t", b" \t "];
    let mut out = Vec::new();
    for _ in 0..rng.below(3) {
        out.extend_from_slice(blanks[rng.below(4)]);
        out.extend_from_slice(eol);
    }
    for (i, f) in fields.iter().enumerate() {
        out.extend_from_slice(blanks[rng.below(4)]);
        out.extend_from_slice(f);
        out.extend_from_slice(blanks[rng.below(4)]);
        if i < 3 || rng.below(2) == 0 {
            out.extend_from_slice(eol);
        }
    }
    if out.ends_with(eol) {
        for _ in 0..rng.below(3) {
            out.extend_from_slice(eol);
        }
    }
    out
}

fn check_one_line(input: &[u8]) {
    let parsed = catch_unwind(AssertUnwindSafe(|| parse(input)))
        .unwrap_or_else(|_| panic!("parse panicked on {}", input.escape_ascii()));
    if let Err(reason) = parsed {
        assert!(
            !reason.0.is_empty() && !reason.0.contains(['\n', '\r']),
            "{reason:?}"
        );
    }
}

#[test]
fn every_spelling_reads_as_the_same_announcement() {
    let mut rng = XorShift(0x1503_9e7f_0011);
    for _ in 0..cases() {
        let a = valid(&mut rng);
        let text = spell(&a, &mut rng);
        assert_eq!(parse(&text).as_ref(), Ok(&a), "{}", text.escape_ascii());
    }
}

#[test]
fn mutations_and_random_bytes_never_panic() {
    let mut rng = XorShift(0x1503_9e7f_0012);
    for _ in 0..cases() {
        let a = valid(&mut rng);
        let mut b = spell(&a, &mut rng);
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(b.len() + 1);
            match rng.below(3) {
                0 if i < b.len() => b[i] ^= 1 << rng.below(8),
                1 => b.insert(i, [b'\n', 0, b'-', 0xff, b' '][rng.below(5)]),
                _ => b.truncate(i),
            }
        }
        check_one_line(&b);
        let random: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        check_one_line(&random);
    }
}
