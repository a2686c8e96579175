//! Bad server input through the Rust API: every case is an `Err` naming the
//! failed call (or a plain reason for a refused argument), and afterwards no
//! segment exists under the server's key and its info directory is empty.

use isoprobe::server::{self, RunOutcome, Server, Setup, Timeouts};
use isoprobe::Error;
use std::ffi::CString;
use std::time::Duration;

struct TempDir(String);

impl TempDir {
    fn new() -> TempDir {
        let template = format!(
            "{}/isoprobe-rs-faults-XXXXXX",
            std::env::temp_dir().display()
        );
        let mut buf = CString::new(template).unwrap().into_bytes_with_nul();
        // SAFETY: buf is a writable NUL-terminated template.
        assert!(!unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) }.is_null());
        buf.pop();
        TempDir(String::from_utf8(buf).unwrap())
    }
    fn path(&self) -> &str {
        &self.0
    }
    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup(dir: &TempDir, proj: i32) -> Setup {
    Setup {
        port: 0,
        shm_pathname: dir.path().into(),
        shm_proj_id: proj,
        info_file_name: "srv".into(),
        info_file_directory: dir.path().into(),
    }
}

/// True when a segment exists under ftok(path, proj).
fn segment_exists(path: &str, proj: i32) -> bool {
    let cpath = CString::new(path).unwrap();
    // SAFETY: plain calls; no IPC_CREAT, so nothing is created.
    unsafe {
        let key = libc::ftok(cpath.as_ptr(), proj);
        key != -1 && libc::shmget(key, 0, 0) != -1
    }
}

fn quick() -> Timeouts {
    Timeouts {
        accept: Duration::from_millis(20),
        peer_close: Duration::from_millis(20),
    }
}

fn assert_sys(e: Error, call: &str, errno: i32) {
    assert_eq!((e.call(), e.errno()), (Some(call), errno), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn port_in_use_is_a_bind_error_and_leaves_nothing() {
    let dir = TempDir::new();
    let blocker = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let mut s = setup(&dir, 101);
    s.port = blocker.local_addr().unwrap().port();
    assert_sys(Server::start(&s).unwrap_err(), "bind", libc::EADDRINUSE);
    assert_sys(
        server::run(&s, "a", "b", quick()).unwrap_err(),
        "bind",
        libc::EADDRINUSE,
    );
    assert!(!segment_exists(dir.path(), 101));
    assert!(dir.entries().is_empty());
}

#[test]
fn missing_info_directory_is_an_open_error_and_leaves_nothing() {
    let dir = TempDir::new();
    let mut s = setup(&dir, 102);
    s.info_file_directory = format!("{}/missing", dir.path()).into();
    let mut server = Server::start(&s).unwrap();
    assert_sys(
        server.publish_info_file(&s).unwrap_err(),
        "open",
        libc::ENOENT,
    );
    drop(server);
    assert_sys(
        server::run(&s, "a", "b", quick()).unwrap_err(),
        "open",
        libc::ENOENT,
    );
    assert!(!segment_exists(dir.path(), 102));
    assert!(dir.entries().is_empty());
}

#[test]
fn read_only_info_directory_is_an_open_error() {
    // SAFETY: plain query.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root writes into read-only directories (the C++ suite covers EROFS and EACCES)");
        return;
    }
    let dir = TempDir::new();
    let info = TempDir::new();
    std::fs::set_permissions(
        info.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .unwrap();
    let mut s = setup(&dir, 103);
    s.info_file_directory = info.path().into();
    assert_sys(
        server::run(&s, "a", "b", quick()).unwrap_err(),
        "open",
        libc::EACCES,
    );
    assert!(!segment_exists(dir.path(), 103));
    assert!(info.entries().is_empty());
}

#[test]
fn missing_shm_path_is_an_ftok_error() {
    let dir = TempDir::new();
    let mut s = setup(&dir, 104);
    s.shm_pathname = format!("{}/missing", dir.path()).into();
    assert_sys(
        server::run(&s, "a", "b", quick()).unwrap_err(),
        "ftok",
        libc::ENOENT,
    );
    assert!(dir.entries().is_empty());
}

#[test]
fn proj_ids_whose_low_byte_is_zero_are_refused_before_any_call() {
    let dir = TempDir::new();
    for proj in [0, 256, -256] {
        let e = server::run(&setup(&dir, proj), "a", "b", quick()).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{proj}: {e}");
    }
    assert!(dir.entries().is_empty());
}

#[test]
fn shm_message_at_capacity_fits_and_one_past_is_refused() {
    let dir = TempDir::new();
    let s = setup(&dir, 105);
    let server = Server::start(&s).unwrap();
    let at_capacity = "m".repeat(isoprobe::shm::SHARED_MEMORY_SIZE - 1);
    let one_past = "m".repeat(isoprobe::shm::SHARED_MEMORY_SIZE);
    server.write_shm(&at_capacity).unwrap();
    assert!(matches!(
        server.write_shm(&one_past),
        Err(Error::Invalid(_))
    ));
    drop(server);
    assert!(matches!(
        server::run(&s, &one_past, "b", quick()),
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        server::run(&s, &at_capacity, "b", quick()).unwrap(),
        RunOutcome::NoClient
    );
    assert!(!segment_exists(dir.path(), 105));
    assert!(dir.entries().is_empty());
}

#[test]
fn nul_inside_a_string_is_refused() {
    let dir = TempDir::new();
    let mut s = setup(&dir, 106);
    s.shm_pathname = format!("{}\0x", dir.path()).into();
    assert!(matches!(Server::start(&s), Err(Error::Invalid(_))));
    let mut s = setup(&dir, 106);
    s.info_file_directory = format!("{}\0x", dir.path()).into();
    assert!(matches!(
        server::run(&s, "a", "b", quick()),
        Err(Error::Invalid(_))
    ));
    let s = setup(&dir, 106);
    assert!(matches!(
        server::run(&s, "a\0b", "b", quick()),
        Err(Error::Invalid(_))
    ));
    let server = Server::start(&s).unwrap();
    assert!(matches!(server.write_shm("a\0b"), Err(Error::Invalid(_))));
    drop(server);
    assert!(!segment_exists(dir.path(), 106));
    assert!(dir.entries().is_empty());
}

#[test]
fn path_longer_than_the_kernel_takes_is_a_system_error() {
    let dir = TempDir::new();
    let mut s = setup(&dir, 107);
    s.shm_pathname = format!("{}/{}", dir.path(), "p".repeat(5000)).into();
    assert_sys(
        server::run(&s, "a", "b", quick()).unwrap_err(),
        "ftok",
        libc::ENAMETOOLONG,
    );
    assert!(dir.entries().is_empty());
}
