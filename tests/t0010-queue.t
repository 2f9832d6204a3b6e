#!/bin/sh
test_description='aios-queue and aios-nodes: table, filters, --format, --json'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a cluster and queue some jobs' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop &&
	a=$(aios-submit --parsable -J run1 --wrap "sleep 300") &&
	b=$(aios-submit --parsable -H -J held1 --wrap true) &&
	c=$(aios-submit --parsable -J done1 --wrap true) &&
	aios_wait_state $a RUNNING &&
	aios_wait_state $c COMPLETED &&
	echo $a $b $c >ids
'

test_expect_success 'the default table' '
	aios-queue >q &&
	head -n 1 q | grep -E "^JOBID +PARTITION +NAME +USER +STATE +TIME +NODES +NODELIST\(REASON\)$" &&
	read a b c <ids &&
	grep -E "^$a +batch +run1 +$(id -un) +RUNNING +[0-9]+:[0-9]{2} +1 +node1$" q &&
	grep -E "^$b +batch +held1 +$(id -un) +PENDING +0:00 +1 +\(JobHeldUser\)$" q
'

test_expect_success 'filters: -j, -t, -u, -p' '
	read a b c <ids &&
	aios-queue -h -j $b -o %i >o && echo $b >e && test_cmp e o &&
	aios-queue -h -t PD -o %i >o && test_cmp e o &&
	aios-queue -h -t running,pending -o %i | sort -n >o2 &&
	printf "%s\n%s\n" $a $b >e2 && test_cmp e2 o2 &&
	aios-queue -h -u nosuchuser >o3 && test_must_be_empty o3 &&
	aios-queue -h -p batch -j $c -o %T >o4 && echo COMPLETED >e4 && test_cmp e4 o4
'

test_expect_success '--json has a version and the documented fields' '
	aios-queue --json >j &&
	grep "\"version\": 1" j &&
	for f in id name user state reasons nodes time_limit submit_time start_time end_time exit_code; do
		grep -q "\"$f\":" j || { echo "missing $f"; return 1; }
	done
'

test_expect_success '--format with widths and literals' '
	read a b c <ids &&
	aios-queue -h -j $b -o "%.6i|%-8j|%t" >f &&
	printf "%6s|%-8s|PD\n" $b held1 >fe &&
	test_cmp fe f
'

test_expect_success 'aios-nodes table and --json' '
	aios-nodes >n &&
	head -n 1 n | grep -E "^NODE +STATE +CPUS\(A/T\) +MEMORY\(A/T\) +REASON$" &&
	grep -E "^node1 +MIXED +1/2 " n &&
	grep -E "^node2 +IDLE +0/2 " n &&
	aios-nodes --json >nj &&
	grep "\"version\": 1" nj && grep "\"name\": \"node2\"" nj &&
	test_must_fail aios-nodes node9 2>err &&
	grep "no such node node9" err
'

test_expect_success 'cleanup the running job' '
	read a b c <ids && aios-cancel $a $b && aios_wait_state $a CANCELLED
'

test_done
