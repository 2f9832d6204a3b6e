#!/bin/sh
test_description='time limits: SIGTERM, grace period, SIGKILL, state TIMEOUT'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a cluster with a 1 s kill_wait' '
	aios_start --nodes 1 --kill-wait 1 &&
	cleanup aios_stop
'

test_expect_success 'a job over its limit gets SIGTERM and ends TIMEOUT' '
	cat >slow.sh <<-\EOT &&
	#!/bin/sh
	#AIOS --time=0:02
	trap "echo got-term; exit 143" TERM
	echo started
	while :; do sleep 0.1; done
	EOT
	id=$(aios-submit --parsable -o slow.out slow.sh) &&
	aios_wait_state $id TIMEOUT 30 &&
	grep started slow.out &&
	grep got-term slow.out
'

test_expect_success 'a job that ignores SIGTERM is killed after kill_wait' '
	cat >stubborn.sh <<-\EOT &&
	#!/bin/sh
	trap "echo ignoring-term" TERM
	echo started
	while :; do sleep 0.1; done
	EOT
	id=$(aios-submit --parsable -t 0:02 -o stubborn.out stubborn.sh) &&
	aios_wait_state $id TIMEOUT 30 &&
	grep ignoring-term stubborn.out &&
	test "$(job_field $id %o)" = "0:9"
'

test_expect_success 'children of the script are killed too' '
	id=$(aios-submit --parsable -t 0:02 --wrap "sleep 321 & wait") &&
	aios_wait_state $id TIMEOUT 30 &&
	aios_wait_for 10 sh -c "! pgrep -f \"sleep 32[1]\""
'

test_expect_success 'the time limit is shown by --format %l' '
	id=$(aios-submit --parsable -H -t 1-02:03:04 --wrap true) &&
	test "$(job_field $id %l)" = "1-02:03:04" &&
	aios-cancel $id
'

test_done
