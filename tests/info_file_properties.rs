//! Randomised property test of the info-file parser: a small deterministic
//! PRNG generates valid files and mutations of them (bit flips, insertions,
//! deletions, swapped and duplicated lines, tricky tokens in each field), and
//! for every input checks that
//! - `parse` never panics,
//! - every valid file round-trips (`parse(render(f)) == f`),
//! - every accepted input is canonical (`render(parse(b)) == b`), so two
//!   spellings of one server can never both be accepted,
//! - every refusal is one non-empty line (it becomes one warning line).
//!
//! No dependency: the PRNG is xorshift64*, seeded with fixed values so a
//! failure reproduces; ISOPROBE_PROPTEST_CASES raises the case count.

use isoprobe::info_file::{InfoFile, MAX_INFO_FILE_BYTES};
use std::net::Ipv4Addr;
use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;
use common::{cases, XorShift};

/// Characters a path may hold: printable ASCII (with spaces), a few
/// multi-byte UTF-8 characters, tabs.
fn path_char(rng: &mut XorShift) -> char {
    match rng.below(10) {
        0 => *rng.pick(&['é', 'ß', '日', '🦀', '\t', ' ']),
        _ => (b' ' + rng.below(95) as u8) as char,
    }
}

fn valid_file(rng: &mut XorShift) -> InfoFile {
    let ip = if rng.chance(4) {
        *rng.pick(&[
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(1, 1, 1, 1),
        ])
    } else {
        Ipv4Addr::from(rng.next() as u32)
    };
    let port = match rng.below(4) {
        0 => *rng.pick(&[1u16, 65535, 80, 1234]),
        _ => 1 + (rng.next() % 65535) as u16,
    };
    let max_len = if rng.chance(20) { 3000 } else { 40 };
    let len = 1 + rng.below(max_len);
    let shm_pathname: String = (0..len).map(|_| path_char(rng)).collect();
    let shm_proj_id = loop {
        let id = match rng.below(3) {
            0 => *rng.pick(&[1, 10, 255, -1, 257, i32::MAX, i32::MIN + 1]),
            1 => rng.below(300) as i32 - 50,
            _ => rng.next() as i32,
        };
        if id & 0xff != 0 {
            break id;
        }
    };
    InfoFile {
        ip,
        port,
        shm_pathname,
        shm_proj_id,
    }
}

/// Tokens that look almost like a field: signs, leading zeros, spaces,
/// other bases, out-of-range values, other address families.
const TRICKY: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "+1",
    "01",
    "001234",
    "1 ",
    " 1",
    "0x10",
    "1e3",
    "65535",
    "65536",
    "70000",
    "-1",
    "4294967296",
    "2147483648",
    "-2147483649",
    "abc",
    "::1",
    "localhost",
    "999.1.1.1",
    "1.1.1",
    "1.1.1.1.1",
    "01.2.3.4",
    "1.2.3.04",
    "256.0.0.1",
    "1.2.3.4 ",
    "0.0.0.0",
    "255.255.255.255",
    "\u{0660}",
    "１２３",
];

fn mutate(rng: &mut XorShift, valid: &[u8]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for _ in 0..1 + rng.below(3) {
        match rng.below(11) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(b.len() + 1);
                let byte = *rng.pick(&[b'\n', b'\r', 0, b' ', b'0', b'+', b'-', 0xff, b'.']);
                b.insert(i, byte);
            }
            2 if !b.is_empty() => {
                b.remove(rng.below(b.len()));
            }
            3 => b.truncate(rng.below(b.len() + 1)),
            4 => {
                let n = rng.below(64);
                b.extend((0..n).map(|_| rng.next() as u8));
            }
            5..=7 => {
                // Replace one field with a tricky token.
                let text = String::from_utf8_lossy(&b).into_owned();
                let mut lines: Vec<&str> = text.split('\n').collect();
                let i = rng.below(lines.len());
                lines[i] = *rng.pick(TRICKY);
                b = lines.join("\n").into_bytes();
            }
            8 => {
                // Duplicate or swap lines.
                let text = String::from_utf8_lossy(&b).into_owned();
                let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                if rng.chance(2) {
                    lines.swap(i, j);
                } else {
                    let dup = lines[i].clone();
                    lines.insert(j, dup);
                }
                b = lines.join("\n").into_bytes();
            }
            9 => {
                // CRLF line ends.
                let text = String::from_utf8_lossy(&b).replace('\n', "\r\n");
                b = text.into_bytes();
            }
            _ => {
                // Grow to around the size bound.
                let target = MAX_INFO_FILE_BYTES - 2 + rng.below(5);
                b.resize(target.max(b.len()), *rng.pick(b"a\n1"));
            }
        }
    }
    b
}

fn check(input: &[u8]) {
    let outcome = catch_unwind(AssertUnwindSafe(|| InfoFile::parse(input)));
    let Ok(parsed) = outcome else {
        panic!(
            "parse panicked on {:?}",
            String::from_utf8_lossy(&input[..input.len().min(200)])
        );
    };
    match parsed {
        Ok(info) => assert_eq!(
            info.render().as_bytes(),
            input,
            "accepted a non-canonical file: {:?} is rendered back as {:?}",
            String::from_utf8_lossy(input),
            info.render()
        ),
        Err(reason) => {
            assert!(!reason.0.is_empty(), "empty reason for {input:?}");
            assert!(
                !reason.0.contains('\n') && !reason.0.contains('\r'),
                "reason is not one line: {:?}",
                reason.0
            );
        }
    }
}

#[test]
fn valid_files_round_trip() {
    let mut rng = XorShift::new(0x1503_9e7f_0001);
    for _ in 0..cases() {
        let info = valid_file(&mut rng);
        let text = info.render();
        assert_eq!(
            InfoFile::parse(text.as_bytes()),
            Ok(info.clone()),
            "{text:?}"
        );
        check(text.as_bytes());
    }
}

#[test]
fn mutated_files_never_panic_and_acceptance_is_canonical() {
    let mut rng = XorShift::new(0x1503_9e7f_0002);
    let mut accepted = 0usize;
    let n = cases();
    for _ in 0..n {
        let valid = valid_file(&mut rng).render().into_bytes();
        let input = mutate(&mut rng, &valid);
        check(&input);
        accepted += usize::from(InfoFile::parse(&input).is_ok());
    }
    // The mutations must exercise both outcomes, or the test proves little.
    assert!(
        accepted > n / 100,
        "only {accepted} of {n} mutants accepted"
    );
    assert!(accepted < n * 9 / 10, "{accepted} of {n} mutants accepted");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift::new(0x1503_9e7f_0003);
    for _ in 0..cases() {
        let max_len = if rng.chance(50) {
            MAX_INFO_FILE_BYTES + 10
        } else {
            64
        };
        let len = rng.below(max_len);
        let alphabet: &[u8] = if rng.chance(2) {
            b"0123456789.\n-+ abc\r:"
        } else {
            &[]
        };
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if alphabet.is_empty() {
                    rng.next() as u8
                } else {
                    *rng.pick(alphabet)
                }
            })
            .collect();
        check(&bytes);
    }
}

#[test]
fn known_non_canonical_spellings_are_refused() {
    for text in [
        "1.1.1.1\n+1234\nabcd\n10\n",
        "1.1.1.1\n01234\nabcd\n10\n",
        "1.1.1.1\n1234\nabcd\n+10\n",
        "1.1.1.1\n1234\nabcd\n010\n",
        "1.1.1.1\n1234\nabcd\n-010\n",
        "01.1.1.1\n1234\nabcd\n10\n",
    ] {
        assert!(InfoFile::parse(text.as_bytes()).is_err(), "{text:?}");
    }
}
