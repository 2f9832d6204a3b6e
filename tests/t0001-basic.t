#!/bin/sh
test_description='a job is submitted, runs as its owner on a node, and completes with its output file'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_expect_success 'start a 3-node cluster' '
	aios_start --nodes 3 --cpus-per-node 4 &&
	cleanup aios_stop &&
	aios-nodes --noheader >nodes.out &&
	test_line_count = 3 nodes.out &&
	grep -E "^node1 +IDLE +0/4 " nodes.out
'

test_expect_success 'aios-submit prints the job id' '
	cat >job.sh <<-\EOT &&
	#!/bin/sh
	#AIOS -J hello
	#AIOS --time=5
	echo "hello from $AIOS_JOB_ID on $AIOS_NODENAME"
	echo "nodes=$AIOS_JOB_NODELIST nnodes=$AIOS_NNODES ntasks=$AIOS_NTASKS cpus=$AIOS_CPUS_ON_NODE"
	echo "name=$AIOS_JOB_NAME submit=$AIOS_SUBMIT_DIR"
	echo "pwd=$(pwd)"
	EOT
	aios-submit job.sh >submit.out &&
	grep -E "^Submitted batch job [0-9]+$" submit.out
'

test_expect_success 'the job completes' '
	id=$(sed "s/.* //" submit.out) &&
	aios_wait_state $id COMPLETED
'

test_expect_success 'its output file holds what the script printed' '
	id=$(sed "s/.* //" submit.out) &&
	test -f aios-$id.out &&
	grep "^hello from $id on node1$" aios-$id.out &&
	grep "^nodes=node1 nnodes=1 ntasks=1 cpus=1$" aios-$id.out &&
	grep "^name=hello submit=$PWD$" aios-$id.out &&
	grep "^pwd=$PWD$" aios-$id.out
'

test_expect_success 'aios-queue lists the finished job with its exit code' '
	id=$(sed "s/.* //" submit.out) &&
	aios-queue -o "%i %j %T %o" --noheader -j $id >q.out &&
	echo "$id hello COMPLETED 0:0" >q.exp &&
	test_cmp q.exp q.out
'

test_expect_success '--parsable prints only the id; ids increase' '
	first=$(sed "s/.* //" submit.out) &&
	id=$(aios-submit --parsable --wrap "true") &&
	test "$id" -gt "$first"
'

test_expect_success 'output and error patterns, --chdir and --job-name' '
	mkdir work &&
	id=$(aios-submit --parsable -D "$PWD/work" -J pat -o "out-%x-%j.txt" -e "err-%u-%N.txt" \
		--wrap "echo to-out; echo to-err >&2") &&
	aios_wait_state $id COMPLETED &&
	grep to-out "work/out-pat-$id.txt" &&
	grep to-err "work/err-$(id -un)-node1.txt"
'

test_expect_success 'a failing job ends FAILED with its exit code' '
	id=$(aios-submit --parsable --wrap "exit 3") &&
	aios_wait_state $id FAILED &&
	test "$(job_field $id %o)" = "3:0"
'

test_expect_success 'the environment is exported by default; --export=NONE drops it' '
	FOO=bar123 aios-submit --parsable -o env1.out --wrap "echo FOO=\$FOO" >id1 &&
	FOO=bar123 aios-submit --parsable -o env2.out --export=NONE --wrap "echo FOO=\$FOO" >id2 &&
	FOO=bar123 aios-submit --parsable -o env3.out --export=NONE,BAZ=qux --wrap "echo BAZ=\$BAZ" >id3 &&
	aios_wait_state $(cat id1) COMPLETED &&
	aios_wait_state $(cat id2) COMPLETED &&
	aios_wait_state $(cat id3) COMPLETED &&
	grep "^FOO=bar123$" env1.out &&
	grep "^FOO=$" env2.out &&
	grep "^BAZ=qux$" env3.out
'

test_expect_success 'a script on standard input runs' '
	printf "#!/bin/sh\necho from-stdin\n" | aios-submit --parsable -o stdin.out >id &&
	aios_wait_state $(cat id) COMPLETED &&
	grep from-stdin stdin.out
'

test_done
