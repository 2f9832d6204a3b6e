#!/bin/sh
test_description='aios-control: update jobs (owners within limits, operators beyond), show partitions and the configuration, reconfigure, shutdown'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

conf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"; }
logf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aiosctld.log"; }

test_expect_success 'start 2 nodes of 1 CPU' '
	aios_start --nodes 2 --cpus-per-node 1 --gpus-per-node 0 &&
	cleanup aios_stop &&
	mkdir -m 0777 shared
'

test_expect_success 'show partition: text and --json' '
	cat >part.exp <<-EOF &&
	PartitionName=batch Default=YES State=UP Priority=1
	   Nodes=node[1-2] TotalNodes=2 UsableNodes=2
	   TotalCPUs=2 IdleCPUs=2 TotalGPUs=0 IdleGPUs=0
	   MaxTime=UNLIMITED PendingJobs=0 RunningJobs=0
	EOF
	aios-control show partition >part.out &&
	test_cmp part.exp part.out &&
	aios-control show partition batch >part.out &&
	test_cmp part.exp part.out &&
	aios-control show partition --json >part.json &&
	python3 -c "
import json
d = json.load(open(\"part.json\"))
assert d[\"version\"] == 1, d
p, = d[\"partitions\"]
assert (p[\"name\"], p[\"default\"], p[\"state\"], p[\"nodes\"]) == (\"batch\", True, \"UP\", \"node[1-2]\"), p
assert (p[\"cpus\"], p[\"cpus_idle\"], p[\"max_time\"], p[\"jobs_pending\"]) == (2, 2, -1, 0), p
" &&
	test_must_fail aios-control show partition nope 2>err &&
	grep "no partition nope" err
'

test_expect_success 'show config: key = value lines, and --json' '
	aios-control show config >config.out &&
	grep -E "^config_file +=  *$(conf)$" config.out &&
	grep -E "^scheduler\.policy +=  *fifo$" config.out &&
	grep -E "^scheduler\.priority\.max_age +=  *7-00:00:00$" config.out &&
	grep -E "^controller\.operators +=  *\(none\)$" config.out &&
	grep -E "^nodes\.node2\.address +=  *127\.0\.1\.2$" config.out &&
	grep -E "^nodes\.node1\.cpus +=  *1$" config.out &&
	grep -E "^partitions\.batch\.nodes +=  *node\[1-2\]$" config.out &&
	grep -E "^partitions\.batch\.max_time +=  *UNLIMITED$" config.out &&
	aios-control show config --json >config.json &&
	python3 -c "
import json
d = json.load(open(\"config.json\"))
c = d[\"config\"]
assert d[\"version\"] == 1
assert c[\"scheduler\"][\"policy\"] == \"fifo\", c
assert c[\"controller\"][\"operators\"] == [], c
assert [n[\"name\"] for n in c[\"nodes\"]] == [\"node1\", \"node2\"], c
assert c[\"partitions\"][0][\"default\"] is True, c
" &&
	test_expect_code 2 aios-control show config extra 2>err &&
	grep "show config: unexpected \"extra\"" err &&
	test_expect_code 2 aios-control show frob 2>err &&
	grep "show: expected \"job JOBID\", \"node NAME\", \"partition \[NAME\]\" or \"config\"" err
'

test_expect_success 'reconfigure picks up a changed file: a new partition, the policy' '
	cp "$(conf)" orig.yaml &&
	sed -i "s/^  policy: fifo/  policy: sjf/" "$(conf)" &&
	cat >>"$(conf)" <<-EOF &&
	  - name: short
	    nodes: node1
	    max_time: 30
	    priority: 5
	EOF
	aios-control reconfigure &&
	aios-control show config | grep -E "^scheduler\.policy +=  *sjf$" &&
	aios-queue --stats | grep "policy sjf" &&
	aios-control show partition short >short.out &&
	grep "^PartitionName=short Default=NO State=UP Priority=5$" short.out &&
	grep "^   MaxTime=30:00 " short.out &&
	grep "reconfigured by root" "$(logf)" &&
	sed -i "s/^  policy: sjf/  policy: fifo/" "$(conf)" &&
	aios-control reconfigure &&
	aios-queue --stats | grep "policy fifo"
'

test_expect_success 'a broken config is refused with file:line, the running one is kept' '
	sock=$(sed -n "s/^  socket: //p" "$(conf)") &&
	cp "$(conf)" good.yaml &&
	test_when_finished "cp good.yaml \"$(conf)\"" &&
	sed -i "s/^  policy: fifo/  policy: fifo\n  bogus: 1/" "$(conf)" &&
	test_must_fail env AIOS_SOCKET="$sock" aios-control reconfigure 2>err &&
	grep "^aios-control: reconfigure refused, keeping the running configuration: $(conf):[0-9]*:3: unknown key \"bogus\" in scheduler" err &&
	grep "reconfigure by root refused" "$(logf)" &&
	AIOS_SOCKET="$sock" aios-control show config >config.out &&
	grep -E "^scheduler\.policy +=  *fifo$" config.out &&
	grep -E "^partitions\.short\.priority +=  *5$" config.out
'

test_expect_success ROOT 'plain users may not reconfigure or shut the controller down' '
	test_must_fail as_nobody aios-control reconfigure 2>err &&
	grep "^aios-control: permission denied: only root and operators may reconfigure the controller$" err &&
	test_must_fail as_nobody aios-control shutdown 2>err &&
	grep "^aios-control: permission denied: only root and operators may shut the controller down$" err &&
	aios-queue >/dev/null
'

test_expect_success ROOT 'the owner updates a pending job: time limit down, name, partition, nice up' '
	id=$(cd shared && as_nobody aios-submit --parsable -H -t 20 -J orig --wrap true) &&
	as_nobody aios-control update job $id TimeLimit=10 Name=renamed Partition=short Nice=5 &&
	test "$(job_field $id "%j %l %P")" = "renamed 10:00 short" &&
	aios-control show job $id | grep "\"nice\": 5" &&
	as_nobody aios-control update JobId=$id time=5:30 &&
	test "$(job_field $id %l)" = 5:30 &&
	echo $id >owned
'

test_expect_success ROOT 'the owner is refused what needs an operator, and why' '
	id=$(cat owned) &&
	test_must_fail as_nobody aios-control update job $id TimeLimit=30 2>err &&
	grep "^aios-control: job $id: permission denied: only operators and root may raise a time limit (from 5:30 to 30:00)$" err &&
	test_must_fail as_nobody aios-control update job $id TimeLimit=UNLIMITED 2>err &&
	grep "raise a time limit (from 5:30 to UNLIMITED)" err &&
	test_must_fail as_nobody aios-control update job $id Priority=1000000000000 2>err &&
	grep "^aios-control: job $id: permission denied: only operators and root may raise a job.s priority$" err &&
	test_must_fail as_nobody aios-control update job $id Nice=-1 2>err &&
	grep "only operators and root may set a negative nice (-1)$" err &&
	test_must_fail as_nobody aios-control update job $id Nice=1 2>err &&
	grep "only operators and root may lower a job.s nice (from 5 to 1)$" err &&
	test_must_fail as_nobody aios-control update job $id Name=half TimeLimit=30 2>err &&
	test "$(job_field $id "%j %l")" = "renamed 5:30" &&
	as_nobody aios-control update job $id Priority=-1000000000000 &&
	aios_wait_for 10 sh -c "aios-queue -h -j $id -o %Q | grep -x -- -1000000000000.00" &&
	aios-control update job $id TimeLimit=30 Nice=0 &&
	test "$(job_field $id %l)" = 30:00 &&
	aios-cancel $id
'

test_expect_success ROOT 'another user cannot update my job' '
	id=$(aios-submit --parsable -H --wrap true) &&
	test_must_fail as_nobody aios-control update job $id Name=mine 2>err &&
	grep "^aios-control: job $id: permission denied: it belongs to root, and only its owner, an operator or root may update it$" err &&
	aios-cancel $id
'

test_expect_success 'unknown keys, bad values and impossible shapes are refused, naming them' '
	id=$(aios-submit --parsable -H -J keep --wrap true) &&
	test_must_fail aios-control update job $id Foo=1 2>err &&
	grep "^aios-control: unknown key \"Foo\" (expected TimeLimit, Partition, Name, Nice or Priority)$" err &&
	test_must_fail aios-control update job $id TimeLimit=abc 2>err &&
	grep "^aios-control: invalid TimeLimit \"abc\": expected MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED$" err &&
	test_must_fail aios-control update job $id Partition=nope 2>err &&
	grep "^aios-control: invalid Partition \"nope\" (this cluster has: batch, short)$" err &&
	test_must_fail aios-control update job $id Nice=x 2>err &&
	grep "^aios-control: invalid Nice \"x\": expected an integer from -10000 to 10000$" err &&
	test_must_fail aios-control update job $id Priority=high 2>err &&
	grep "^aios-control: invalid Priority \"high\": expected a number$" err &&
	test_must_fail aios-control update job $id Name=x JobName=y 2>err &&
	grep "^aios-control: Name given twice$" err &&
	test_must_fail aios-control update job $id Partition=short 2>err &&
	grep "^aios-control: time limit exceeds partition short.s max_time of 1800 seconds$" err &&
	test "$(job_field $id "%j %P")" = "keep batch" &&
	test_expect_code 2 aios-control update job $id 2>err &&
	grep "update: nothing to change" err &&
	test_expect_code 2 aios-control update job $id Name 2>err &&
	grep "update: expected KEY=VALUE, got \"Name\"" err &&
	test_expect_code 2 aios-control update $id Name=x 2>err &&
	grep "update: expected \"job JOBID KEY=VALUE...\"" err &&
	test_must_fail aios-control update job 99999 Name=x 2>err &&
	grep "^aios-control: no job 99999$" err &&
	aios-cancel $id
'

test_expect_success 'a finished job cannot be updated' '
	id=$(aios-submit --parsable --wrap true) &&
	aios_wait_state $id COMPLETED &&
	test_must_fail aios-control update job $id Name=late 2>err &&
	grep "^aios-control: job $id is COMPLETED: a finished job cannot be updated$" err
'

test_expect_success 'a running job: a lower time limit ends it, a higher one lets it finish' '
	a=$(aios-submit --parsable -t 10 --wrap "sleep 300") &&
	aios_wait_state $a RUNNING &&
	test_must_fail aios-control update job $a Name=x 2>err &&
	grep "^aios-control: job $a is RUNNING: its Name can only be changed while it is pending$" err &&
	aios-control update job $a TimeLimit=0:01 &&
	aios_wait_state $a TIMEOUT &&
	cat >b.sh <<-\EOT &&
	#!/bin/sh
	# past the first limit (10 s), once the new one is set
	t0=$(date +%s)
	while [ ! -e go ]; do sleep 0.1; done
	while [ $(($(date +%s) - t0)) -lt 12 ]; do sleep 0.2; done
	echo done
	EOT
	b=$(aios-submit --parsable -t 0:10 -o b.out b.sh) &&
	aios_wait_state $b RUNNING &&
	aios-control update job $b TimeLimit=2:00 &&
	test "$(job_field $b %l)" = 2:00 &&
	touch go &&
	aios_wait_state $b COMPLETED 30 &&
	grep done b.out
'

test_expect_success 'an operator raises a pending job'"'"'s priority: it starts first' '
	blk=$(aios-submit --parsable -n 2 --wrap "sleep 300") &&
	aios_wait_state $blk RUNNING &&
	a=$(aios-submit --parsable -n 2 --wrap "sleep 300") &&
	b=$(aios-submit --parsable -n 2 --wrap "sleep 300") &&
	aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $b -o %y)\" = 2" &&
	aios-control show partition batch | grep "PendingJobs=2 RunningJobs=1" &&
	aios-control update job $b Priority=100 &&
	aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $b -o %y)\" = 1" &&
	aios-cancel $blk &&
	aios_wait_state $b RUNNING &&
	test "$(job_state $a)" = PENDING &&
	aios-cancel $a $b &&
	aios_wait_state $b CANCELLED
'

test_expect_success 'the update is in the job after a restart' '
	id=$(aios-submit --parsable -H -J before -t 20 --wrap true) &&
	aios-control update job $id Name=after TimeLimit=15 Priority=7 &&
	echo $id >updated
'

test_expect_success 'shutdown by root stops the controller; a running job goes on' '
	mkfifo gate &&
	r=$(aios-submit --parsable -o r.out --wrap "echo start; cat gate; echo end") &&
	aios_wait_state $r RUNNING &&
	aios_wait_for 10 grep -q start r.out &&
	echo $r >running &&
	pid=$(pid_of aiosctld.pid) &&
	aios-control shutdown &&
	aios_wait_for 20 sh -c "! kill -0 $pid" &&
	test_must_fail aios-queue 2>err &&
	grep "cannot connect to aiosctld" err &&
	grep "shutdown requested by root (running jobs go on)" "$(logf)"
'

test_expect_success 'a new controller finds the running job and the updated one' '
	aios_start &&
	r=$(cat running) &&
	test "$(job_state $r)" = RUNNING &&
	echo go >gate &&
	aios_wait_state $r COMPLETED &&
	grep end r.out &&
	id=$(cat updated) &&
	aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $id -o \"%j %l %Q\")\" = \"after 15:00 7.00\"" &&
	aios-cancel $id
'

test_done
