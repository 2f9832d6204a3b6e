#!/bin/sh
test_description='a node daemon killed: node DOWN, its job NODE_FAIL with a reason; it comes back'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a 2-node cluster with a short node timeout' '
	aios_start --nodes 2 --cpus-per-node 1 --heartbeat 1 --node-timeout 3 &&
	cleanup aios_stop
'

test_expect_success 'kill -9 the node daemon running a job' '
	id=$(aios-submit --parsable -n 2 --wrap "sleep 308") &&
	aios_wait_state $id RUNNING &&
	test "$(job_field $id %N)" = "node[1-2]" &&
	echo $id >job &&
	kill -9 $(pid_of node1/aiosd.pid)
'

test_expect_success 'the node goes DOWN with a reason' '
	aios_wait_node node1 DOWN 20 &&
	aios-nodes --noheader node1 | grep "not responding"
'

test_expect_success 'its job ends NODE_FAIL with the reason' '
	id=$(cat job) &&
	aios_wait_state $id NODE_FAIL 20 &&
	job_field $id %r | grep "node node1 not responding"
'

test_expect_success 'node2 is free again and runs new work' '
	id=$(aios-submit --parsable --wrap true) &&
	aios_wait_state $id COMPLETED &&
	aios-nodes --noheader node2 | grep -E "^node2 +IDLE"
'

test_expect_success 'restarting the node daemon brings node1 back; the orphan is killed' '
	aios_start &&
	aios_wait_node node1 IDLE 20 &&
	aios_wait_for 10 sh -c "! pgrep -f \"sleep 30[8]\""
'

test_done
