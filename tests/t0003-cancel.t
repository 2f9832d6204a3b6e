#!/bin/sh
test_description='aios-cancel: pending and running jobs, filters, signals'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a 2-node cluster with 2 CPUs each' '
	aios_start --nodes 2 --cpus-per-node 2 --kill-wait 1 &&
	cleanup aios_stop
'

test_expect_success 'cancel a running job: its processes are gone, state CANCELLED' '
	id=$(aios-submit --parsable -o run.out --wrap "echo started; exec sleep 303") &&
	aios_wait_state $id RUNNING &&
	aios_wait_for 10 grep -q started run.out &&
	aios-cancel $id &&
	aios_wait_state $id CANCELLED &&
	! pgrep -f "sleep 30[3]"
'

test_expect_success 'cancel a pending job' '
	id=$(aios-submit --parsable -H --wrap true) &&
	test "$(job_field $id %R)" = "(JobHeldUser)" &&
	aios-cancel -v $id >out &&
	grep "cancelled job $id" out &&
	test "$(job_state $id)" = CANCELLED
'

test_expect_success 'cancel by name and by state' '
	a=$(aios-submit --parsable -H -J alpha --wrap true) &&
	b=$(aios-submit --parsable -H -J beta --wrap true) &&
	aios-cancel -n alpha &&
	test "$(job_state $a)" = CANCELLED &&
	test "$(job_state $b)" = PENDING &&
	aios-cancel -t PENDING &&
	test "$(job_state $b)" = CANCELLED
'

test_expect_success 'cancel by user' '
	a=$(aios-submit --parsable -H --wrap true) &&
	aios-cancel -u $(id -un) &&
	test "$(job_state $a)" = CANCELLED
'

test_expect_success '--signal delivers a signal without cancelling' '
	cat >trap.sh <<-\EOT &&
	#!/bin/sh
	trap "echo got-usr1" USR1
	echo ready
	i=0
	while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
	EOT
	id=$(aios-submit --parsable -o trap.out trap.sh) &&
	aios_wait_for 10 grep -q ready trap.out &&
	aios-cancel --signal USR1 $id &&
	aios_wait_for 10 grep -q got-usr1 trap.out &&
	test "$(job_state $id)" = RUNNING &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success 'errors: unknown job, finished job, bad ids and options' '
	test_must_fail aios-cancel 999999 2>e1 &&
	grep "^aios-cancel: job 999999: no such job$" e1 &&
	id=$(aios-submit --parsable --wrap true) &&
	aios_wait_state $id COMPLETED &&
	test_must_fail aios-cancel $id 2>e2 &&
	grep "job $id: already finished (COMPLETED)" e2 &&
	test_expect_code 2 aios-cancel abc 2>e3 &&
	grep "abc" e3 &&
	test_expect_code 2 aios-cancel 2>e4 &&
	test_expect_code 2 aios-cancel -t BOGUS 2>e5 &&
	grep BOGUS e5 &&
	test_expect_code 2 aios-cancel --signal NOPE 1 2>e6 &&
	grep NOPE e6
'

test_done
