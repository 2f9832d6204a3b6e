#!/bin/sh
test_description='aios-submit --wait exits with the job exit code'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a cluster' '
	aios_start --nodes 2 &&
	cleanup aios_stop
'

test_expect_success '--wait: success is 0' '
	aios-submit --wait --wrap true >out &&
	grep "^Submitted batch job" out
'

test_expect_success '--wait: exit code 7 is 7' '
	test_expect_code 7 aios-submit --wait --wrap "exit 7"
'

test_expect_success '--wait: killed by a signal is 128+signal' '
	test_expect_code 137 aios-submit --wait --wrap "kill -9 \$\$" 2>err &&
	grep "ended FAILED" err
'

test_expect_success '--wait: a cancelled job is reported' '
	aios-submit --parsable --wait -J waitme --wrap "sleep 300" >id 2>err &
	pid=$! &&
	aios_wait_for 10 test -s id &&
	aios_wait_state $(cat id) RUNNING &&
	aios-cancel $(cat id) &&
	test_expect_code 143 wait $pid &&
	grep "ended CANCELLED" err
'

test_expect_success '--wait with --parsable prints the id first' '
	aios-submit --wait --parsable --wrap true >out &&
	grep -E "^[0-9]+$" out
'

test_done
