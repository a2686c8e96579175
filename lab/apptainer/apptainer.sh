#!/usr/bin/env bash
# apptainer.sh ROOT [--as USER] [--bind PATH]... -- APPTAINER_ARGS...
#
# Runs Apptainer from the private Debian unstable root ROOT (built by
# prepare.sh) on this Debian 12 machine, whose own libc is too old for it.
# Apptainer refuses a plain chroot ("weak chrooted environment"), so ROOT
# becomes / of a new mount namespace through bubblewrap; every other
# namespace (IPC, network, pid, hostname) stays the caller's, as it would for
# an Apptainer installed on the machine:
#   - /dev, /proc, /sys and /tmp are the caller's;
#   - /etc/hosts is the caller's (the lab's hostname must resolve the same
#     inside), so is every PATH given with --bind (build trees, images);
#   - --as USER (as root only) runs it as that user, in Apptainer's
#     unprivileged user-namespace mode; USER must exist in ROOT/etc/passwd.
# APPTAINER_* variables pass through (e.g. APPTAINER_TMPDIR).
set -euo pipefail

root=${1:?usage: apptainer.sh ROOT [--as USER] [--bind PATH]... -- APPTAINER_ARGS...}
shift
as=() binds=()
while (($#)); do
    case $1 in
        --as)
            as=(setpriv --reuid="$2" --regid="$(id -gn "$2")" --clear-groups)
            shift
            ;;
        --bind) binds+=(--bind "$2" "$2"); shift ;;
        --) shift; break ;;
        *) printf 'apptainer.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$root/usr/bin/apptainer" ] || { printf 'apptainer.sh: no apptainer in %s (run lab/apptainer/prepare.sh)\n' "$root" >&2; exit 77; }
# An unprivileged bwrap cannot create mount points in the root-owned ROOT,
# nor pass through those a bwrap run as root made (mode 0700): make them
# while still root, searchable by all (empty directories, harmless to keep).
mount_point() {
    local d=$root
    local IFS=/
    for part in $1; do
        [ -n "$part" ] || continue
        d+=/$part
        [ -d "$d" ] || mkdir "$d" 2>/dev/null || [ -d "$d" ] || return 0
        [ -n "$(find "$d" -maxdepth 0 -perm -o=x)" ] || chmod o+rx "$d" 2>/dev/null || return 0
    done
}
if [ "$(id -u)" = 0 ]; then
    for ((i = 1; i < ${#binds[@]}; i += 3)); do
        [ ! -d "${binds[i]}" ] || mount_point "${binds[i]}"
    done
fi

# --die-with-parent: if whoever started us dies, so does the whole tree.
exec "${as[@]}" bwrap --bind "$root" / --dev-bind /dev /dev --bind /proc /proc --bind /sys /sys \
    --bind /tmp /tmp --ro-bind /etc/hosts /etc/hosts "${binds[@]}" --die-with-parent \
    -- /usr/bin/apptainer "$@"
