//! Bad server input through the Rust API: every case is an `Err` naming the
//! failed call (or a plain reason for a refused argument), and afterwards no
//! segment exists under the server's key and its info directory is empty.

use isoprobe::server::{self, RunOutcome, Server, Setup, Timeouts};
use isoprobe::Error;
use std::ffi::CString;
use std::time::Duration;

/// A temporary directory (tempfile's, removed with its contents on drop)
/// whose path the tests use as text, as `Setup` takes it.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new() -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix("isoprobe-rs-faults-")
            .tempdir()
            .expect("create a temporary directory");
        TempDir(dir)
    }
    fn path(&self) -> &str {
        self.0.path().to_str().expect("temp dir path is UTF-8")
    }
    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
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

/// uid and gid of the unprivileged user `nobody` (Debian and most Linux
/// systems).
const NOBODY: u32 = 65534;

/// Runs the test `name` of this binary again, as `nobody`, and checks that
/// it ran and passed. The binary is copied to a directory under /tmp first:
/// its own directory (a checkout under /root, say) may be closed to nobody.
fn rerun_as_nobody(name: &str) {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let copy_dir = tempfile::Builder::new()
        .prefix("isoprobe-as-nobody-")
        .tempdir_in("/tmp")
        .expect("create a directory for the copy");
    std::fs::set_permissions(copy_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = copy_dir.path().join("server_bad_input");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).expect("copy the test binary");
    let out = std::process::Command::new(&exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("TMPDIR", "/tmp")
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("run the test binary as nobody");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "as nobody: {stdout}{stderr}");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the test did not run as nobody: {stdout}{stderr}"
    );
}

#[test]
fn read_only_info_directory_is_an_open_error() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // Root writes into a read-only directory anyway (CAP_DAC_OVERRIDE),
        // so the case runs in a process of an unprivileged user.
        return rerun_as_nobody("read_only_info_directory_is_an_open_error");
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
