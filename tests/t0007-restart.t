#!/bin/sh
test_description='the controller killed with SIGKILL loses nothing: jobs recovered, running jobs finish, ids continue'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a 2-node cluster with 1 CPU each' '
	aios_start --nodes 2 --cpus-per-node 1 &&
	cleanup aios_stop
'

test_expect_success 'two running jobs, three pending' '
	mkfifo gate1 gate2 &&
	r1=$(aios-submit --parsable -o r1.out --wrap "echo r1-start; cat gate1; echo r1-end") &&
	r2=$(aios-submit --parsable -o r2.out --wrap "echo r2-start; cat gate2; echo r2-end") &&
	aios_wait_state $r1 RUNNING && aios_wait_state $r2 RUNNING &&
	for i in 1 2 3; do aios-submit --parsable -J pend$i --wrap "echo pend$i" || return 1; done >pending &&
	test_line_count = 3 pending &&
	echo $r1 $r2 >running
'

test_expect_success 'kill -9 the controller' '
	pid=$(pid_of aiosctld.pid) &&
	kill -9 $pid &&
	aios_wait_for 10 sh -c "! kill -0 $pid" &&
	test_must_fail aios-queue 2>err &&
	grep "cannot connect to aiosctld" err
'

test_expect_success 'the running jobs keep running while it is down' '
	read r1 r2 <running &&
	aios_wait_for 10 grep -q r1-start r1.out &&
	aios_wait_for 10 grep -q r2-start r2.out &&
	echo go >gate1 &&
	aios_wait_for 10 grep -q r1-end r1.out
'

test_expect_success 'restart: every job is still there' '
	aios_start &&
	for id in $(cat pending); do
		test "$(job_state $id)" = PENDING || test "$(job_state $id)" = RUNNING ||
		test "$(job_state $id)" = COMPLETED || return 1
	done &&
	read r1 r2 <running &&
	aios_wait_state $r1 COMPLETED &&
	test "$(job_state $r2)" = RUNNING
'

test_expect_success 'the other running job finishes and is recorded' '
	read r1 r2 <running &&
	echo go >gate2 &&
	aios_wait_state $r2 COMPLETED &&
	grep r2-end r2.out
'

test_expect_success 'the pending jobs run to completion' '
	for id in $(cat pending); do aios_wait_state $id COMPLETED || return 1; done
'

test_expect_success 'job ids continue after the restart' '
	last=$(tail -n 1 pending) &&
	id=$(aios-submit --parsable --wrap true) &&
	test $id -eq $((last + 1))
'

test_expect_success 'a submit acknowledged just before a kill -9 survives it' '
	id=$(aios-submit --parsable -H --wrap true) &&
	kill -9 $(pid_of aiosctld.pid) &&
	aios_wait_for 10 sh -c "! aios-queue" &&
	aios_start &&
	test "$(job_state $id)" = PENDING
'

test_done
