#!/bin/sh
test_description='multi-node allocations: -N, -n, -c, --mem pack CPUs onto nodes'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a 4-node cluster with 4 CPUs each' '
	aios_start --nodes 4 --cpus-per-node 4 --mem-per-node 2048 &&
	cleanup aios_stop
'

test_expect_success '-N 2 spans two nodes, one task on each' '
	id=$(aios-submit --parsable -N 2 -o two.out --wrap "echo \$AIOS_JOB_NODELIST \$AIOS_NNODES \$AIOS_NTASKS; sleep 30") &&
	aios_wait_state $id RUNNING &&
	test "$(job_field $id %N)" = "node[1-2]" &&
	test "$(job_field $id %D)" = 2 &&
	aios_wait_for 10 grep -q "^node\[1-2\] 2 2$" two.out &&
	aios-nodes --noheader node1 | grep -E "^node1 +MIXED +1/4 " &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success '-n 6 packs 4 tasks on one node and 2 on the next' '
	id=$(aios-submit --parsable -n 6 --wrap "sleep 30") &&
	aios_wait_state $id RUNNING &&
	test "$(job_field $id %N)" = "node[1-2]" &&
	test "$(job_field $id %C)" = 6 &&
	aios-nodes --noheader >n.out &&
	grep -E "^node1 +ALLOCATED +4/4 " n.out &&
	grep -E "^node2 +MIXED +2/4 " n.out &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success '-n 2 -c 3 needs two nodes (3 CPUs per task)' '
	id=$(aios-submit --parsable -n 2 -c 3 --wrap "sleep 30") &&
	aios_wait_state $id RUNNING &&
	test "$(job_field $id %N)" = "node[1-2]" &&
	test "$(job_field $id %C)" = 6 &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success 'a job larger than the free CPUs waits for Resources, then runs' '
	big=$(aios-submit --parsable -n 16 --wrap "sleep 30") &&
	aios_wait_state $big RUNNING &&
	next=$(aios-submit --parsable -n 8 --wrap "true") &&
	aios_wait_for 10 sh -c "aios-queue -h -j $next -o %R | grep -x \"(Resources)\"" &&
	after=$(aios-submit --parsable -n 1 --wrap "true") &&
	aios_wait_for 10 sh -c "aios-queue -h -j $after -o %R | grep -x \"(Priority)\"" &&
	aios-cancel $big &&
	aios_wait_state $next COMPLETED &&
	aios_wait_state $after COMPLETED
'

test_expect_success '--mem is reserved per node' '
	id=$(aios-submit --parsable -N 2 --mem 1536M --wrap "sleep 30") &&
	aios_wait_state $id RUNNING &&
	aios-nodes --noheader node1 | grep -E "^node1 .* 1\.5G/2G" &&
	id2=$(aios-submit --parsable -N 4 --mem 1G --wrap "true") &&
	aios_wait_for 10 sh -c "aios-queue -h -j $id2 -o %R | grep -x \"(Resources)\"" &&
	aios-cancel $id && aios_wait_state $id2 COMPLETED
'

test_expect_success 'a job that can never fit is rejected at submit' '
	test_must_fail aios-submit -n 17 --wrap true 2>err &&
	grep "requested node configuration is not available" err &&
	test_must_fail aios-submit -N 5 --wrap true 2>err2 &&
	grep "requested 5 nodes but partition batch has only 4" err2 &&
	test_must_fail aios-submit --mem 3G --wrap true 2>err3 &&
	grep "requested node configuration is not available" err3
'

test_done
