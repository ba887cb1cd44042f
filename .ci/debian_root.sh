#!/usr/bin/env bash
# A Debian root (chroot) for CI, for the Pythons this host's Debian does not have.
#
#   .ci/debian_root.sh SUITE DIR PACKAGE...   make DIR a minbase root of SUITE (trixie or
#                                             forky) with PACKAGE... installed; a DIR that
#                                             has DIR/.ready-SUITE is reused as it is
#                                             (packages it lacks are added)
#   .ci/debian_root.sh run DIR COMMAND...     run COMMAND inside DIR, in this checkout
#
# Run as root on a Debian 12 or 13 host. On failure: one line on stderr,
# "error: debian_root: <what could not be had>", exit status 1; the details are in
# DIR/.debian_root.log. A run that failed after debootstrap (DIR/.bootstrapped-SUITE) goes
# on from there; one that failed earlier starts again. Every network step runs under
# `timeout` (limits below, a few times what each takes here), so a stalled mirror ends in
# that line, not a hang.
#
# `run` makes this checkout (the folder above .ci) and its sibling ../shared (the tests'
# shared files) appear inside the root at the same absolute paths, by bind mounts, so the
# venvs and results the command writes land in the checkout itself. Bind mounts work for
# root on the hosts CI uses, and they beat a copy: nothing to copy or keep in step, and
# what the tests write stays. They are made in a mount namespace of their own (unshare -m),
# so they end with the command, even when it is killed, and the host never sees them:
# `rm -rf DIR` never reaches through into the checkout. Inside, /proc is mounted fresh and
# /dev (with /dev/shm and /dev/pts) and /sys are bound from the host: g++ and Python need
# /dev/null, /dev/urandom and /proc, multiprocessing /dev/shm. DEBIAN_ROOT_SYSFS=no leaves
# /sys an ordinary folder, as in containers that do not mount sysfs (CI runs the whole suite so).
#
# Environment, with the defaults: DEBIAN_MIRROR=http://deb.debian.org/debian, and in
# seconds DEBIAN_ROOT_BOOTSTRAP_TIMEOUT=240 (debootstrap: 25 s here),
# DEBIAN_ROOT_UPDATE_TIMEOUT=120 (apt-get update: 1-3 s), DEBIAN_ROOT_APT_TIMEOUT=300
# (apt-get install: 25-60 s). `run` passes on only CI, TERM and
# DEBIAN_FRONTEND=noninteractive, plus HOME=/root, LANG=C.UTF-8 and a standard PATH.
set -uo pipefail

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BOOTSTRAP_TIMEOUT=${DEBIAN_ROOT_BOOTSTRAP_TIMEOUT:-240}
UPDATE_TIMEOUT=${DEBIAN_ROOT_UPDATE_TIMEOUT:-120}
APT_TIMEOUT=${DEBIAN_ROOT_APT_TIMEOUT:-300}
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
LOG=/dev/null

fail() {
    echo "error: debian_root: $*" >&2
    exit 1
}

# step LIMIT WHAT COMMAND...: COMMAND, its output in the log, under `timeout LIMIT`;
# on failure, "WHAT" in the error line (with "timed out" when it ran out of time).
step() {
    local limit=$1 what=$2 rc
    shift 2
    echo "== $(date -u +%H:%M:%S) $*" >> "$LOG"
    timeout --kill-after=10 "$limit" "$@" >> "$LOG" 2>&1 < /dev/null
    rc=$?
    echo "== $(date -u +%H:%M:%S) exit status $rc" >> "$LOG"
    case $rc in
        0) return 0 ;;
        124|137) fail "$what (timed out after ${limit}s; $LOG)" ;;
        *) fail "$what ($LOG)" ;;
    esac
}

# Mounts under DIR in this mount namespace (the host's, outside `run`), deepest first.
# unshare's option for a mount namespace whose mounts never reach the host's. Inside a
# chroot (a CI host that is itself a root), / is no mount point and cannot be made
# private; its mounts are private already when the chroot was entered by `run` below.
propagation() {
  if mountpoint -q /; then echo "--propagation private"; else echo "--propagation unchanged"; fi
}

mounts_under() {
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# A command inside the root (an external one, so that `timeout` can run it), clean environment.
in_root() {
    "${IN_ROOT[@]}" "$@"
}
IN_ROOT=()
set_in_root() {
    IN_ROOT=(chroot "$DIR" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
}

# The host's debootstrap, from the host's apt when it is not there yet.
host_debootstrap() {
    command -v debootstrap > /dev/null && [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] \
        && return 0
    step "$UPDATE_TIMEOUT" "the host's package lists (apt-get update)" apt-get update
    step "$APT_TIMEOUT" "debootstrap for the host (apt-get install debootstrap)" \
        env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        debootstrap debian-archive-keyring
}

make_root() {
    local suite=$1 script missing pkg other
    shift
    case $suite in
        trixie|forky) ;;
        *) fail "no suite '$suite' here: trixie or forky" ;;
    esac
    [ "$(id -u)" = 0 ] || fail "root's rights (run it as root)"
    DIR=$(realpath -m "$DIR")
    set_in_root
    case $DIR in /|/usr|/usr/*|/etc|/etc/*|/bin|/sbin|/lib*|/var|/boot|/proc*|/sys*|/dev*)
        fail "a safe DIR ($DIR is part of the host)" ;;
    esac
    for other in "$DIR"/.ready-* "$DIR"/.bootstrapped-*; do
        [ ! -e "$other" ] || [ "${other##*-}" = "$suite" ] \
            || fail "a DIR for $suite ($DIR holds a root of ${other##*-})"
    done
    if [ -e "$DIR/.ready-$suite" ] || [ -e "$DIR/.bootstrapped-$suite" ]; then
        LOG=$DIR/.debian_root.log
        echo "== $(date -u +%H:%M:%S) reusing $DIR ($(cd "$DIR" && ls -d .ready-* .bootstrapped-* 2>/dev/null | tr '\n' ' '))" >> "$LOG"
    else
        if [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
            # A root this script began and did not finish: start again, unless something
            # is still mounted in it (removing that would remove what it shows).
            [ -e "$DIR/.debian_root.log" ] \
                || fail "an empty DIR ($DIR holds files that are not a root made by this script)"
            [ -z "$(mounts_under "$DIR")" ] \
                || fail "an unmounted DIR (something is mounted under $DIR: $(mounts_under "$DIR" | tr '\n' ' '))"
            rm -rf --one-file-system "$DIR" || fail "the removal of the unfinished root $DIR"
        fi
        mkdir -p "$DIR" || fail "the folder $DIR"
        LOG=$DIR/.debian_root.log
        : > "$LOG"
        host_debootstrap
        # Debian 12's debootstrap has no script for forky; sid's fits any suite after trixie.
        script=/usr/share/debootstrap/scripts/$suite
        [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
        # Its own mount namespace: what debootstrap mounts (/proc, /sys) cannot outlive it.
        step "$BOOTSTRAP_TIMEOUT" "a $suite root from $MIRROR (debootstrap)" \
            unshare -m $(propagation) debootstrap --variant=minbase "$suite" "$DIR" "$MIRROR" "$script"
        # No services start inside; no documentation is unpacked (less to write, faster).
        printf '#!/bin/sh\nexit 101\n' > "$DIR/usr/sbin/policy-rc.d"
        chmod 755 "$DIR/usr/sbin/policy-rc.d"
        printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
            'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
            > "$DIR/etc/dpkg/dpkg.cfg.d/01-ci-nodoc"
        {
            echo 'APT::Install-Recommends "false";'
            echo 'Acquire::Retries "3";'
            echo 'Acquire::http::Timeout "60";'
            # The archive goes on serving testing's Release file after its Valid-Until date;
            # without this, apt in the root refuses it and updates nothing.
            [ "$suite" = forky ] && echo 'Acquire::Check-Valid-Until "false";'
        } > "$DIR/etc/apt/apt.conf.d/99-ci"
        echo "deb $MIRROR $suite main" > "$DIR/etc/apt/sources.list"
        touch "$DIR/.bootstrapped-$suite"
    fi

    # Name service and the host's extra CA certificates (an HTTPS proxy's) for pip inside.
    cp -L /etc/resolv.conf "$DIR/etc/resolv.conf" 2>> "$LOG" || fail "a copy of /etc/resolv.conf in $DIR"
    mkdir -p "$DIR/usr/local/share/ca-certificates"
    if compgen -G '/usr/local/share/ca-certificates/*' > /dev/null; then
        cp -rL /usr/local/share/ca-certificates/. "$DIR/usr/local/share/ca-certificates/" 2>> "$LOG" \
            || fail "a copy of the host's CA certificates in $DIR"
    fi

    # ca-certificates always (pip inside needs the CA certificates); each package once.
    set -- $(printf '%s\n' ca-certificates "$@" | awk '!seen[$0]++')
    missing=()
    for pkg in "$@"; do
        in_root dpkg-query -W -f '${Status}\n' "$pkg" 2>/dev/null | grep -q 'ok installed' \
            || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ] || [ ! -e "$DIR/.ready-$suite" ]; then
        step "$UPDATE_TIMEOUT" "$suite's package lists from $MIRROR (apt-get update)" \
            "${IN_ROOT[@]}" apt-get update --error-on=any
        for pkg in "${missing[@]}"; do
            [ -n "$(in_root apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p' \
                | grep -v '(none)')" ] || fail "$suite's package $pkg (it has no such package)"
        done
        if [ ${#missing[@]} -gt 0 ]; then
            step "$APT_TIMEOUT" "$suite's packages ${missing[*]} (apt-get install)" \
                "${IN_ROOT[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
        fi
    fi
    step 120 "the CA certificates in $DIR (update-ca-certificates)" "${IN_ROOT[@]}" update-ca-certificates
    # The marker names every package asked for, this time and before.
    { cat "$DIR/.ready-$suite" 2>/dev/null; printf '%s\n' "$@"; } | awk '!seen[$0]++' \
        > "$DIR/.ready-$suite.new" && mv "$DIR/.ready-$suite.new" "$DIR/.ready-$suite"
}

run_in_root() {
    [ "$(id -u)" = 0 ] || fail "root's rights (run it as root)"
    DIR=$(realpath -m "$DIR")
    compgen -G "$DIR/.ready-*" > /dev/null || fail "a finished root in $DIR (no $DIR/.ready-SUITE)"
    [ $# -gt 0 ] || fail "a COMMAND to run"
    local shared
    shared=$(dirname "$CHECKOUT")/shared
    [ -d "$shared" ] || shared=
    # Inside a new mount namespace: the mounts, then chroot, cd and the command.
    exec unshare -m $(propagation) bash -c '
        set -e
        dir=$1 checkout=$2 shared=$3 sysfs=$4
        shift 4
        fail() { echo "error: debian_root: $*" >&2; exit 1; }
        mount -t proc proc "$dir/proc" || fail "/proc inside $dir"
        mount --rbind /dev "$dir/dev" || fail "/dev inside $dir"
        [ "$sysfs" = no ] || mount --rbind /sys "$dir/sys" || fail "/sys inside $dir"
        for d in "$checkout" ${shared:+"$shared"}; do
            mkdir -p "$dir$d"
            mount --bind "$d" "$dir$d" || fail "$d inside $dir (mount --bind)"
        done
        pass=()
        [ -z "${CI+set}" ] || pass+=("CI=$CI")
        [ -z "${TERM+set}" ] || pass+=("TERM=$TERM")
        exec chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            DEBIAN_FRONTEND=noninteractive "${pass[@]}" \
            /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$checkout" "$@"
    ' debian_root "$DIR" "$CHECKOUT" "$shared" "${DEBIAN_ROOT_SYSFS:-yes}" "$@"
}

[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
case $1 in
    run) DIR=$2; shift 2; run_in_root "$@" ;;
    *) SUITE=$1 DIR=$2; shift 2; make_root "$SUITE" "$@" ;;
esac
