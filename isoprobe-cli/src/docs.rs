//! Man pages (clap_mangen) and shell completions (clap_complete) written from
//! the programs' clap definitions, so they cannot drift from `--help`. The
//! files are laid out under one directory as they are installed below
//! `share/`.

use crate::args::{client_command, server_command, CLIENT_EXIT_STATUS, SERVER_EXIT_STATUS};
use clap_complete::Shell;
use clap_mangen::roff::{roman, Roff};
use clap_mangen::Man;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where each kind of file goes, relative to `share/`.
pub const MAN_DIR: &str = "man/man1";
/// bash-completion loads `completions/NAME` when NAME is first completed.
pub const BASH_DIR: &str = "bash-completion/completions";
/// On zsh's default `fpath` for packages.
pub const ZSH_DIR: &str = "zsh/site-functions";
/// Where fish looks for completions shipped by packages.
pub const FISH_DIR: &str = "fish/vendor_completions.d";

/// The man page of `cmd`, with its exit statuses as an EXIT STATUS section
/// (clap_mangen would put `after_help` under a section named EXTRA).
pub fn man_page(cmd: clap::Command, exit_status: &str) -> io::Result<Vec<u8>> {
    let man = Man::new(cmd);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let status = exit_status
        .strip_prefix("Exit status: ")
        .unwrap_or(exit_status)
        .replace('\n', " ");
    Roff::default()
        .control("SH", ["EXIT STATUS"])
        .text([roman(status)])
        .to_writer(&mut out)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// The file name each shell's loader looks for.
fn completion_path(shell: Shell, name: &str) -> PathBuf {
    match shell {
        Shell::Bash => Path::new(BASH_DIR).join(name),
        Shell::Zsh => Path::new(ZSH_DIR).join(format!("_{name}")),
        Shell::Fish => Path::new(FISH_DIR).join(format!("{name}.fish")),
        other => PathBuf::from(format!("{other}")).join(name),
    }
}

fn write(out: &Path, relative: &Path, bytes: &[u8], written: &mut Vec<PathBuf>) -> io::Result<()> {
    let path = out.join(relative);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| with_path("mkdir", dir, e))?;
    }
    fs::write(&path, bytes).map_err(|e| with_path("write", &path, e))?;
    written.push(path);
    Ok(())
}

fn with_path(call: &str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{call} {}: {e}", path.display()))
}

/// Writes both programs' man pages and bash, zsh and fish completions under
/// `out`; returns the files written.
pub fn write_all(out: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let programs = [
        (server_command(), SERVER_EXIT_STATUS),
        (client_command(), CLIENT_EXIT_STATUS),
    ];
    for (cmd, exit_status) in programs {
        let name = cmd.get_name().to_owned();
        let page = man_page(cmd.clone(), exit_status)?;
        let man_path = Path::new(MAN_DIR).join(format!("{name}.1"));
        write(out, &man_path, &page, &mut written)?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), &name, &mut script);
            write(out, &completion_path(shell, &name), &script, &mut written)?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_have_the_flags_and_the_exit_status() {
        let page = man_page(server_command(), SERVER_EXIT_STATUS).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("\n.TH isoprobe-server 1 "), "{page}");
        assert!(page.contains("\\-\\-accept\\-timeout"), "{page}");
        assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
        assert!(page.contains("2 on a usage"), "{page}");
        assert!(!page.contains("EXTRA"), "{page}");
    }

    #[test]
    fn every_file_is_written_where_it_is_installed() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_all(dir.path()).unwrap();
        let relative: Vec<_> = files
            .iter()
            .map(|f| {
                f.strip_prefix(dir.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        for name in ["isoprobe-server", "isoprobe-client"] {
            for want in [
                format!("man/man1/{name}.1"),
                format!("bash-completion/completions/{name}"),
                format!("zsh/site-functions/_{name}"),
                format!("fish/vendor_completions.d/{name}.fish"),
            ] {
                assert!(relative.contains(&want), "{want} not in {relative:?}");
            }
        }
        let fish =
            fs::read_to_string(dir.path().join(FISH_DIR).join("isoprobe-client.fish")).unwrap();
        assert!(fish.contains("-l explain"), "{fish}");
        let bash = fs::read_to_string(dir.path().join(BASH_DIR).join("isoprobe-server")).unwrap();
        assert!(bash.contains("--shm-path"), "{bash}");
    }
}
