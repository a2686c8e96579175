//! `isoprobe-docgen OUT`: writes the man pages and the bash, zsh and fish
//! completions of isoprobe-server and isoprobe-client under OUT, laid out as
//! they are installed (`man/man1`, `bash-completion/completions`,
//! `zsh/site-functions`, `fish/vendor_completions.d`). The build runs it;
//! it is not installed.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: isoprobe-docgen OUT");
        return ExitCode::from(isoprobe_cli::usage::USAGE_EXIT);
    };
    match isoprobe_cli::docs::write_all(&PathBuf::from(out)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("isoprobe-docgen: {e}");
            ExitCode::FAILURE
        }
    }
}
