#!/bin/sh
test_description='dependencies (after, afterany, afterok, afternotok, singleton, any-of, never satisfied) and --begin'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

reason_is() {
    aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $1 -o %r)\" = $2"
}

test_expect_success 'start 2 nodes of 2 CPUs' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop
'

test_expect_success 'afterok waits for success, then runs' '
	a=$(aios-submit --parsable -H --wrap true) &&
	b=$(aios-submit --parsable -d afterok:$a --wrap true) &&
	reason_is $b Dependency &&
	aios-control release $a &&
	aios_wait_state $a COMPLETED &&
	aios_wait_state $b COMPLETED
'

test_expect_success 'a failed job: afterok never runs, afternotok and afterany do' '
	a=$(aios-submit --parsable -H --wrap "exit 3") &&
	ok=$(aios-submit --parsable -d afterok:$a --wrap true) &&
	notok=$(aios-submit --parsable --dependency=afternotok:$a --wrap true) &&
	any=$(aios-submit --parsable -d afterany:$a --wrap true) &&
	kill=$(aios-submit --parsable -d afterok:$a --kill-on-invalid-dep=yes --wrap true) &&
	aios-control release $a &&
	aios_wait_state $a FAILED &&
	aios_wait_state $notok COMPLETED &&
	aios_wait_state $any COMPLETED &&
	reason_is $ok DependencyNeverSatisfied &&
	aios_wait_state $kill CANCELLED &&
	aios-queue -h -t all -j $kill -o %r | grep "its dependency can never be satisfied" &&
	aios-queue --why $ok | grep "DependencyNeverSatisfied" &&
	aios-cancel $ok
'

test_expect_success 'after waits for the start only; ? takes any of its terms' '
	long=$(aios-submit --parsable --wrap "sleep 600") &&
	aios_wait_state $long RUNNING &&
	after=$(aios-submit --parsable -d after:$long --wrap true) &&
	aios_wait_state $after COMPLETED &&
	held=$(aios-submit --parsable -H --wrap true) &&
	either=$(aios-submit --parsable -d "afterok:$held?after:$long" --wrap true) &&
	aios_wait_state $either COMPLETED &&
	aios-cancel $long $held
'

test_expect_success 'singleton: one job of a name and user at a time' '
	s1=$(aios-submit --parsable -J single -d singleton --wrap "sleep 600") &&
	aios_wait_state $s1 RUNNING &&
	s2=$(aios-submit --parsable -J single -d singleton --wrap true) &&
	reason_is $s2 Dependency &&
	aios-cancel $s1 &&
	aios_wait_state $s2 COMPLETED
'

test_expect_success 'a bad dependency is refused at submit, naming it' '
	test_must_fail aios-submit -d afterok:9999 --wrap true 2>e1 &&
	grep "invalid dependency \"afterok:9999\": job 9999 does not exist" e1 &&
	test_must_fail aios-submit -d before:1 --wrap true 2>e2 &&
	grep "unknown dependency type \"before\"" e2 &&
	test_must_fail aios-submit -d afterok --wrap true 2>e3 &&
	grep "afterok needs at least one job id" e3 &&
	test_must_fail aios-submit -d "afterok:1,afterany:2?after:1" --wrap true 2>e4 &&
	grep "mix of" e4 &&
	test_expect_code 2 aios-submit --kill-on-invalid-dep=maybe --wrap true 2>e5 &&
	grep "expected yes or no" e5
'

test_expect_success 'a dependency in a script directive (#SBATCH -d)' '
	a=$(aios-submit --parsable -H --wrap true) &&
	printf "#!/bin/sh\n#SBATCH -d afterok:$a\ntrue\n" >dep.sh &&
	b=$(aios-submit --parsable dep.sh) &&
	reason_is $b Dependency &&
	aios-control release $a &&
	aios_wait_state $b COMPLETED
'

test_expect_success '--begin holds a job back until its time' '
	id=$(aios-submit --parsable --begin=now+3 --wrap true) &&
	reason_is $id BeginTime &&
	aios_wait_state $id COMPLETED &&
	test_expect_code 2 aios-submit --begin=soon --wrap true 2>err &&
	grep "invalid begin time \"soon\"" err
'

test_done
