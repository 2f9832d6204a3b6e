#!/bin/sh
test_description='the event stream: aios-queue --watch follows changes as the controller pushes them, aios-control holds and releases, a subscriber that does not read is dropped'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

conf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"; }
logf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aiosctld.log"; }

test_expect_success 'start 2 nodes of 2 CPUs' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop
'

test_expect_success 'aios-queue --watch shows the snapshot, then each change' '
	aios-queue --watch >watch.out 2>&1 &
	echo $! >watch.pid &&
	test_when_finished "kill \$(cat watch.pid)" &&
	aios_wait_for 10 grep -q "node  node2 IDLE 0/2 CPUs" watch.out &&
	id=$(aios-submit --parsable -J watched --wrap "sleep 1") &&
	aios_wait_state $id COMPLETED &&
	aios_wait_for 10 grep -q "job   $id watched root COMPLETED node1" watch.out &&
	grep "job   $id watched root RUNNING node1" watch.out &&
	grep "node  node1 MIXED 1/2 CPUs" watch.out
'

test_expect_success 'aios-queue --watch shows control characters in names as ?' '
	esc=$(printf "\033") &&
	id=$(aios-submit --parsable -H -J "x${esc}[2Jy" --wrap true) &&
	test_when_finished "aios-cancel $id" &&
	{ aios-queue --watch -j $id >esc.out 2>&1 & echo $! >esc.pid; } &&
	test_when_finished "kill \$(cat esc.pid)" &&
	aios_wait_for 10 grep -q "x?\[2Jy" esc.out &&
	! grep -q "$esc" esc.out
'

test_expect_success 'aios-queue --watch --json: one event per line, filtered by -j' '
	id=$(aios-submit --parsable -H --wrap true) &&
	{ aios-queue --watch --json -j $id >watch.json 2>&1 & } &&
	echo $! >watch.pid &&
	test_when_finished "kill \$(cat watch.pid) 2>/dev/null; true" &&
	aios_wait_for 10 grep -q "\"event\": *\"snapshot\"" watch.json &&
	aios-control release $id &&
	aios_wait_state $id COMPLETED &&
	aios_wait_for 10 grep -q "\"state\": *\"COMPLETED\"" watch.json &&
	kill $(cat watch.pid) &&
	python3 -c "
import json, sys
lines = open(\"watch.json\").read().splitlines()
events = [json.loads(l) for l in lines]
assert events[0][\"event\"] == \"snapshot\", events[0]
ids = {e[\"job\"][\"id\"] for e in events[1:] if e[\"event\"] == \"job\"}
assert ids == {$id}, ids
assert not [e for e in events if e[\"event\"] in (\"node\", \"stats\")], \"filtered\"
"
'

test_expect_success 'aios-control holds and releases pending jobs' '
	blk=$(aios-submit --parsable -n 4 --wrap "sleep 600") &&
	aios_wait_state $blk RUNNING &&
	id=$(aios-submit --parsable --wrap true) &&
	aios-control hold $id &&
	test "$(job_field $id %r)" = JobHeldUser &&
	aios-control release $id &&
	aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $id -o %r)\" = Priority || test \"\$(aios-queue -h -j $id -o %r)\" = Resources" &&
	aios-cancel $blk &&
	aios_wait_state $id COMPLETED
'

test_expect_success 'aios-control refuses what it cannot do, naming it' '
	test_must_fail aios-control hold 99999 2>e1 &&
	grep "no job 99999" e1 &&
	id=$(aios-submit --parsable --wrap true) &&
	aios_wait_state $id COMPLETED &&
	test_must_fail aios-control release $id 2>e2 &&
	grep "job $id is COMPLETED: only a pending job can be released" e2 &&
	test_expect_code 2 aios-control frobnicate 1 2>e3 &&
	grep "unknown command \"frobnicate\"" e3
'

test_expect_success ROOT 'another user cannot hold my job' '
	id=$(aios-submit --parsable -H --wrap true) &&
	test_must_fail as_nobody aios-control release $id 2>err &&
	grep "permission denied: it belongs to root" err &&
	aios-cancel $id
'

test_expect_success 'aios-submit --wait follows the job on the stream' '
	test_expect_code 7 aios-submit --wait --wrap "exit 7" >out 2>err &&
	grep "ended FAILED" err
'

test_expect_success 'a subscriber that does not read is dropped, the controller goes on' '
	sed -i "s/^  kill_wait:/  event_backlog_kb: 16\n  kill_wait:/" "$(conf)" &&
	kill -HUP $(pid_of aiosctld.pid) &&
	aios_wait_for 10 grep -q "reloaded" "$(logf)" &&
	sock=$(sed -n "s/^  socket: //p" "$(conf)") &&
	cat >stuck.py <<-EOF &&
	import socket, struct, json, time, sys
	def frame(o):
	    b = json.dumps(o).encode()
	    return struct.pack(">I", len(b)) + b
	s = socket.socket(socket.AF_UNIX)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	s.connect("$sock")
	s.sendall(frame({"op": "hello", "seq": 0, "version": 1, "role": "client"}))
	s.sendall(frame({"op": "subscribe", "seq": 1}))
	open("stuck.ready", "w").close()
	time.sleep(60)
	EOF
	{ python3 stuck.py & echo $! >stuck.pid; } &&
	test_when_finished "kill \$(cat stuck.pid); aios-cancel -u \$(id -un)" &&
	aios_wait_for 10 test -f stuck.ready &&
	aios-submit -H --array=0-999 -J filler-with-a-longer-name --wrap true &&
	aios_wait_for 20 grep -q "dropping event subscriber" "$(logf)" &&
	aios-queue -h -r -t pending | wc -l >count &&
	test $(cat count) -ge 1000 &&
	aios-submit --parsable --wrap true >after.id &&
	aios_wait_state $(cat after.id) COMPLETED
'

test_expect_success 'the metrics endpoint answers curl in the Prometheus format' '
	port=$(sed -n "s/^  metrics_port: //p" "$(conf)") &&
	curl -sf "http://127.0.0.1:$port/metrics" >metrics.txt &&
	grep "^# TYPE aios_jobs gauge" metrics.txt &&
	grep -E "^aios_jobs\{state=\"PENDING\"\} [0-9]+$" metrics.txt &&
	grep -E "^aios_jobs\{state=\"STAGE_FAILED\"\} 0$" metrics.txt &&
	grep -E "^aios_nodes\{state=\"IDLE\"\} 2$" metrics.txt &&
	grep -E "^aios_cpus\{kind=\"total\"\} 4$" metrics.txt &&
	grep -E "^aios_sched_passes_total [1-9][0-9]*$" metrics.txt &&
	grep -E "^aios_rpcs_total [1-9][0-9]*$" metrics.txt &&
	grep -E "^aios_rpc_seconds_total [0-9.]+$" metrics.txt &&
	grep -E "^aios_jobs_finished_total [1-9][0-9]*$" metrics.txt &&
	test_expect_code 22 curl -sf "http://127.0.0.1:$port/other"
'

test_expect_success 'aios-control drain keeps new jobs off a node; resume takes it back' '
	aios-control drain node2 reason="disk check" &&
	aios-nodes --noheader node2 | grep -E "^node2 +DRAIN .*disk check \(by root\)" &&
	id=$(aios-submit --parsable -N 2 --wrap true) &&
	aios_wait_for 10 sh -c "aios-queue -h -j $id -o %r | grep -x ReqNodeNotAvail" &&
	aios-control resume node2 &&
	aios_wait_state $id COMPLETED &&
	aios-nodes --noheader node2 | grep -E "^node2 +IDLE"
'

test_expect_success 'aios-control drain: refusals and usage errors say why' '
	test_expect_code 2 aios-control drain node1 2>e1 &&
	grep "give a reason=TEXT" e1 &&
	test_must_fail aios-control drain node9 reason=x 2>e2 &&
	grep "no node node9" e2
'

test_expect_success ROOT 'only root and operators may drain' '
	test_must_fail as_nobody aios-control drain node1 reason=x 2>e3 &&
	grep "permission denied: only root and operators may drain nodes" e3
'

test_expect_success 'aios-control show and diag' '
	id=$(aios-submit --parsable -J shown --wrap true) &&
	aios_wait_state $id COMPLETED &&
	aios-control show job $id >job.json &&
	grep "\"name\": \"shown\"" job.json &&
	grep "\"state\": \"COMPLETED\"" job.json &&
	aios-control show node node1 | grep "\"cpus\": 2" &&
	aios-control diag | grep "\"passes\"" &&
	test_must_fail aios-control show job 99999 2>e &&
	grep "no job 99999" e
'

test_done
