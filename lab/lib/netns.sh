# shellcheck shell=bash
# lab/lib/netns.sh: the lab's own network namespace. Hard rule: nothing may
# leave the machine. Sourced.

# The address host and container servers announce: the lab's hostname
# resolves to it (a bind-mounted /etc/hosts) and it sits on the lab's veth.
# 198.18.0.0/15 is reserved for benchmark networks; it never leaves the
# namespace because the namespace has no route to anywhere.
LAB_MACHINE_IP=198.18.0.1
LAB_HOSTNAME=isoprobe-lab
# The VM stand-in announces the address a QEMU user-net guest would.
LAB_GUEST_IP=10.0.2.15

# netns_refuse_foreign: exits unless this is a fresh network namespace of
# our own with nothing but lo in it.
netns_refuse_foreign() {
    local links
    if [ "$(readlink /proc/self/ns/net)" = "$LAB_OUTER_NETNS" ]; then
        warn "error: refusing to run: still in the caller's network namespace ($LAB_OUTER_NETNS)"
        exit 1
    fi
    links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
    if [ "$links" != "lo " ]; then
        warn "error: refusing to run: a fresh network namespace has only lo, this one has: $links"
        exit 1
    fi
}

# netns_setup: lo, the machine address (on a veth, else on lo), the check
# that no route leaves, and a hostname that resolves to the address. Prints
# the lab's first line.
netns_setup() {
    local netns addr_on naming
    netns=$(readlink /proc/self/ns/net)
    netns_refuse_foreign
    ip link set lo up || exit 1
    if ip link add lab0 type veth peer name lab0-peer 2>/dev/null \
        && ip link set lab0-peer up && ip link set lab0 up \
        && ip addr add "$LAB_MACHINE_IP/32" dev lab0; then
        addr_on="veth lab0"
    else
        ip link del lab0 2>/dev/null
        ip addr add "$LAB_MACHINE_IP/32" dev lo || exit 1
        addr_on="lo (no veth support here)"
    fi
    if [ -n "$(ip route show default)" ] || ip route get "$LAB_GUEST_IP" >/dev/null 2>&1; then
        warn "error: refusing to run: the lab's namespace has a route off the machine: $(ip route)"
        exit 1
    fi
    # The library announces the address its hostname resolves to when that
    # address is local: give the lab a hostname that resolves to the veth
    # address, so host and container servers announce a machine address
    # (not 127.0.0.1) on every machine, without DNS.
    naming="hostname $LAB_HOSTNAME -> $LAB_MACHINE_IP"
    printf '127.0.0.1 localhost\n%s %s\n' "$LAB_MACHINE_IP" "$LAB_HOSTNAME" >"$LAB_DIR/hosts"
    # sethostname(2) (the hostname tool) works in a user namespace's UTS
    # namespace, where /proc/sys/kernel/hostname is not writable.
    if ! { { hostname "$LAB_HOSTNAME" || printf '%s' "$LAB_HOSTNAME" >/proc/sys/kernel/hostname; } \
        && mount --bind "$LAB_DIR/hosts" /etc/hosts; } 2>/dev/null; then
        naming="hostname $(hostname) kept (no private UTS/mount namespace): servers pick their own address"
    fi
    say "lab: network namespace $netns via $LAB_NS_HOW; lo + $LAB_MACHINE_IP/32 on $addr_on; $naming; no route off the machine"
}
