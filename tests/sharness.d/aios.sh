# aios.sh - sharness helpers for AIOS integration tests (sourced by sharness)
#
# Each test runs inside its own trash directory and starts its own cluster
# there with aios-local (private munged, controller, node daemons on
# 127.0.1.x and free ports), stopped by pid at the end.

: "${AIOS_BUILDDIR:=$SHARNESS_BUILD_DIRECTORY}"
PATH="$AIOS_BUILDDIR/bin:$AIOS_BUILDDIR/sbin:$PATH"
export PATH
unset AIOS_SOCKET
AIOS_TEST_TIMEOUT=${AIOS_TEST_TIMEOUT:-60}

# aios_start [aios-local start options]: start ./cluster, export AIOS_CONF
aios_start() {
    out=$(aios-local start --dir "$SHARNESS_TRASH_DIRECTORY/cluster" "$@") || return 1
    eval "$out"
    export AIOS_CONF
}

aios_stop() {
    aios-local stop --dir "$SHARNESS_TRASH_DIRECTORY/cluster"
}

# aios_wait_for SECONDS COMMAND...: run COMMAND until it succeeds or time
# runs out (a bounded wait on a condition, never a bare sleep).
aios_wait_for() {
    _limit=$1; shift
    _deadline=$(( $(date +%s) + _limit ))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$_deadline" ]; then
            echo "timed out after ${_limit}s waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

job_state() {
    aios-queue --noheader -j "$1" -o '%T'
}

_job_state_is() {
    test "$(job_state "$1")" = "$2"
}

# aios_wait_state ID STATE [SECONDS]
aios_wait_state() {
    aios_wait_for "${3:-$AIOS_TEST_TIMEOUT}" _job_state_is "$1" "$2" || {
        echo "job $1 is $(job_state "$1"), expected $2" >&2
        return 1
    }
}

_node_state_is() {
    test "$(aios-nodes --noheader "$1" | awk '{print $2}')" = "$2"
}

# aios_wait_node NODE STATE [SECONDS]
aios_wait_node() {
    aios_wait_for "${3:-$AIOS_TEST_TIMEOUT}" _node_state_is "$1" "$2"
}

# job_field ID FORMAT: one field of a job via aios-queue --format
job_field() {
    aios-queue --noheader -j "$1" -o "$2"
}

# The pid in a pid file, for killing daemons by pid.
pid_of() {
    cat "$SHARNESS_TRASH_DIRECTORY/cluster/$1"
}

# raw_frame JSON: print a wire frame (4-byte big-endian length + JSON)
raw_frame() {
    _n=$(printf %s "$1" | wc -c)
    printf "\\$(printf %03o $((_n >> 24 & 255)))\\$(printf %03o $((_n >> 16 & 255)))\\$(printf %03o $((_n >> 8 & 255)))\\$(printf %03o $((_n & 255)))"
    printf %s "$1"
}

# ctl_port: the controller's TCP port from the test cluster's config
ctl_port() {
    sed -n "/^controller:/,/^[a-z]/s/^  port: //p" "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"
}

# tcp_exchange PORT < BYTES: send bytes to 127.0.0.1:PORT, print what comes
# back until the peer closes (bounded by timeout)
tcp_exchange() {
    timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"' && cat >&3 && cat <&3' | tr -d "\000-\010"
}

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    test_set_prereq ROOT
fi

# as_nobody COMMAND...: run COMMAND as the unprivileged user nobody
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env \
        env PATH="$PATH" AIOS_CONF="$AIOS_CONF" "$@"
}

# git's test-lib helpers that Debian's sharness lacks.
if ! command -v test_line_count >/dev/null 2>&1; then
    # test_line_count OP N FILE: the number of lines of FILE compares OP N
    test_line_count() {
        if test $# != 3; then
            echo "bug in the test script: test_line_count needs 3 arguments" >&2
            return 1
        fi
        if ! test "$(wc -l <"$3")" "$1" "$2"; then
            echo "test_line_count: line count for $3 !$1 $2"
            cat "$3"
            return 1
        fi
    }
fi
if ! command -v test_path_is_missing >/dev/null 2>&1; then
    test_path_is_missing() {
        if test -e "$1"; then
            echo "path exists unexpectedly: $1"
            return 1
        fi
    }
fi

# Sharness runs "cleanup" only when every test passed; a failing test must
# not leave its cluster running, so test_done and die (an unexpected exit)
# stop it too, unless -d or -i asked to keep everything for a look.
_aios_stop_on_exit() {
    if [ -z "${debug:-}${immediate:-}" ] && [ -f "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml" ]; then
        aios_stop >/dev/null 2>&1
    fi
}
if type declare >/dev/null 2>&1; then
    eval "_sharness_$(declare -f test_done)"
    test_done() { _aios_stop_on_exit; _sharness_test_done "$@"; }
    eval "_sharness_$(declare -f die)"
    die() { _aios_stop_on_exit; _sharness_die "$@"; }
fi

# Without --verbose, what the tests print goes to NAME.output beside the
# results instead of nowhere, and a failing test's part of it follows its
# "not ok" line as TAP comments: a failure seen only once in CI can then be
# read from the log alone.
if [ "${verbose:-}" != t ] && type declare >/dev/null 2>&1; then
    _aios_output="$SHARNESS_TEST_DIRECTORY/$(basename "$0" .t).output"
    if { exec 3>"$_aios_output"; } 2>/dev/null; then
        exec 4>&3
        _aios_mark=0
        _aios_mark() { _aios_mark=$(wc -c <"$_aios_output"); }
        eval "_sharness_$(declare -f test_ok_)"
        test_ok_() { _aios_mark; _sharness_test_ok_ "$@"; }
        eval "_sharness_$(declare -f test_known_broken_failure_)"
        test_known_broken_failure_() { _aios_mark; _sharness_test_known_broken_failure_ "$@"; }
        eval "_sharness_$(declare -f test_failure_)"
        test_failure_() {
            _aios_out=$(tail -c +$((_aios_mark + 1)) "$_aios_output" | tail -n 60)
            _aios_mark
            _aios_immediate=${immediate:-}; immediate=
            _sharness_test_failure_ "$@"
            immediate=$_aios_immediate
            echo "#   output (its last 60 lines):"
            printf '%s\n' "$_aios_out" | sed -e 's/^/#   /'
            test -z "$immediate" || { EXIT_OK=t; exit 1; }
        }
    fi
fi
