#!/bin/sh
test_description='MPI in jobs: aios-run launches steps with PMI-1 or PMIx served by the node daemons; aios-exec runs commands on the nodes of a job, and stock mpiexec (Hydra) starts its proxies through it'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

ALLREDUCE="$AIOS_BUILDDIR/examples/mpi/allreduce"
node_log() { cat "$SHARNESS_TRASH_DIRECTORY/cluster/$1/aiosd.log"; }

test_expect_success 'start 2 nodes of 2 CPUs; a 2-node job holds them' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop &&
	id=$(aios-submit --parsable -N 2 -n 2 -t 10:00 --wrap "sleep 600") &&
	aios_wait_state $id RUNNING &&
	echo $id >job.id
'

test_expect_success 'aios-exec runs a command on another node of the job' '
	AIOS_JOB_ID=$(cat job.id) aios-exec -x node2 "echo \$AIOS_NODENAME \$AIOS_JOB_ID" >out &&
	echo "node2 $(cat job.id)" >expect &&
	test_cmp expect out
'

test_expect_success 'aios-exec relays stdin, stderr and the exit status' '
	echo "some input" | AIOS_JOB_ID=$(cat job.id) aios-exec node1 "cat; echo oops >&2; exit 3" >out 2>err;
	test $? = 3 &&
	echo "some input" >expect && test_cmp expect out &&
	grep -x oops err
'

test_expect_success 'aios-exec is refused for a job without an allocation on the node' '
	one=$(aios-submit --parsable -n 1 -t 1:00 --wrap true) &&
	aios_wait_state $one COMPLETED &&
	test_must_fail env AIOS_JOB_ID=$one aios-exec node1 true 2>err &&
	grep "job $one has no allocation on node node1" err &&
	test_must_fail env AIOS_JOB_ID=424242 aios-exec node2 true 2>err2 &&
	grep "job 424242 has no allocation on node node2" err2
'

test_expect_success 'aios-exec is refused to another user' '
	test_must_fail as_nobody env AIOS_JOB_ID=$(cat job.id) aios-exec node2 true 2>err &&
	grep "job $(cat job.id) belongs to root: only its owner may run commands in it" err
'

test_expect_success 'aios-exec names what is missing' '
	test_must_fail env -u AIOS_JOB_ID aios-exec node1 true 2>err1 &&
	grep "not inside a job" err1 &&
	test_must_fail env AIOS_JOB_ID=$(cat job.id) aios-exec node9 true 2>err2 &&
	grep "unknown node \"node9\"" err2 &&
	test_expect_code 2 env AIOS_JOB_ID=$(cat job.id) aios-exec node1 2>err3 &&
	grep "no command" err3
'

test_expect_success 'a cancelled job leaves nothing that aios-exec started' '
	(AIOS_JOB_ID=$(cat job.id) aios-exec node2 "sleep 6543" >/dev/null 2>&1 &) &&
	aios_wait_for 10 pgrep -f "^sleep 6543$" &&
	pid=$(pgrep -f "^sleep 6543$") &&
	grep "^0::" /proc/$pid/cgroup >cg &&
	aios-cancel $(cat job.id) &&
	aios_wait_state $(cat job.id) CANCELLED &&
	aios_wait_for 10 sh -c "! pgrep -f \"^sleep 6543\$\"" &&
	echo "$(cat cg)" >cg.path
'

cgroup_root() {
	if test -f /sys/fs/cgroup/cgroup.controllers; then echo /sys/fs/cgroup
	else echo /sys/fs/cgroup/unified; fi
}
if node_log node2 | grep -q "cgroups: jobs run in"; then
	test_set_prereq CGROUPS
fi

test_expect_success CGROUPS 'the job ran in its own cgroup, removed when it ended' '
	rel=$(sed "s/^0:://" cg.path) &&
	echo "$rel" | grep -E "^/aios/node2\.[0-9]+/job_$(cat job.id)$" &&
	aios_wait_for 10 test ! -d "$(cgroup_root)$rel"
'

test_expect_success 'mpiexec in a batch script: 2 nodes x 1 rank' '
	cat >mpi.sh <<-EOF &&
	#!/bin/sh
	cat "\$HYDRA_HOST_FILE"
	mpiexec -n 2 "$ALLREDUCE"
	EOF
	id=$(aios-submit --parsable -N 2 -n 2 -t 2:00 -o mpi2.out mpi.sh) &&
	aios_wait_state $id COMPLETED &&
	cat mpi2.out &&
	grep -x "node1:1" mpi2.out && grep -x "node2:1" mpi2.out &&
	grep -x "rank 0 of 2 on node1: sum 3 (expected 3) ok" mpi2.out &&
	grep -x "rank 1 of 2 on node2: sum 3 (expected 3) ok" mpi2.out &&
	node_log node2 | grep "job $id: exec /bin/sh"
'

test_expect_success 'mpiexec in a batch script: 1 node x 2 ranks' '
	id=$(aios-submit --parsable -N 1 -n 2 -t 2:00 -o mpi1.out mpi.sh) &&
	aios_wait_state $id COMPLETED &&
	cat mpi1.out &&
	grep -x "node1:2" mpi1.out &&
	test $(grep -c "of 2 on node1: sum 3 (expected 3) ok" mpi1.out) = 2
'

# run_job ID-FILE OUT SCRIPT-LINES...: a 2-node job running the lines, done
run_job() {
	out=$1 && shift &&
	printf "#!/bin/sh\n%s\n" "$@" >job.sh &&
	id=$(aios-submit --parsable $JOBOPTS -t 2:00 -o $out job.sh) &&
	aios_wait_state $id COMPLETED &&
	echo $id >last.id &&
	cat $out
}

test_expect_success 'aios-run: an allreduce over 2 nodes x 1 rank, PMI-1 across the nodes' '
	JOBOPTS="-N 2 -n 2" run_job run1.out "aios-run -l \"$ALLREDUCE\"; echo exit \$?" &&
	grep -x "0: rank 0 of 2 on node1: sum 3 (expected 3) ok" run1.out &&
	grep -x "1: rank 1 of 2 on node2: sum 3 (expected 3) ok" run1.out &&
	grep -x "exit 0" run1.out
'

test_expect_success 'aios-run: 1 node x 2 ranks' '
	JOBOPTS="-N 1 -n 2" run_job run2.out "aios-run \"$ALLREDUCE\"" &&
	test $(grep -c "on node1: sum 3 (expected 3) ok" run2.out) = 2
'

test_expect_success 'aios-run: ranks see their rank, the step size and PMI variables' '
	JOBOPTS="-N 2 -n 2" run_job run3.out \
	    "aios-run -l sh -c \"echo \\\$AIOS_PROCID/\\\$AIOS_STEP_NTASKS \\\$SLURM_PROCID \\\$AIOS_NODENAME PMI_FD=\\\${PMI_FD:+set}\"" \
	    "aios-run --mpi=none -l sh -c \"echo none \\\${PMI_FD:-unset}\"" &&
	grep -x "0: 0/2 0 node1 PMI_FD=set" run3.out &&
	grep -x "1: 1/2 1 node2 PMI_FD=set" run3.out &&
	grep -x "1: none unset" run3.out
'

test_expect_success 'aios-run: stdin goes to rank 0' '
	JOBOPTS="-N 2 -n 2" run_job run4.out "echo to-rank-0 | aios-run -l cat" &&
	grep -x "0: to-rank-0" run4.out &&
	! grep "^1: " run4.out
'

test_expect_success 'aios-run: a rank that exits 3 ends the step with 3, nothing left' '
	JOBOPTS="-N 2 -n 2" run_job run5.out \
	    "aios-run sh -c \"if [ \\\$AIOS_PROCID = 1 ]; then exit 3; fi; exec sleep 7654\"; echo exit \$?" &&
	grep -x "exit 3" run5.out &&
	grep "rank 1 exited 3: ending the step" run5.out &&
	! pgrep -f "^sleep 7654$"
'

test_expect_success 'aios-run: SIGTERM to aios-run ends the step on every node' '
	JOBOPTS="-N 2 -n 2" run_job run6.out \
	    "aios-run sleep 8765 & pid=\$!" \
	    "while [ \$(pgrep -cf \"^sleep 8765\$\") != 2 ]; do sleep 0.1; done" \
	    "kill -TERM \$pid; wait \$pid; echo exit \$?" &&
	grep -x "exit 143" run6.out &&
	! pgrep -f "^sleep 8765$"
'

test_expect_success 'steps are recorded with their exit codes' '
	aios-queue --steps $(cat last.id) >steps.out &&
	cat steps.out &&
	grep -E "^$(cat last.id)\.1 +sleep +2 +node\[1-2\] +CANCELLED +143:0" steps.out
'

test_expect_success 'aios-run refuses what the job cannot hold, and an unknown --mpi' '
	JOBOPTS="-N 1 -n 1" run_job run7.out "aios-run -n 4 true; echo exit \$?" &&
	grep "the step asks for 4 tasks but the job has room for 1 on 1 node(s)" run7.out &&
	grep -x "exit 1" run7.out &&
	test_expect_code 2 aios-run --mpi=pmi3 --jobid=1 true 2>err2 &&
	grep "is not pmi1, pmix or none" err2
'

PMIX_CLIENT="$AIOS_BUILDDIR/examples/mpi/pmix-client"

test_expect_success 'aios-run --mpi=pmix: the PMIx client test across 2 nodes' '
	JOBOPTS="-N 2 -n 2" run_job px1.out \
	    "aios-run --mpi=pmix -l \"$PMIX_CLIENT\"; echo exit \$?" &&
	grep -x "0: pmix rank 0 of 2 (local rank 0): rank 1 said \"hello from rank 1 on node2\" ok" px1.out &&
	grep -x "1: pmix rank 1 of 2 (local rank 0): rank 0 said \"hello from rank 0 on node1\" ok" px1.out &&
	grep -x "exit 0" px1.out
'

test_expect_success 'aios-run --mpi=pmix: 1 node x 2 ranks, twice in one job' '
	JOBOPTS="-N 1 -n 2" run_job px2.out \
	    "aios-run --mpi=pmix -l \"$PMIX_CLIENT\"" \
	    "aios-run --mpi=pmix -l \"$PMIX_CLIENT\"; echo exit \$?" &&
	test $(grep -c "^1: pmix rank 1 of 2 (local rank 1): rank 0 said \"hello from rank 0 on node1\" ok" px2.out) = 2 &&
	grep -x "exit 0" px2.out
'

test_expect_success 'aios-run outside a job gets an allocation, runs, and ends it' '
	env -u AIOS_JOB_ID aios-run -N 2 -n 2 -t 5:00 -l "$ALLREDUCE" >out1 &&
	grep -x "1: rank 1 of 2 on node2: sum 3 (expected 3) ok" out1 &&
	id=$(aios-queue -h -t all -o "%i %j" | awk "\$2 == \"allreduce\" { print \$1 }" | tail -n 1) &&
	aios_wait_state $id COMPLETED &&
	aios-queue --steps $id | grep -E "^$id\.1 +allreduce +2 +node\[1-2\] +COMPLETED +0:0"
'

test_expect_success 'an allocation whose step fails ends FAILED with the exit code passed on' '
	test_expect_code 5 env -u AIOS_JOB_ID aios-run -n 1 -J fails sh -c "exit 5" &&
	id=$(aios-queue -h -t all -o "%i %j" | awk "\$2 == \"fails\" { print \$1 }") &&
	aios_wait_state $id FAILED
'

test_done
