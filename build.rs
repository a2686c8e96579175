//! Generates include/globals.h, include/server.h and include/client.h with
//! cbindgen: three runs over the ffi sources with the shared cbindgen.toml,
//! each adding its own guard, includes, exclusions and C++ parts from
//! src/cxx/ (the C++ face of `isoprobe_string`, and each header's trailer).
//!
//! Output folder: `$ISOPROBE_GENERATED_INCLUDE_DIR` when set (CMake sets it
//! to `<cargo target dir>/generated-include`), else
//! `<CARGO_MANIFEST_DIR>/target/generated-include`. Headers are always
//! written there; ISOPROBE_HEADERS selects what happens to the committed
//! include/:
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

/// Types every header names through their typedef. cbindgen writes
/// `struct X` / `enum X` only for the types it emits in the same run, so
/// without this the same type would read differently in different headers.
const TYPEDEF_NAMES: &[&str] = &[
    "isoprobe_string",
    "live_server_info",
    "isoprobe_error",
    "isoprobe_status",
    "server_setup_information",
];

/// The C++ members of `isoprobe_string`: `(Rust name, pre_body, body)`.
const STRING_CXX: (&str, &str, &str) = (
    "IsoprobeString",
    "src/cxx/isoprobe_string.pre_body.h",
    "src/cxx/isoprobe_string.body.h",
);

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = output_dir(&root);
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/cxx");
    println!("cargo:rerun-if-env-changed=ISOPROBE_HEADERS");

    let mode = std::env::var("ISOPROBE_HEADERS").unwrap_or_else(|_| "update".into());
    let mut stale = Vec::new();
    for h in headers() {
        let generated = generate(&root, &h);
        write(&out.join(h.name), &generated);
        let committed = root.join("include").join(h.name);
        if std::fs::read_to_string(&committed).ok().as_deref() == Some(generated.as_str()) {
            continue;
        }
        match mode.as_str() {
            "check" => stale.push(h.name),
            "generate" => {}
            _ => write(&committed, &generated),
        }
    }
    if !stale.is_empty() {
        panic!(
            "committed headers are stale: {} (run `make` and commit include/)",
            stale.join(", ")
        );
    }
}

/// Where the generated headers go, without guessing Cargo's layout of its
/// target directory.
fn output_dir(root: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=ISOPROBE_GENERATED_INCLUDE_DIR");
    match std::env::var_os("ISOPROBE_GENERATED_INCLUDE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => root.join("target").join("generated-include"),
    }
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn headers() -> [Header; 3] {
    let owned = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [
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
    ]
}

/// The version macros of globals.h, from Cargo.toml's `package.version`.
fn version_macros() -> String {
    let part = |name: &str| std::env::var(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    format!(
        "\n/** isoprobe's version (package.version in Cargo.toml). */\n\
         #define ISOPROBE_VERSION_MAJOR {}\n\
         #define ISOPROBE_VERSION_MINOR {}\n\
         #define ISOPROBE_VERSION_PATCH {}\n\
         #define ISOPROBE_VERSION_STRING \"{}\"\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
        part("CARGO_PKG_VERSION"),
    )
}

/// Spells each type of `TYPEDEF_NAMES` by its typedef name outside its own
/// `typedef struct X {` / `typedef enum X {` line.
fn plain_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut line = line.to_string();
        if !line.trim_start().starts_with("typedef ") {
            for name in TYPEDEF_NAMES {
                for tag in ["struct", "enum"] {
                    line = line.replace(&format!("{tag} {name}"), name);
                }
            }
        }
        out.push_str(&line);
    }
    out
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
    // Only globals.h has after_includes: the version macros go there.
    config.after_includes = h.after_includes.map(|p| read(root, p) + &version_macros());
    config.trailer = Some(read(root, h.trailer));
    let (string_type, pre_body, body) = STRING_CXX;
    config
        .export
        .pre_body
        .insert(string_type.to_string(), read(root, pre_body));
    config
        .export
        .body
        .insert(string_type.to_string(), read(root, body));
    let mut builder = cbindgen::Builder::new().with_config(config);
    for src in h.sources {
        builder = builder.with_src(root.join(src));
    }
    let bindings = builder
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen for {}: {e}", h.name));
    let mut buf = Vec::new();
    bindings.write(&mut buf);
    plain_type_names(&String::from_utf8(buf).expect("cbindgen writes UTF-8"))
}
