//! Helpers for unit tests only.

/// A temporary directory (tempfile's, removed with its contents on drop)
/// whose path the tests use as text: the library takes paths as strings.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix("isoprobe-test-")
            .tempdir()
            .expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0
            .path()
            .to_str()
            .expect("the temporary directory's path is UTF-8")
    }
}
