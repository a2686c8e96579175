//! Generates include/globals.h, include/server.h and include/client.h with
//! cbindgen: three runs over the ffi sources with the shared cbindgen.toml,
//! each adding its own guard, includes, exclusions and C++ trailer.
//!
//! Headers are always written to `<target>/<profile>/generated-include/`.
//! ISOPROBE_HEADERS selects what happens to the committed include/:
//! - unset or `update` (what `make` does): copied there when they changed;
//! - `generate` (what CMake does): left alone, so the ctest `headers.fresh`
//!   can compare them with the generated ones;
//! - `check`: the build fails when they are stale.

use std::path::{Path, PathBuf};

/// Items that live in globals.h; the other headers include it instead.
const GLOBAL_ITEMS: &[&str] = &[
    "SHARED_MEMORY_SIZE",
    "MAXHOSTNAME",
    "ISOPROBE_STRING_CAPACITY",
    "ISOPROBE_ERROR_MESSAGE_CAPACITY",
    "IsoprobeString",
    "live_server_info",
    "isoprobe_status",
    "isoprobe_error",
];

struct Header {
    name: &'static str,
    guard: &'static str,
    sources: &'static [&'static str],
    includes: &'static [&'static str],
    include: Vec<String>,
    exclude: Vec<String>,
    after_includes: Option<&'static str>,
    trailer: &'static str,
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/isoprobe-<hash>/out.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let out = out_dir
        .ancestors()
        .nth(3)
        .unwrap()
        .join("generated-include");
    std::fs::create_dir_all(&out).unwrap();
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/cxx");
    println!("cargo:rerun-if-env-changed=ISOPROBE_HEADERS");

    let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let headers = [
        Header {
            name: "globals.h",
            guard: "ISOPROBE_GLOBALS_H",
            sources: &["src/ffi/types.rs", "src/ffi/string.rs", "src/ffi/error.rs"],
            includes: &[],
            include: owned(GLOBAL_ITEMS),
            exclude: owned(&["server_setup_information"]),
            after_includes: Some("src/cxx/globals.after_includes.h"),
            trailer: "src/cxx/globals.trailer.h",
        },
        Header {
            name: "server.h",
            guard: "ISOPROBE_SERVER_H",
            sources: &["src/ffi/types.rs", "src/ffi/server.rs"],
            includes: &["globals.h"],
            include: owned(&["server_setup_information"]),
            exclude: owned(GLOBAL_ITEMS),
            after_includes: None,
            trailer: "src/cxx/server.trailer.h",
        },
        Header {
            name: "client.h",
            guard: "ISOPROBE_CLIENT_H",
            sources: &["src/ffi/client.rs"],
            includes: &["globals.h"],
            include: Vec::new(),
            exclude: owned(GLOBAL_ITEMS),
            after_includes: None,
            trailer: "src/cxx/client.trailer.h",
        },
    ];

    let mode = std::env::var("ISOPROBE_HEADERS").unwrap_or_else(|_| "update".into());
    let mut stale = Vec::new();
    for h in headers {
        let generated = generate(&root, &h);
        std::fs::write(out.join(h.name), &generated).unwrap();
        let committed = root.join("include").join(h.name);
        if std::fs::read_to_string(&committed).ok().as_deref() == Some(generated.as_str()) {
            continue;
        }
        match mode.as_str() {
            "check" => stale.push(h.name),
            "generate" => {}
            _ => {
                std::fs::create_dir_all(root.join("include")).unwrap();
                std::fs::write(&committed, &generated).unwrap();
            }
        }
    }
    if !stale.is_empty() {
        panic!(
            "committed headers are stale: {} (run `make` and commit include/)",
            stale.join(", ")
        );
    }
}

fn read(root: &Path, rel: &str) -> String {
    println!("cargo:rerun-if-changed={rel}");
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn generate(root: &Path, h: &Header) -> String {
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    config.include_guard = Some(h.guard.to_string());
    config.includes = h.includes.iter().map(|s| s.to_string()).collect();
    config.export.include = h.include.clone();
    config.export.exclude = h.exclude.clone();
    config.after_includes = h.after_includes.map(|p| read(root, p));
    config.trailer = Some(read(root, h.trailer));
    let mut builder = cbindgen::Builder::new().with_config(config);
    for src in h.sources {
        builder = builder.with_src(root.join(src));
    }
    let bindings = builder
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen for {}: {e}", h.name));
    let mut buf = Vec::new();
    bindings.write(&mut buf);
    String::from_utf8(buf).unwrap()
}
