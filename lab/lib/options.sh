# shellcheck shell=bash
# lab/lib/options.sh: lab/run's command line. Sourced.

usage() {
    cat <<EOF2
usage: lab/run [OPTIONS] KIND:COUNT...     KIND = host | container | apptainer | vm
  e.g. lab/run --build-dir build/demo host:1 container:1 apptainer:1 vm:1

Options:
  --build-dir DIR     CMake build directory holding cpp-tests/course_server,
                      course_client, course_server_static
                      (default: \$ISOPROBE_BUILD_DIR, else <repo>/build/demo)
  --client-arg ARG    an argument given to the client before the directory
                      (repeatable); then only the last 5 lines of its output
                      must be the summary, e.g. --client <build>/cargo/release/
                      isoprobe-client --client-arg --explain
  --server PATH, --client PATH, --static-server PATH
                      the programs themselves (override --build-dir)
  --container MECH    auto (default: unshare, then bwrap) | unshare | bwrap
  --apptainer-ftok W  image (default: the ftok path is a file of the image:
                      Container) | host (a file in the lab's directory, which
                      Apptainer binds: Host, unless --apptainer-ipc)
  --apptainer-ipc     run Apptainer servers with --ipc (own IPC namespace)
  --apptainer-as USER run Apptainer servers as USER (unprivileged, Apptainer's
                      user-namespace mode; the lab must run as root)
  --vm MODE           auto (default: QEMU; the stand-in only where QEMU
                      cannot run) | qemu (QEMU or exit 77) | standin
  --cache DIR         cache of lab/vm and lab/apptainer (default:
                      \$ISOPROBE_LAB_CACHE, else <repo>/.lab-cache)
  --timeout S         wait at most S seconds for all info files
                      (default 60, 300 with VMs)
  --snapshot DIR      write what tests inspect into DIR (an existing
                      directory): record (namespaces, pids, ftok keys),
                      host-shm and NAME-shm (/proc/sysvipc/shm of the host
                      and of each isolated server's IPC namespace, taken
                      when all info files exist), client.out
  -h, --help

Exit: 0 the client's summary matches the environments started; 1 failure
or mismatch; 2 usage; 77 a required mechanism is unavailable (reason on
stderr); 130/143 interrupted (after tearing down).
EOF2
}

bad() { printf 'lab: %s\n' "$*" >&2; printf 'try: lab/run --help\n' >&2; exit 2; }
unavailable() { printf 'lab: unavailable: %s\n' "$*" >&2; exit 77; }

# add_kind KIND:COUNT
add_kind() {
    local count=${1#*:}
    [[ $count =~ ^[0-9]+$ ]] || bad "bad count in '$1' (expected KIND:NUMBER)"
    count=$((10#$count))
    case $1 in
        host:*) hosts=$((hosts + count)) ;;
        container:*) containers=$((containers + count)) ;;
        apptainer:*) apptainers=$((apptainers + count)) ;;
        vm:*) vms=$((vms + count)) ;;
    esac
}

parse_options() {
    while (($#)); do
        case $1 in
            -h | --help) usage; exit 0 ;;
            --build-dir) build_dir=${2:?}; shift ;;
            --server) server=${2:?}; shift ;;
            --client) client=${2:?}; shift ;;
            --client-arg) client_args+=("${2:?}"); shift ;;
            --static-server) static_server=${2:?}; shift ;;
            --container) container_mode=${2:?}; shift ;;
            --apptainer-ftok) apptainer_ftok=${2:?}; shift ;;
            --apptainer-ipc) apptainer_ipc=1 ;;
            --apptainer-as) apptainer_user=${2:?}; shift ;;
            --vm) vm_mode=${2:?}; shift ;;
            --cache) cache=${2:?}; shift ;;
            --timeout) timeout_s=${2:?}; shift ;;
            --snapshot) snapshot=${2:?}; shift ;;
            --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
            host:* | container:* | apptainer:* | vm:*) add_kind "$1" ;;
            *) bad "unknown argument '$1'" ;;
        esac
        shift
    done
}

check_options() {
    case $container_mode in auto | unshare | bwrap) ;; *) bad "--container must be auto, unshare or bwrap" ;; esac
    case $vm_mode in auto | qemu | standin) ;; *) bad "--vm must be auto, qemu or standin" ;; esac
    case $apptainer_ftok in image | host) ;; *) bad "--apptainer-ftok must be image or host" ;; esac
    if [ -n "$apptainer_user" ]; then
        id -u "$apptainer_user" >/dev/null 2>&1 || bad "--apptainer-as: no user '$apptainer_user'"
        [ "$(id -u)" = 0 ] || unavailable "apptainer: --apptainer-as needs root (to switch to $apptainer_user)"
    fi
    total=$((hosts + containers + apptainers + vms))
    ((total > 0)) || bad "nothing to start: give at least one KIND:COUNT"
    ((total <= 100)) || bad "at most 100 servers (proj ids and ports are numbered from 1)"
    ((vms <= 4)) || bad "at most 4 VMs (each is a QEMU with 256 MiB)"
    [ -z "$timeout_s" ] || [[ $timeout_s =~ ^[0-9]+$ ]] || bad "--timeout takes whole seconds"
    [ -n "$timeout_s" ] || { if ((vms)); then timeout_s=300; else timeout_s=60; fi; }
    if [ -n "$snapshot" ]; then
        [ -d "$snapshot" ] || bad "--snapshot $snapshot is not a directory"
        snapshot=$(cd "$snapshot" && pwd)
    fi
}

# find_programs: the server and client to run, and the tools the lab needs.
find_programs() {
    local p tool
    server=${server:-$build_dir/cpp-tests/course_server}
    client=${client:-$build_dir/cpp-tests/course_client}
    static_server=${static_server:-$build_dir/cpp-tests/course_server_static}
    for p in server client; do
        [ -x "${!p}" ] || { printf 'lab: error: %s program %s not found (build first: cmake -S . -B %s && cmake --build %s)\n' "$p" "${!p}" "$build_dir" "$build_dir" >&2; exit 1; }
        printf -v "$p" '%s' "$(readlink -f "${!p}")"
    done
    for tool in unshare ip inotifywait setsid nsenter awk; do
        command -v "$tool" >/dev/null || unavailable "'$tool' not found (scripts/setup.sh installs util-linux, iproute2, inotify-tools)"
    done
}
