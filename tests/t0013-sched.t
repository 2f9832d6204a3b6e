#!/bin/sh
test_description='scheduling: EASY backfill, reasons and hints, start estimates, --test-only, GPUs, policies changed on reload, the example plugin of aios-policy(7)'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

conf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aios.yaml"; }
logf() { echo "$SHARNESS_TRASH_DIRECTORY/cluster/aiosctld.log"; }
# hup PATTERN: send SIGHUP, wait for one more log line matching PATTERN
hup() {
    n=$(grep -c "$1" "$(logf)")
    kill -HUP $(pid_of aiosctld.pid) &&
    aios_wait_for 10 sh -c "test \$(grep -c \"$1\" \"$(logf)\") -gt $n"
}
# queue_is ID FORMAT VALUE: wait until the job's FORMAT column shows VALUE
queue_is() {
    aios_wait_for 10 sh -c "test \"\$(aios-queue -h -j $1 -o $2)\" = \"$3\""
}

test_expect_success 'start 2 nodes of 2 CPUs and 2 GPUs each' '
	aios_start --nodes 2 --cpus-per-node 2 --gpus-per-node 2 &&
	cleanup aios_stop &&
	aios-nodes --json >nodes.json &&
	test $(grep -c "\"gpus\": 2" nodes.json) = 2
'

test_expect_success 'EASY: the head job waits for Resources with an estimated start' '
	a=$(aios-submit --parsable -n 2 -t 10:00 --wrap "sleep 600") &&
	aios_wait_state $a RUNNING &&
	head=$(aios-submit --parsable -n 4 -t 1:00 --wrap true) &&
	echo $a >a.id && echo $head >head.id &&
	queue_is $head %r Resources &&
	aios-queue --start -j $head >start.out &&
	cat start.out &&
	grep "SCHEDNODES" start.out &&
	grep -E "^ +$head .* PD 20[0-9-]+T[0-9:]+ +1 +[0-9]+ +node\[1-2\] \(Resources\)" start.out
'

test_expect_success 'EASY: a short job starts past the head job, a long one waits' '
	head=$(cat head.id) &&
	short=$(aios-submit --parsable -n 1 -t 2:00 --wrap "sleep 600") &&
	aios_wait_state $short RUNNING &&
	long=$(aios-submit --parsable -n 1 -t 30:00 --wrap true) &&
	echo $short >short.id && echo $long >long.id &&
	queue_is $long %r Priority &&
	aios-queue --stats >stats.out &&
	cat stats.out &&
	grep "Jobs started: *2 (1 by backfill)" stats.out
'

test_expect_success 'aios-queue --why lists every reason and what would help' '
	head=$(cat head.id) long=$(cat long.id) &&
	aios-queue --why $long >why.out &&
	cat why.out &&
	grep "Job $long is PENDING in partition batch (policy fifo, backfill easy)" why.out &&
	grep "Position: *2 in its partition" why.out &&
	grep "Priority .*1 job(s) ahead ($head)" why.out &&
	grep "Reservation .*(job $head)" why.out &&
	grep "Estimated start: 20" why.out &&
	grep "Hint: would start now with --time <= [0-9]*:00 .*job $head" why.out &&
	aios-queue --why $long --json >why.json &&
	grep "\"reasons\"" why.json &&
	aios-queue --why $(cat a.id) >running.out &&
	grep "is RUNNING .*not waiting" running.out
'

test_expect_success 'aios-queue --why suggests fewer nodes when that would fit' '
	wide=$(aios-submit --parsable -N 2 -n 2 -t 5:00 --wrap true) &&
	queue_is $wide %r Priority &&
	aios-queue --why $wide >wide.out &&
	cat wide.out &&
	grep "Hint: would start now with --nodes <= 1" wide.out &&
	aios-cancel $wide
'

test_expect_success '--why of an unknown job is an error naming it' '
	test_must_fail aios-queue --why 9999 2>err &&
	grep "no job 9999" err &&
	test_expect_code 2 aios-queue --why abc &&
	test_expect_code 2 aios-queue --why 1 --steps 1 2>err &&
	grep "give one of --why, --steps, --stats and --start" err &&
	test_expect_code 2 aios-queue --stats --start
'

test_expect_success '--test-only says when and where, and submits nothing' '
	aios-queue -h -t all >before &&
	aios-submit --test-only -n 1 -t 1:00 --wrap true >t1.out &&
	cat t1.out &&
	grep "would start now on node2 using 1 CPU(s) in partition batch" t1.out &&
	aios-submit --test-only -n 4 -t 1:00 --wrap true >t2.out &&
	cat t2.out &&
	grep "would start at 20.* on node\[1-2\] using 4 CPU(s)" t2.out &&
	grep "waiting for: Resources, Priority" t2.out &&
	aios-queue -h -t all >after &&
	test_cmp before after
'

test_expect_success 'backfill none after a reload: nothing passes the head job' '
	sed -i "s/backfill: easy/backfill: none/" "$(conf)" &&
	hup "reloaded" &&
	aios-submit --test-only -n 1 -t 1:00 --wrap true >t3.out &&
	cat t3.out &&
	! grep "would start now" t3.out &&
	aios-queue --stats | grep "backfill none" &&
	sed -i "s/backfill: none/backfill: easy/" "$(conf)" &&
	hup "reloaded" &&
	aios-cancel $(cat a.id) $(cat head.id) $(cat short.id) $(cat long.id) &&
	aios_wait_state $(cat long.id) CANCELLED &&
	aios_wait_state $(cat a.id) CANCELLED
'

test_expect_success 'GPUs are assigned by index and exported as CUDA_VISIBLE_DEVICES' '
	g1=$(aios-submit --parsable -G 1 -o g1.out --wrap "echo \"[\$CUDA_VISIBLE_DEVICES] [\$AIOS_GPUS]\"; sleep 600") &&
	g2=$(aios-submit --parsable --gpus-per-node 1 -o g2.out --wrap "echo \"[\$CUDA_VISIBLE_DEVICES]\"; sleep 600") &&
	none=$(aios-submit --parsable -o none.out --wrap "echo \"[\${CUDA_VISIBLE_DEVICES-unset}]\"") &&
	aios_wait_for 10 grep -x "\[0\] \[0\]" g1.out &&
	aios_wait_for 10 grep -x "\[1\]" g2.out &&
	aios_wait_state $none COMPLETED &&
	grep -x "\[\]" none.out &&
	aios-queue -h -j $g1 -o "%N %b" >g1.q &&
	grep -x "node1 1" g1.q &&
	aios-nodes --json | grep "\"gpus_alloc\": 2" &&
	aios-cancel $g1 $g2 &&
	aios_wait_state $g1 CANCELLED && aios_wait_state $g2 CANCELLED
'

test_expect_success '--gpus=4 spreads over both nodes, 2 GPUs on each' '
	id=$(aios-submit --parsable -G 4 -n 2 -o g4.out --wrap "echo \$CUDA_VISIBLE_DEVICES \$AIOS_NNODES") &&
	aios_wait_state $id COMPLETED &&
	grep -x "0,1 2" g4.out &&
	test "$(aios-queue -h -j $id -o "%N %b")" = "node[1-2] 2"
'

test_expect_success '#AIOS -G 1 in a script takes the next word as the count' '
	printf "#!/bin/sh\n#AIOS -G 1 -C \"\" -o gs.out\necho \$CUDA_VISIBLE_DEVICES\n" >g.sh &&
	id=$(aios-submit --parsable g.sh) &&
	aios_wait_state $id COMPLETED &&
	grep -x 0 gs.out
'

test_expect_success 'GPU requests that cannot fit are refused at submit' '
	test_must_fail aios-submit -G 3 -N 2 --wrap true 2>e1 &&
	grep "does not divide evenly over --nodes=2" e1 &&
	test_must_fail aios-submit --gpus-per-node 3 --wrap true 2>e2 &&
	grep "not available: .*3 GPU(s) per node" e2 &&
	test_must_fail aios-submit -G 4 --wrap true 2>e3 &&
	grep "at most 2 GPU(s)" e3 &&
	test_must_fail aios-submit -G 1 --gpus-per-node 1 --wrap true 2>e4 &&
	grep "not both" e4
'

test_expect_success 'policy priority on reload: multifactor priorities, nice lowers one' '
	sed -i "s/policy: fifo/policy: priority/" "$(conf)" &&
	hup "reloaded" &&
	blk=$(aios-submit --parsable -n 4 -t 10:00 --wrap "sleep 600") &&
	aios_wait_state $blk RUNNING &&
	p1=$(aios-submit --parsable -n 1 -t 1:00 --wrap true) &&
	p2=$(aios-submit --parsable -n 1 -t 1:00 --nice=500 --wrap true) &&
	echo $blk >blk.id && echo $p1 >p1.id &&
	queue_is $p2 %y 2 &&
	q1=$(aios-queue -h -j $p1 -o %Q) && q2=$(aios-queue -h -j $p2 -o %Q) &&
	echo "priorities $q1 $q2" &&
	awk "BEGIN { exit !($q1 > $q2 + 499 && $q1 < $q2 + 501) }" &&
	test "$(aios-queue -h -j $p1 -o %y)" = 1
'

test_expect_success 'the example plugin of aios-policy(7) loads on reload and orders by size' '
	plugdir="$AIOS_BUILDDIR/examples/policy/.libs" &&
	test -f "$plugdir/largest.so" &&
	big=$(aios-submit --parsable -n 3 -t 1:00 --wrap true) &&
	queue_is $big %y 3 &&
	sed -i -e "s/policy: priority/policy: largest/" \
	    -e "s|plugin_dir: .*|plugin_dir: $plugdir|" "$(conf)" &&
	hup "reloaded" &&
	grep "(policy largest)" "$(logf)" &&
	queue_is $big %y 1 &&
	test "$(aios-queue -h -j $(cat p1.id) -o %y)" = 2
'

test_expect_success 'a missing plugin is refused on reload; the running policy stays' '
	sed -i "s/policy: largest/policy: nosuch/" "$(conf)" &&
	hup "reload refused" &&
	grep "reload refused.*policy nosuch: .*nosuch.so" "$(logf)" &&
	aios-queue --stats | grep "policy largest" &&
	aios-cancel $(cat blk.id) &&
	aios_wait_state $(cat p1.id) COMPLETED
'

test_expect_success 'a node without declared GPUs counts them with nvidia-smi -L' '
	mkdir -p fakebin &&
	cat >fakebin/nvidia-smi <<-\EOF &&
	#!/bin/sh
	test "$1" = -L || exit 1
	echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0a)"
	echo "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-0b)"
	echo "GPU 2: NVIDIA H100 80GB HBM3 (UUID: GPU-0c)"
	EOF
	chmod +x fakebin/nvidia-smi &&
	PATH="$PWD/fakebin:$PATH" aios-local start --dir "$PWD/c2" --nodes 1 >/dev/null &&
	AIOS_CONF="$PWD/c2/aios.yaml" aios-nodes --json >c2.json;
	aios-local stop --dir "$PWD/c2" &&
	grep "GPUs: 3 (detected by nvidia-smi)" c2/node1/aiosd.log &&
	grep "\"gpus\": 3" c2.json
'

test_done
