#!/bin/sh
test_description='aios-top: a live view driven by the event stream, run in tmux'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

if command -v tmux >/dev/null 2>&1; then
    test_set_prereq TMUX
fi

# Private tmux servers: one for root's aios-top, one for nobody's.
TM=aios-test-$$
TN=aios-test-nobody-$$
tm() { tmux -L "$TM" "$@"; }
tn() { tmux -L "$TN" "$@"; }
kill_tmux() {
    tm kill-server 2>/dev/null
    tn kill-server 2>/dev/null
    true
}
# The servers go at the end even when a test failed (as the cluster does in
# aios.sh); each aios-top is bounded by a timeout anyway.
if type declare >/dev/null 2>&1; then
    eval "_top_$(declare -f test_done)"
    test_done() { kill_tmux; _top_test_done "$@"; }
fi
# start_top SERVER ARGS [PREFIX...]: aios-top ARGS in a 100x30 session "top"
# of SERVER; when it exits the pane says how and stays (a bounded sleep) for
# a look.  The pane's shell survives Ctrl-C (trap) to report it.
start_top() {
    _srv=$1 _args=$2; shift 2
    tmux -L "$_srv" -f /dev/null new-session -d -s top -x 100 -y 30 \
        "trap : INT; $* env AIOS_CONF='$AIOS_CONF' PATH='$PATH' timeout --foreground 300 aios-top $_args; echo aios-top exited \$?; sleep 60"
}
# shows SERVER PATTERN: wait until the screen matches PATTERN (grep -E)
shows() {
    aios_wait_for 10 sh -c 'tmux -L "$1" capture-pane -p -t top | grep -q -E -e "$2"' sh "$1" "$2" || {
        echo "the screen does not show /$2/:" >&2
        tmux -L "$1" capture-pane -p -t top >&2
        return 1
    }
}
# first_job SERVER: the first row of the jobs pane
first_job() {
    tmux -L "$1" capture-pane -p -t top | sed -n "/^JOBID/{n;p;q}"
}
first_job_is() {
    first_job "$1" | grep -q -E -e "$2"
}
me=$(id -un)

test_expect_success 'start 2 nodes of 2 CPUs and a running job' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop &&
	cleanup kill_tmux &&
	first=$(aios-submit --parsable -J first --wrap "sleep 600") &&
	aios_wait_state $first RUNNING &&
	echo $first >first.id
'

test_expect_success 'aios-top --help, --version, usage errors' '
	aios-top --help >help.out &&
	grep "^Usage: aios-top" help.out &&
	aios-top --version | grep "^aios-top " &&
	test_expect_code 2 aios-top --sort=bogus 2>err &&
	grep "unknown column" err &&
	test_expect_code 2 aios-top extra
'

test_expect_success '--once prints the nodes and the jobs as plain text' '
	first=$(cat first.id) &&
	aios-top --once >once.out &&
	cat once.out &&
	grep "^Cluster " once.out &&
	grep "^Nodes 2:" once.out &&
	grep -E "^node1 +(IDLE|MIXED|ALLOCATED) +[0-9]/2 " once.out &&
	grep -E "^node2 " once.out &&
	grep -E "^$first +$me +first +RUNNING " once.out
'

test_expect_success '--once with --filter and --sort' '
	held=$(aios-submit --parsable -H -n 4 -J aaa-held --wrap true) &&
	echo $held >held.id &&
	aios-top --once --sort=name >sorted.out &&
	sed -n "/^JOBID/{n;p;q}" sorted.out | grep -E "^$held +$me +aaa-held +PENDING" &&
	aios-top --once --filter=state:pending >pending.out &&
	grep -E "^$held " pending.out &&
	! grep -E "^$(cat first.id) " pending.out
'

test_expect_success '--bench-redraw times redraws into a virtual screen' '
	aios-top --bench-redraw=20 >bench.out &&
	cat bench.out &&
	grep "full repaint: *mean *[0-9.]* ms" bench.out &&
	grep "re-sort by name + repaint: *mean *[0-9.]* ms" bench.out
'

test_expect_success TMUX 'aios-top shows the nodes and the jobs' '
	first=$(cat first.id) &&
	start_top $TM "" &&
	shows $TM "^aios-top +local +up " &&
	shows $TM "^Nodes 2:" &&
	shows $TM "^CPU \[.*[0-9]/4\]" &&
	shows $TM "^node1 +(IDLE|MIXED|ALLOCATED) " &&
	shows $TM "^node2 " &&
	shows $TM "^$first +$me +first +RUNNING "
'

test_expect_success TMUX 'a job submitted later appears without a key press' '
	second=$(aios-submit --parsable -J second --wrap "sleep 600") &&
	echo $second >second.id &&
	shows $TM "^$second +$me +second +(PENDING|RUNNING) " &&
	aios_wait_state $second RUNNING &&
	shows $TM "^$second +$me +second +RUNNING "
'

test_expect_success TMUX 's cycles the sort column' '
	held=$(cat held.id) first=$(cat first.id) &&
	shows $TM "sort: id" &&
	first_job_is $TM "^$first " &&
	tm send-keys -t top s s &&
	shows $TM "Jobs 3 of 3 +sort: name" &&
	aios_wait_for 10 first_job_is $TM "^$held +$me +aaa-held " &&
	tm send-keys -t top s s s s s &&
	shows $TM "sort: id"
'

test_expect_success TMUX '/ filters the jobs; an empty filter clears it' '
	second=$(cat second.id) &&
	tm send-keys -t top / && tm send-keys -t top -l user:nobody-such &&
	tm send-keys -t top Enter &&
	shows $TM "Jobs 0 of 3 .*filter: user:nobody-such" &&
	shows $TM "no job matches the filter" &&
	tm send-keys -t top / C-u && tm send-keys -t top -l second &&
	tm send-keys -t top Enter &&
	shows $TM "Jobs 1 of 3 .*filter: second" &&
	aios_wait_for 10 first_job_is $TM "^$second " &&
	tm send-keys -t top / C-u Enter &&
	shows $TM "Jobs 3 of 3 +sort: id *$"
'

test_expect_success TMUX 'Enter shows the selected job in detail, Esc returns' '
	held=$(cat held.id) &&
	tm send-keys -t top / && tm send-keys -t top -l aaa-held && tm send-keys -t top Enter &&
	shows $TM "Jobs 1 of 3" &&
	tm send-keys -t top Enter &&
	shows $TM "^Job $held +aaa-held +PENDING" &&
	shows $TM "^ +JobHeldUser +held" &&
	shows $TM "^Every field" &&
	shows $TM "^Esc:back" &&
	tm send-keys -t top Escape &&
	shows $TM "^JOBID"
'

test_expect_success TMUX 'r releases and h holds the selected job' '
	held=$(cat held.id) &&
	tm send-keys -t top r &&
	shows $TM "released job $held" &&
	shows $TM "^$held +$me +aaa-held +PENDING .*\((Resources|Priority)\)" &&
	tm send-keys -t top h &&
	shows $TM "held job $held" &&
	shows $TM "^$held +$me +aaa-held +PENDING .*\(JobHeldUser\)" &&
	tm send-keys -t top / C-u Enter &&
	shows $TM "Jobs 3 of 3"
'

test_expect_success TMUX 'h on a running job shows the controller'"'"'s refusal' '
	first=$(cat first.id) &&
	tm send-keys -t top Home h &&
	shows $TM "hold job $first: .*only a pending job" 
'

test_expect_success TMUX 'c asks first; n keeps the job' '
	second=$(cat second.id) &&
	tm send-keys -t top / && tm send-keys -t top -l second && tm send-keys -t top Enter &&
	aios_wait_for 10 first_job_is $TM "^$second " &&
	tm send-keys -t top c &&
	shows $TM "^Cancel job $second \(second of $me\)\? \[y/n\]" &&
	tm send-keys -t top n &&
	shows $TM "job $second not cancelled" &&
	test "$(job_state $second)" = RUNNING
'

test_expect_success TMUX 'c then y cancels the selected job' '
	second=$(cat second.id) &&
	tm send-keys -t top c &&
	shows $TM "^Cancel job $second" &&
	tm send-keys -t top y &&
	shows $TM "cancelled job $second" &&
	aios_wait_state $second CANCELLED &&
	shows $TM "^$second +$me +second +CANCELLED " &&
	tm send-keys -t top / C-u Enter
'

test_expect_success TMUX,ROOT 'cancelling another user'"'"'s job is refused with the controller'"'"'s message' '
	first=$(cat first.id) &&
	start_top $TN --filter=first setpriv --reuid=nobody --regid=nogroup --clear-groups &&
	shows $TN "^$first +$me +first +RUNNING " &&
	tmux -L $TN send-keys -t top c &&
	shows $TN "^Cancel job $first" &&
	tmux -L $TN send-keys -t top y &&
	shows $TN "permission denied" &&
	test "$(job_state $first)" = RUNNING &&
	tmux -L $TN send-keys -t top q &&
	shows $TN "aios-top exited 0"
'

test_expect_success TMUX 'a resize redraws at the new size' '
	test "$(first_job $TM | wc -c)" -gt 0 &&
	test "$(tm capture-pane -p -t top | sed -n 2p | wc -L)" = 100 &&
	tm resize-window -t top -x 80 -y 24 &&
	aios_wait_for 10 sh -c "test \"\$(tmux -L $TM capture-pane -p -t top | sed -n 2p | wc -L)\" = 80" &&
	tm capture-pane -p -t top >small.out &&
	cat small.out &&
	test_line_count = 24 small.out &&
	grep "^Nodes 2:.*running$" small.out &&
	grep "^JOBID" small.out &&
	grep "^q:quit" small.out
'

test_expect_success TMUX 'a controller restart shows "disconnected", then the data again' '
	first=$(cat first.id) &&
	pid=$(pid_of aiosctld.pid) &&
	kill $pid &&
	aios_wait_for 10 sh -c "! kill -0 $pid" &&
	shows $TM "disconnected" &&
	aios_start &&
	shows $TM "reconnected to aiosctld" &&
	shows $TM "^$first +$me +first +RUNNING " &&
	! tm capture-pane -p -t top | sed -n 1p | grep disconnected
'

test_expect_success TMUX 'q quits and restores the terminal' '
	test "$(tm display -p -t top "#{alternate_on}")" = 1 &&
	tm send-keys -t top q &&
	shows $TM "aios-top exited 0" &&
	test "$(tm display -p -t top "#{alternate_on}")" = 0 &&
	test "$(tm display -p -t top "#{cursor_flag}")" = 1 &&
	! tm capture-pane -p -t top | grep "^JOBID"
'

# The old session goes only after the new one exists: killing the server's
# last session makes it exit, and a client connecting meanwhile fails.
test_expect_success TMUX 'SIGINT (Ctrl-C) restores the terminal too' '
	tm rename-session -t top old &&
	start_top $TM "" &&
	tm kill-session -t old &&
	shows $TM "^JOBID" &&
	tm send-keys -t top C-c &&
	shows $TM "aios-top exited 130" &&
	test "$(tm display -p -t top "#{alternate_on}")" = 0
'

test_expect_success TMUX 'stop the tmux servers' '
	kill_tmux
'

test_done
