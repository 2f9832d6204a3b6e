#!/bin/sh
test_description='aios-acct: finished jobs and steps from the history, filters, fields, summary, who sees what'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

conf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"; }
# hup: send SIGHUP, wait for the controller to log one more reload
hup() {
    _log="$SHARNESS_TRASH_DIRECTORY/cluster/aiosctld.log"
    _n=$(grep -c reloaded "$_log")
    kill -HUP $(pid_of aiosctld.pid) &&
    aios_wait_for 10 sh -c "test \$(grep -c reloaded \"$_log\") -gt $_n"
}
# acct_one ID FIELDS: the job's fields, parsable, without header or steps
acct_one() {
    aios-acct -X -P -n -j "$1" -o "$2"
}

test_expect_success 'start 2 nodes of 2 CPUs' '
	aios_start --nodes 2 --cpus-per-node 2 --kill-wait 1 &&
	cleanup aios_stop &&
	mkdir -m 0777 shared &&
	date +%F >day
'

test_expect_success 'jobs complete, fail, are cancelled (running and pending) and time out' '
	ok=$(aios-submit --parsable -J ok --wrap "sleep 2") &&
	fail=$(aios-submit --parsable -J fail -N 2 -n 2 --wrap "exit 3") &&
	long=$(aios-submit --parsable -J long --wrap "sleep 600") &&
	to=$(aios-submit --parsable -J to -t 0:01 --wrap "sleep 600") &&
	pend=$(aios-submit --parsable -J pend -H --wrap true) &&
	aios_wait_state $ok COMPLETED &&
	aios_wait_state $fail FAILED &&
	aios_wait_state $long RUNNING &&
	aios-cancel $long &&
	aios_wait_state $long CANCELLED &&
	aios-cancel $pend &&
	aios_wait_state $pend CANCELLED &&
	aios_wait_state $to TIMEOUT 30
'

test_expect_success 'each is listed with its name, state and exit code' '
	aios-acct -X -P -n -o JobID,JobName,State,ExitCode \
		-j $ok,$fail,$long,$to,$pend >out &&
	cat >exp <<-EOF &&
	$ok|ok|COMPLETED|0:0
	$fail|fail|FAILED|3:0
	$long|long|CANCELLED|0:15
	$to|to|TIMEOUT|0:15
	$pend|pend|CANCELLED|0:0
	EOF
	test_cmp exp out
'

test_expect_success 'nodes, CPUs, node list, user, partition, time limit, reason' '
	test "$(acct_one $fail NNodes,NCPUS,NTasks,NodeList)" = "2|2|2|node[1-2]" &&
	test "$(acct_one $ok NNodes,NCPUS,User,Partition)" = "1|1|root|batch" &&
	test "$(acct_one $to Timelimit)" = "00:00:01" &&
	test "$(acct_one $ok Timelimit)" = UNLIMITED &&
	test "$(acct_one $pend NodeList,Start,ElapsedRaw,NCPUS)" = "None assigned|Unknown|0|1" &&
	test "$(acct_one $pend Reason)" = "cancelled by root" &&
	test "$(acct_one $ok Reason)" = None
'

test_expect_success 'elapsed covers what the job slept; CPU time is elapsed x CPUs' '
	el=$(acct_one $ok ElapsedRaw) &&
	test $el -ge 2 &&
	test "$(acct_one $ok Elapsed)" = "$(printf "00:00:%02d" $el)" &&
	test "$(acct_one $ok CPUTimeRAW)" = $el &&
	test $(acct_one $to ElapsedRaw) -le 30 &&
	test $(acct_one $long ElapsedRaw) -le 60 &&
	acct_one $ok TotalCPU | grep -E "^[0-9]{2}:[0-9]{2}\.[0-9]{3}$" &&
	acct_one $ok MaxRSS | grep -E "^[1-9][0-9]*K$" &&
	test -z "$(acct_one $pend TotalCPU,MaxRSS | tr -d "|")" &&
	test "$(acct_one $ok GPUs)" = 0
'

test_expect_success PYTHON3 '--json has every field, consistent with the times' '
	aios-acct --json -j $ok,$pend >j.json &&
	python3 - j.json <<-\EOF
	import json, sys
	jobs = json.load(open(sys.argv[1]))["jobs"]
	ok, pend = jobs
	for k in ("id", "job_id", "name", "user", "uid", "partition", "state",
	          "exit_code", "signal", "submit_time", "start_time", "end_time",
	          "wait", "elapsed", "time_limit", "nnodes", "ncpus", "ntasks",
	          "nodelist", "cputime", "total_cpu", "max_rss_kb", "gpus", "steps"):
	    assert k in ok, k
	assert ok["job_id"] == str(ok["id"])
	assert ok["elapsed"] == int(ok["end_time"] - ok["start_time"])
	assert ok["wait"] == int(ok["start_time"] - ok["submit_time"])
	assert ok["cputime"] == ok["elapsed"] * ok["ncpus"]
	assert ok["submit_time"] <= ok["start_time"] <= ok["end_time"]
	assert ok["max_rss_kb"] > 0 and ok["total_cpu"] >= 0
	assert ok["steps"] == []
	for k in ("start_time", "nodelist", "total_cpu", "max_rss_kb"):
	    assert k not in pend, k
	assert pend["elapsed"] == 0 and pend["reason"] == "cancelled by root"
	EOF
'

test_expect_success PYTHON3 'wait is the time from submit to start' '
	b=$(aios-submit --parsable --begin=now+2 --wrap true) &&
	aios_wait_state $b COMPLETED &&
	aios-acct --json -j $b >b.json &&
	python3 -c "import json, sys; j = json.load(open(sys.argv[1]))[\"jobs\"][0]; assert j[\"wait\"] >= 1, j" b.json
'

test_expect_success 'steps are listed as JOBID.STEP unless -X' '
	st=$(aios-submit --parsable -N 2 -n 2 --wrap "aios-run hostname; aios-run -n 1 false; true") &&
	aios_wait_state $st COMPLETED &&
	aios-acct -P -n -o JobID,JobName,NNodes,NTasks,State,ExitCode -j $st >out &&
	cat >exp <<-EOF &&
	$st|wrap|2|2|COMPLETED|0:0
	$st.1|hostname|2|2|COMPLETED|0:0
	$st.2|false|1|1|FAILED|1:0
	EOF
	test_cmp exp out &&
	aios-acct -X -P -n -o JobID -j $st >outx &&
	echo $st >expx &&
	test_cmp expx outx
'

test_expect_success 'array tasks are ID_TASK; -j ID takes the whole array' '
	arr=$(aios-submit --parsable -a 0-2 --wrap "exit \$AIOS_ARRAY_TASK_ID") &&
	aios_wait_for 30 sh -c "test \$(aios-acct -X -n -j $arr | wc -l) = 3" &&
	aios-acct -X -P -n -o JobID,State,ExitCode -j $arr >out &&
	cat >exp <<-EOF &&
	${arr}_0|COMPLETED|0:0
	${arr}_1|FAILED|1:0
	${arr}_2|FAILED|2:0
	EOF
	test_cmp exp out &&
	test "$(acct_one ${arr}_2 JobID,ExitCode)" = "${arr}_2|2:0"
'

test_expect_success '-s takes names and codes of final states' '
	aios-acct -X -P -n -o JobID -s CA,timeout >out &&
	printf "%s\n" $long $to $pend >exp &&
	test_cmp exp out &&
	test "$(aios-acct -X -P -n -o JobID -s F -j $ok,$fail)" = $fail &&
	test_expect_code 2 aios-acct -s R 2>err &&
	grep "RUNNING is not a final state: aios-acct lists finished jobs" err &&
	test_expect_code 2 aios-acct -s bogus 2>err &&
	grep "invalid job state \"bogus\"" err
'

test_expect_success '-S, -E and -r bound what is listed; the default is today' '
	test "$(aios-acct -X -n -S now+1h | wc -l)" = 0 &&
	test "$(aios-acct -X -n -S 2000-01-01 -E 2000-01-02T12:00 | wc -l)" = 0 &&
	aios-acct -X -P -n -o JobID -S now-1d -E now >recent &&
	grep -x $ok recent &&
	grep -x $pend recent &&
	{ test "$(date +%F)" != "$(cat day)" || aios-acct -X -P -n -o JobID >today; } &&
	{ test "$(date +%F)" != "$(cat day)" || test_cmp recent today; } &&
	test "$(aios-acct -X -n -S now-1d -r nope | wc -l)" = 0 &&
	aios-acct -X -P -n -o JobID -S now-1d -r nope,batch >part &&
	test_cmp recent part &&
	test_expect_code 2 aios-acct -S yesterday 2>err &&
	grep "invalid time \"yesterday\"" err &&
	test_expect_code 2 aios-acct -S now -E now-1h 2>err &&
	grep "the time window ends (now-1h) before it starts" err
'

test_expect_success '--parsable, --parsable2, the table and fixed widths' '
	aios-acct -X -p -o JobID,State -j $ok >p &&
	printf "JobID|State|\n$ok|COMPLETED|\n" >exp &&
	test_cmp exp p &&
	aios-acct -X -P -o jobid,STATE -j $ok >p2 &&
	printf "JobID|State\n$ok|COMPLETED\n" >exp2 &&
	test_cmp exp2 p2 &&
	aios-acct -X -o JobID%8,State%4,ExitCode -j $fail >t &&
	printf "JobID    Sta+ ExitCode\n-------- ---- --------\n%-8s FAI+      3:0\n" $fail >expt &&
	test_cmp expt t &&
	aios-acct -X -n -o State -j $ok >n &&
	echo COMPLETED >expn &&
	test_cmp expn n &&
	test_expect_code 2 aios-acct -o JobID,Bogus 2>err &&
	grep "unknown field \"Bogus\"" err &&
	aios-acct -e | grep "^TotalCPU"
'

test_expect_success PYTHON3 '--summary: jobs, CPU-hours and GPU-hours per user' '
	aios-acct -a -X -S now-1d --json >all.json &&
	aios-acct -a -S now-1d --summary --json >sum.json &&
	python3 - all.json sum.json <<-\EOF &&
	import json, sys
	jobs = json.load(open(sys.argv[1]))["jobs"]
	users = json.load(open(sys.argv[2]))["users"]
	by = {}
	for j in jobs:
	    u = by.setdefault(j["user"], [0, 0, 0])
	    u[0] += 1
	    u[1] += j["elapsed"] * j["ncpus"]
	    u[2] += j["elapsed"] * j["gpus"]
	assert len(users) == len(by), (users, by)
	for u in users:
	    assert by[u["user"]] == [u["jobs"], u["cpu_seconds"], u["gpu_seconds"]], u
	    assert abs(u["cpu_hours"] - u["cpu_seconds"] / 3600.0) < 1e-9
	EOF
	n=$(aios-acct -X -n -S now-1d -u root | wc -l) &&
	aios-acct -S now-1d -u root --summary >sum &&
	head -n 1 sum | grep "^User *Jobs *CPU-hours *GPU-hours$" &&
	grep -E "^root +$n +[0-9]+\.[0-9]{2} +0\.00$" sum &&
	aios-acct -S now-1d -u root --summary -P -n >sump &&
	grep -E "^root\|$n\|[0-9]+\.[0-9]{2}\|0\.00$" sump
'

test_expect_success ROOT 'a plain user sees only their own jobs and is told why not more' '
	mine=$(cd shared && as_nobody aios-submit --parsable -J mine --wrap true) &&
	aios_wait_state $mine COMPLETED &&
	as_nobody aios-acct -X -P -n -o JobID,User -S now-1d >out &&
	echo "$mine|nobody" >exp &&
	test_cmp exp out &&
	as_nobody aios-acct -X -n -j $ok >none &&
	test_must_be_empty none &&
	test_must_fail as_nobody aios-acct -u root 2>err &&
	grep "permission denied: nobody may list only their own jobs, not those of root (accounting.show_all_users is false; root and operators may list everyone" err &&
	test_must_fail as_nobody aios-acct -a 2>err &&
	grep "permission denied: nobody may list only their own jobs, not all users" err &&
	test "$(acct_one $mine User)" = nobody
'

test_expect_success ROOT 'accounting.show_all_users lets everyone see every job' '
	printf "accounting:\n  show_all_users: true\n" >>"$(conf)" &&
	hup &&
	test "$(as_nobody aios-acct -X -P -n -o JobID -u root -j $ok)" = $ok &&
	test "$(as_nobody aios-acct -X -P -n -o JobID -a -j $ok)" = $ok
'

test_expect_success 'jobs dropped from the queue stay in the history' '
	aios-acct -a -X -P -n -S now-1d >before &&
	sed "s/^controller:\$/controller:\n  min_job_age: 1/" "$(conf)" >new.yaml &&
	cp new.yaml "$(conf)" &&
	hup &&
	aios_wait_for 20 sh -c "test -z \"\$(aios-queue -h -t all -j $ok -o %i)\"" &&
	aios-acct -a -X -P -n -S now-1d >after &&
	test_cmp before after &&
	test "$(acct_one $ok State)" = COMPLETED
'

test_expect_success 'queries run while jobs are submitted and run' '
	for i in 1 2 3 4; do
		aios-acct -a -S 2000-01-01 --json >q$i.json &
	done &&
	id=$(aios-submit --parsable --wrap true) &&
	aios_wait_state $id COMPLETED &&
	wait &&
	for i in 1 2 3 4; do grep "\"job_id\": \"$ok\"" q$i.json || return 1; done
'

test_expect_success 'usage errors' '
	test_expect_code 2 aios-acct -j 1x 2>err &&
	grep "invalid job id \"1x\" (expected ID or ID_TASK)" err &&
	test_expect_code 2 aios-acct -a -u root 2>err &&
	grep "give --user or --allusers, not both" err &&
	test_expect_code 2 aios-acct --summary -o JobID 2>err &&
	grep "takes no --format" err &&
	aios-acct --help | grep "^Usage: aios-acct"
'

test_done
