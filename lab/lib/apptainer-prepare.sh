# shellcheck shell=bash
# lab/lib/apptainer-prepare.sh: before the namespaces (preparation
# downloads): lab/apptainer/prepare.sh and the course image, built once per
# server binary, both under a lock. Sets apptainer_unavailable (empty when
# Apptainer can run), apptainer_root and apptainer_sif. Sourced.

# apptainer_course_sif: the image holding this build's course_server
# (lab/apptainer/course.def), cached by the server binary, the definition,
# the base root and Apptainer's version.
apptainer_course_sif() {
    local ac=$cache/apptainer h err
    h=$(cat "$server" "$labsrc/apptainer/course.def" "$ac/course-root/.complete" "$ac/version" | sha256sum | cut -c1-16)
    apptainer_sif=$ac/sif/course-$h.sif
    if [ -s "$apptainer_sif" ]; then
        touch "$apptainer_sif"
        return 0
    fi
    mkdir -p "$ac/sif"
    # Others not used for a day are stale builds.
    find "$ac/sif" -name 'course-*.sif' -mmin +1440 -delete 2>/dev/null
    local t0=$EPOCHREALTIME
    if ! err=$("$labsrc/apptainer/build-sif.sh" "$ac" "$labsrc/apptainer/course.def" "$apptainer_sif" \
        base="$ac/course-root" server="$server" 2>&1); then
        apptainer_unavailable="building the course image failed: $(tail -n1 <<<"$err")"
        return 0
    fi
    printf 'lab: apptainer: built the course image %s in %s s\n' "$apptainer_sif" "$(elapsed "$t0")"
}

# apptainer_prepare_locked: runs under the cache's Apptainer lock.
apptainer_prepare_locked() {
    local prep_out prep_rc=0
    prep_out=$("$labsrc/apptainer/prepare.sh" "$cache" 2>&1) || prep_rc=$?
    grep -E '^apptainer-prepare: .*(mmdebstrap|: ready \(|image: built )' <<<"$prep_out" | sed 's/^apptainer-prepare: /lab: apptainer: /'
    if [ "$prep_rc" != 0 ]; then
        apptainer_unavailable=$(grep -v '^apptainer-prepare:' <<<"$prep_out" | tail -n1)
        apptainer_unavailable=${apptainer_unavailable#prepare.sh: unavailable: }
        apptainer_unavailable=${apptainer_unavailable:-lab/apptainer/prepare.sh exit $prep_rc}
        return 0
    fi
    apptainer_course_sif
}

apptainer_prepare() {
    mkdir -p "$cache/apptainer" 2>/dev/null && [ -w "$cache/apptainer" ] \
        || unavailable "apptainer: the cache $cache/apptainer is not writable"
    cache=$(cd "$cache" && pwd)
    apptainer_root=$cache/apptainer/sid
    # Concurrent labs (ctest -j) share the cache: one prepares at a time.
    exec {lockfd}>"$cache/.apptainer.lock"
    flock "$lockfd"
    apptainer_prepare_locked
    exec {lockfd}>&-
    [ -z "$apptainer_unavailable" ] || unavailable "apptainer: $apptainer_unavailable"
    # Unprivileged, the user must reach the root and the image on its own.
    if [ -n "$apptainer_user" ] && ! setpriv --reuid="$apptainer_user" --regid="$(id -gn "$apptainer_user")" \
        --clear-groups test -x "$apptainer_root/usr/bin/apptainer" -a -r "$apptainer_sif"; then
        unavailable "apptainer: user $apptainer_user cannot reach $apptainer_root or $apptainer_sif (a parent directory is not searchable)"
    fi
}
