#!/bin/sh
test_description='job arrays (throttle, env, %A_%a, folding, cancel, --wait), the cron pipeline, requeue, --signal, #SBATCH scripts and unsupported options'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

cron="${AIOS_SRCDIR:-$SHARNESS_TEST_SRCDIR/..}/examples/cron"

# overlap FILE_PREFIX: the most tasks that ran at the same moment, from
# their recorded start-N and end-N times
max_overlap() {
	for f in "$1"/start-*; do
		t=${f##*-}
		echo "$(cat "$f") 1"
		echo "$(cat "$1/end-$t") -1"
	done | sort -n -k1,1 -k2,2n | awk '{ n += $2; if (n > m) m = n } END { print m }'
}

test_expect_success 'start 2 nodes of 2 CPUs' '
	aios_start --nodes 2 --cpus-per-node 2 --heartbeat 1 --node-timeout 3 &&
	cleanup aios_stop
'

test_expect_success 'an array runs every task with its environment and output file' '
	cat >task.sh <<-\EOT &&
	#!/bin/sh
	echo "$AIOS_ARRAY_JOB_ID $AIOS_ARRAY_TASK_ID $AIOS_ARRAY_TASK_COUNT $AIOS_ARRAY_TASK_MIN $AIOS_ARRAY_TASK_MAX $SLURM_ARRAY_TASK_ID $AIOS_JOB_ID"
	EOT
	a=$(aios-submit --parsable --array=1,3,5-7 task.sh) &&
	for t in 1 3 5 6 7; do aios_wait_for 30 test -s aios-${a}_$t.out || return 1; done &&
	test_expect_code 0 aios-submit --wait --array=0 --wrap true &&
	read aid tid count min max stid jid <aios-${a}_5.out &&
	test "$aid $tid $count $min $max $stid" = "$a 5 5 1 7 5" &&
	test "$jid" -gt "$a" &&
	aios_wait_for 20 sh -c "test \"\$(aios-queue -h -r -j $a -o %T | sort -u)\" = COMPLETED" &&
	test "$(aios-queue -h -r -j $a -o %i | sort | tr "\n" " ")" = "${a}_1 ${a}_3 ${a}_5 ${a}_6 ${a}_7 "
'

test_expect_success 'a bad --array is refused naming the problem' '
	test_must_fail aios-submit --array=5-1 --wrap true 2>err &&
	grep "range \"5-1\" goes backwards" err &&
	test_must_fail aios-submit --array=0-3%0 --wrap true 2>err &&
	grep "throttle" err
'

test_expect_success 'the throttle is never exceeded (from the recorded times)' '
	mkdir thr &&
	a=$(aios-submit --parsable --array=0-7%2 -o /dev/null --wrap \
		"date +%s.%N >\"$PWD/thr/start-\$AIOS_ARRAY_TASK_ID\"; sleep 0.4; date +%s.%N >\"$PWD/thr/end-\$AIOS_ARRAY_TASK_ID\"") &&
	aios_wait_for 60 sh -c "test \$(ls thr | grep -c end-) = 8" &&
	test "$(max_overlap thr)" -le 2 &&
	test "$(max_overlap thr)" = 2
'

test_expect_success 'pending tasks fold into one row; -r expands; the throttle reason shows' '
	a=$(aios-submit --parsable -H --array=1-5%3 --wrap true) &&
	aios-queue -h -j $a -o "%i %T" >rows &&
	test_line_count = 1 rows &&
	grep "^${a}_\[1-5%3\] PENDING$" rows &&
	aios-queue -h -r -j $a -o %i >rows &&
	test_line_count = 5 rows &&
	echo $a >held
'

test_expect_success 'cancel one task (ID_TASK), then the whole array (ID)' '
	a=$(cat held) &&
	aios-cancel ${a}_3 &&
	test "$(aios-queue -h -r -j $a -o "%i %T" | grep CANCELLED)" = "${a}_3 CANCELLED" &&
	aios-queue -h -j $a -o %i | grep "^${a}_\[1-2,4-5%3\]$" &&
	aios-cancel $a &&
	test "$(aios-queue -h -r -j $a -t all -o %T | sort -u)" = CANCELLED
'

test_expect_success 'a task over the throttle waits with JobArrayTaskLimit' '
	a=$(aios-submit --parsable --array=0-2%1 --wrap "sleep 30") &&
	aios_wait_for 20 sh -c "aios-queue -h -r -j $a -o \"%i %r\" | grep \"${a}_2 JobArrayTaskLimit\"" &&
	aios-queue --why ${a}_2 | grep JobArrayTaskLimit &&
	aios-cancel $a
'

test_expect_success '--wait on an array exits with the highest task exit code' '
	test_expect_code 5 aios-submit --wait --array=0-3 -o /dev/null --wrap \
		"exit \$(( AIOS_ARRAY_TASK_ID == 2 ? 5 : AIOS_ARRAY_TASK_ID == 1 ? 3 : 0 ))"
'

test_expect_success 'the cron pipeline runs to completion: prepare, array, evaluate' '
	OUT=$PWD/ok RUNS=0-5%2 "$cron/nightly.sh" >ids &&
	eval "$(tr " " "\n" <ids)" &&
	aios_wait_state $evaluate COMPLETED 60 &&
	aios_wait_state $cleanup CANCELLED 20 &&
	test "$(aios-queue -h -r -j $train -t all -o %T | sort -u)" = COMPLETED &&
	test -s ok/best.txt && test ! -e ok/FAILED &&
	test "$(max_overlap ok)" -le 2 &&
	job_field $cleanup %r | grep -i "dependency"
'

test_expect_success 'a failed array task: afterok job never runs, afternotok job runs' '
	OUT=$PWD/bad RUNS=0-3 FAIL_TASK=2 "$cron/nightly.sh" >ids &&
	eval "$(tr " " "\n" <ids)" &&
	aios_wait_state $cleanup COMPLETED 60 &&
	aios_wait_state $evaluate CANCELLED 20 &&
	test "$(aios-queue -h -r -j $train -o "%i %T" | grep FAILED)" = "${train}_2 FAILED" &&
	test -e bad/FAILED && test ! -e bad/best.txt &&
	test "$(job_field $evaluate %M)" = "0:00"
'

test_expect_success 'aios-control requeue: a running job runs again, counted' '
	id=$(aios-submit --parsable -o rq.out --wrap "echo run \$AIOS_RESTART_COUNT \$SLURM_RESTART_COUNT; sleep 300") &&
	aios_wait_for 20 grep "run 0 0" rq.out &&
	aios-control requeue $id &&
	aios_wait_for 30 grep "run 1 1" rq.out &&
	test "$(job_state $id)" = RUNNING &&
	aios-control show job $id | grep "\"restarts\": 1" &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success 'requeue refusals say why' '
	id=$(aios-submit --parsable -H --wrap true) &&
	test_must_fail aios-control requeue $id 2>err &&
	grep "pending already" err &&
	test_must_fail aios-control requeue 999999 2>err &&
	grep "no such job" err &&
	aios-cancel $id
'

test_expect_success ROOT 'requeue of another user'"'"'s job is refused' '
	id=$(aios-submit --parsable --wrap "sleep 300") &&
	aios_wait_state $id RUNNING &&
	test_must_fail as_nobody aios-control requeue $id 2>err &&
	grep "permission denied" err &&
	aios-cancel $id
'

test_expect_success '--signal=B:USR1@59 reaches the batch shell before the limit' '
	cat >sig.sh <<-\EOT &&
	#!/bin/bash
	trap "echo got USR1; exit 0" USR1
	bash -c "trap \"echo child got USR1\" USR1; sleep 120 & wait" &
	wait
	EOT
	id=$(aios-submit --parsable --time=1 --signal=B:USR1@59 -o sig.out sig.sh) &&
	aios_wait_state $id COMPLETED 30 &&
	grep "^got USR1" sig.out &&
	! grep "child got USR1" sig.out &&
	test_must_fail aios-submit --signal=NOPE@10 --wrap true 2>err &&
	grep "unknown signal \"NOPE\"" err
'

test_expect_success '--requeue: a job on a failed node goes back to PENDING and runs again' '
	id=$(aios-submit --parsable --requeue -N 2 -n 2 -o nf.out --wrap "echo start \$AIOS_RESTART_COUNT; sleep 300") &&
	aios_wait_state $id RUNNING &&
	kill -9 $(pid_of node2/aiosd.pid) &&
	aios_wait_state $id PENDING 30 &&
	test "$(aios-queue -h -j $id -o %r)" != None &&
	aios_start &&
	aios_wait_for 40 grep "start 1" nf.out &&
	aios-cancel $id && aios_wait_state $id CANCELLED
'

test_expect_success 'a Slurm script with #SBATCH lines and SLURM_* variables runs unchanged' '
	cat >slurm.sh <<-\EOT &&
	#!/bin/bash
	#SBATCH --job-name=slurmish
	#SBATCH --nodes=2
	#SBATCH --ntasks-per-node=1
	#SBATCH --cpus-per-task=1
	#SBATCH --time=00:05:00
	#SBATCH --output=slurm-%j.out
	#SBATCH -A myproject
	#SBATCH --export=ALL
	echo "id=$SLURM_JOB_ID jobid=$SLURM_JOBID name=$SLURM_JOB_NAME"
	echo "nodes=$SLURM_JOB_NODELIST nnodes=$SLURM_NNODES ntasks=$SLURM_NTASKS cpt=$SLURM_CPUS_PER_TASK"
	echo "dir=$SLURM_SUBMIT_DIR part=$SLURM_JOB_PARTITION account=$SLURM_JOB_ACCOUNT limit=$SLURM_TIME_LIMIT"
	echo "tpn=$SLURM_TASKS_PER_NODE nodeid=$SLURM_NODEID"
	EOT
	id=$(aios-submit --parsable slurm.sh) &&
	aios_wait_state $id COMPLETED &&
	cat slurm-$id.out &&
	grep "^id=$id jobid=$id name=slurmish$" slurm-$id.out &&
	grep "^nodes=node\[1-2\] nnodes=2 ntasks=2 cpt=1$" slurm-$id.out &&
	grep "^dir=$PWD part=batch account=myproject limit=5$" slurm-$id.out &&
	grep "^tpn=1(x2) nodeid=0$" slurm-$id.out
'

test_expect_success 'an unsupported option is an error naming it; --ignore-unsupported warns' '
	printf "#!/bin/sh\n#SBATCH --mail-type=END\ntrue\n" >mail.sh &&
	test_must_fail aios-submit mail.sh 2>err &&
	grep "line 2: option --mail-type is not supported by AIOS" err &&
	test_must_fail aios-submit -w node1 --wrap true 2>err &&
	grep "option -w is not supported" err &&
	id=$(aios-submit --parsable --ignore-unsupported mail.sh 2>err) &&
	grep "ignoring --mail-type" err &&
	aios_wait_state $id COMPLETED &&
	id=$(aios-submit --parsable --ignore-unsupported --mem-per-cpu=2G \
		--wrap true 2>err) &&
	test "$(grep -c "ignoring --mem-per-cpu" err)" = 1 &&
	id=$(aios-submit --parsable --ignore-unsupported --mem-per-cpu=2G \
		mail.sh 2>err) &&
	test "$(grep -c "ignoring --mem-per-cpu" err)" = 1 &&
	aios_wait_state $id COMPLETED
'

test_expect_success 'ID_TASK names one task in aios-queue -j, --why, --watch and aios-control' '
	aid=$(aios-submit --parsable -H --array=0-3 -J idt --wrap true) &&
	test_when_finished "aios-cancel $aid" &&
	aios-queue -h -r -j ${aid}_2,${aid}_3 -o %i >ids &&
	printf "%s\n" ${aid}_2 ${aid}_3 >expect &&
	test_cmp expect ids &&
	test "$(aios-queue -h -r -j $aid -o %i | wc -l)" = 4 &&
	aios-queue --why ${aid}_2 | grep "^Job [0-9]* is PENDING" &&
	aios-control show job ${aid}_3 | grep "\"array_task_id\": 3" &&
	{ aios-queue --watch -j ${aid}_1 >w.out 2>&1 & echo $! >w.pid; } &&
	test_when_finished "kill \$(cat w.pid)" &&
	aios_wait_for 10 grep -q "job   ${aid}_1 idt .* PENDING" w.out &&
	aios-control release ${aid}_1 &&
	aios_wait_state ${aid}_1 COMPLETED &&
	test "$(aios-queue -h -j ${aid}_2 -o %T)" = PENDING &&
	aios_wait_for 10 grep -q "job   ${aid}_1 idt .* COMPLETED" w.out &&
	! grep "${aid}_2" w.out &&
	{ aios-queue --watch -j $aid >wa.out 2>&1 & echo $! >wa.pid; } &&
	test_when_finished "kill \$(cat wa.pid)" &&
	aios_wait_for 10 grep -q "job   ${aid}_3 idt .* PENDING" wa.out &&
	test_must_fail aios-control show job ${aid}_9 2>err &&
	grep "job ${aid}_9: no such array task" err &&
	test_expect_code 2 aios-queue -j ${aid}_x 2>err &&
	grep "invalid job id \"${aid}_x\" (expected ID or ID_TASK)" err
'

test_done
