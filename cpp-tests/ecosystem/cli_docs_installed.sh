# `cmake --install` puts the programs' man pages and bash, zsh and fish
# completions where man and the shells look for them, and they describe the
# programs' real flags.
source "$(dirname "$0")/consumer_lib.sh"

install_prefix
share="$work/prefix/share"

step "installed files"
for program in isoprobe-server isoprobe-client; do
  for f in "man/man1/$program.1" "bash-completion/completions/$program" \
           "zsh/site-functions/_$program" "fish/vendor_completions.d/$program.fish"; do
    [ -s "$share/$f" ] || fail "share/$f is not installed (or empty)"
  done
done

step "man pages"
for program in isoprobe-server isoprobe-client; do
  page="$share/man/man1/$program.1"
  grep -q "^\.TH $program 1 " "$page" || fail "$page has no .TH $program 1 header"
  grep -q '^\.SH "EXIT STATUS"' "$page" || fail "$page has no EXIT STATUS section"
done
grep -q 'accept\\-timeout' "$share/man/man1/isoprobe-server.1" || fail "the server's man page does not list --accept-timeout"
grep -q 'explain' "$share/man/man1/isoprobe-client.1" || fail "the client's man page does not list --explain"
if command -v man >/dev/null; then
  # MANPATH from the prefix alone: the page is found by name, as a user would.
  text=$(MANPATH="$work/prefix/share/man" MANWIDTH=80 man isoprobe-client 2>&1) ||
    fail "man isoprobe-client failed: $text"
  grep -q "EXIT STATUS" <<<"$text" || fail "man isoprobe-client does not render EXIT STATUS: $text"
  grep -q -- "--json" <<<"$text" || fail "man isoprobe-client does not show --json: $text"
else
  echo "man not installed: rendering not checked"
fi

step "bash completion"
# Completing "isoprobe-client --ex" offers --explain.
got=$(bash -c '
  source "$1"
  COMP_LINE="isoprobe-client --ex"; COMP_WORDS=(isoprobe-client --ex); COMP_CWORD=1; COMP_POINT=${#COMP_LINE}
  complete -p isoprobe-client >/dev/null || exit 3
  fn=$(complete -p isoprobe-client | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
  "$fn" isoprobe-client --ex isoprobe-client
  printf "%s\n" "${COMPREPLY[@]}"' _ "$share/bash-completion/completions/isoprobe-client") ||
  fail "the bash completion did not load (status $?)"
[ "$got" = "--explain" ] || fail "bash completion of 'isoprobe-client --ex' offered: $got"
got=$(bash -c '
  source "$1"
  COMP_LINE="isoprobe-server --shm-p"; COMP_WORDS=(isoprobe-server --shm-p); COMP_CWORD=1; COMP_POINT=${#COMP_LINE}
  fn=$(complete -p isoprobe-server | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
  "$fn" isoprobe-server --shm-p isoprobe-server
  printf "%s\n" "${COMPREPLY[@]}"' _ "$share/bash-completion/completions/isoprobe-server") ||
  fail "the server's bash completion did not load"
[ "$got" = "--shm-path" ] || fail "bash completion of 'isoprobe-server --shm-p' offered: $got"

step "zsh and fish completions"
grep -q '^#compdef isoprobe-client' "$share/zsh/site-functions/_isoprobe-client" || fail "_isoprobe-client is not a zsh completion"
grep -q -- '-l json' "$share/fish/vendor_completions.d/isoprobe-client.fish" || fail "the fish completion does not offer --json"
if command -v zsh >/dev/null; then
  zsh -n "$share/zsh/site-functions/_isoprobe-server" || fail "_isoprobe-server is not valid zsh"
else
  echo "zsh not installed: syntax not checked"
fi
if command -v fish >/dev/null; then
  fish -n "$share/fish/vendor_completions.d/isoprobe-server.fish" || fail "isoprobe-server.fish is not valid fish"
else
  echo "fish not installed: syntax not checked"
fi
echo "PASS"
