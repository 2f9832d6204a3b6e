#!/bin/sh
test_description='aios-sim: queueing theory, policies, EASY reservations, replay, bad input'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

TRACES="$SHARNESS_TEST_SRCDIR/../../shared/traces"
test -f "$TRACES/lublin_256.swf" && test_set_prereq TRACES
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

# jget FILE KEY: one top-level field of aios-sim --json output
jget() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# figures FILE: the --json output without the fields that measure the run
figures() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for o in [d] + d.get("windows", []):
    o.pop("wall_seconds"); o.pop("jobs_per_second")
print(json.dumps(d, indent=1, sort_keys=True))' "$1"
}

test_expect_success 'a small trace: SWF conversion, FIFO and limits by hand' '
	cat >small.swf <<-\EOF &&
	; MaxNodes: 2
	; MaxProcs: 8
	1  0 -1 100  4 -1 -1 -1  -1 -1 1 1 -1 -1 -1 -1 -1 -1
	2  0 -1  50 -1 -1 -1  8 200 -1 1 2 -1 -1 -1 -1 -1 -1
	3 10 -1   0  1 -1 -1 -1  -1 -1 1 1 -1 -1 -1 -1 -1 -1
	4 10 -1  30 12 -1 -1 -1  -1 -1 1 1 -1 -1 -1 -1 -1 -1
	5 20 -1 300  1 -1 -1 -1  60 -1 1 3 -1 -1 -1 -1 -1 -1
	EOF
	aios-sim --trace small.swf --jobs-csv small.csv >out &&
	grep "^machine  *2 nodes x 4 CPUs$" out &&
	grep "^dropped  *2$" out &&
	grep "^jobs  *3$" out &&
	grep "^mean wait  *76.667 s$" out &&
	grep "^makespan  *210 s$" out &&
	cat >expect <<-\EOF &&
	id,submit,start,end,wait,run,nodes
	1,0,0,100,0,100,1
	2,0,100,150,100,50,2
	5,20,150,210,130,60,1
	EOF
	test_cmp expect small.csv
'

test_expect_success 'the same trace with EASY: job 5 is backfilled before job 2' '
	aios-sim --trace small.swf --backfill easy --jobs-csv easy.csv >out &&
	grep "^backfilled  *1$" out &&
	grep "^reserved jobs  *1$" out &&
	grep "^reservation violations  *0$" out &&
	cat >expect <<-\EOF &&
	id,submit,start,end,wait,run,nodes
	1,0,0,100,0,100,1
	2,0,100,150,100,50,2
	5,20,20,80,0,60,1
	EOF
	test_cmp expect easy.csv
'

# M/M/c: c = 16 nodes, mean service 100 s, lambda = 0.128/s, rho = 0.8.
# 3,000,000 jobs: seeds 1-6 land within 1.7% of Erlang C.
test_expect_success PYTHON3 'FIFO on M/M/16 at rho 0.8 matches Erlang C within 3%' '
	aios-sim --synthetic poisson --arrival-rate 0.128 --runtime exp:100 \
		--jobs 3000000 --nodes 16 --cpus-per-node 1 --seed 1 --json >mmc.json &&
	python3 - mmc.json <<-\EOF
	import json, math, sys
	c, mu, lam = 16, 1 / 100.0, 0.128
	a, rho = lam / mu, lam / (c * mu)
	head = sum(a ** k / math.factorial(k) for k in range(c))
	tail = a ** c / math.factorial(c) / (1 - rho)
	wq = tail / (head + tail) / (c * mu - lam)
	got = json.load(open(sys.argv[1]))["mean_wait"]
	print("Erlang C %.4f s, simulated %.4f s (%+.2f%%)"
	      % (wq, got, 100 * (got - wq) / wq))
	sys.exit(0 if abs(got - wq) / wq < 0.03 else 1)
	EOF
'

test_expect_success PYTHON3 'SJF waits less than FIFO on the same workload' '
	for p in fifo sjf; do
		aios-sim --synthetic poisson --arrival-rate 0.128 \
			--runtime lognormal:4,1 --jobs 100000 --nodes 16 \
			--cpus-per-node 1 --seed 7 --policy $p --json >$p.json ||
		return 1
	done &&
	fifo=$(jget fifo.json mean_wait) &&
	sjf=$(jget sjf.json mean_wait) &&
	echo "fifo $fifo sjf $sjf" &&
	python3 -c "import sys; sys.exit(0 if $sjf < $fifo else 1)"
'

test_expect_success PYTHON3 'EASY never delays the reserved job: multi-node synthetic' '
	aios-sim --synthetic poisson --arrival-rate 0.0076 \
		--runtime lognormal:5,1.5 --job-nodes uniform:1-32 --jobs 20000 \
		--nodes 64 --cpus-per-node 4 --seed 3 --backfill easy --json >easy.json &&
	test $(jget easy.json reserved_jobs) -gt 100 &&
	test $(jget easy.json backfilled) -gt 100 &&
	test $(jget easy.json reservation_violations) -eq 0
'

test_expect_success PYTHON3,TRACES 'EASY never delays the reserved job: lublin_256' '
	aios-sim --trace "$TRACES/lublin_256.swf" --backfill easy --json >l.json &&
	test $(jget l.json jobs) -eq 10000 &&
	test $(jget l.json reserved_jobs) -gt 100 &&
	test $(jget l.json reservation_violations) -eq 0 &&
	aios-sim --trace "$TRACES/lublin_256.swf" --backfill easy \
		--estimate actual --window 2000:3000 --json >la.json &&
	test $(jget la.json reserved_jobs) -gt 10 &&
	test $(jget la.json reservation_violations) -eq 0
'

test_expect_success PYTHON3,TRACES 'the traces replay deterministically' '
	set -- \
		"NASA-iPSC-1993-3.1-cln.swf --policy fifo" \
		"lublin_256_new2.swf --policy sjf --backfill easy" \
		"lublin_256.swf --policy priority --backfill easy --window 0:3000 --window 5000:3000" &&
	for c in "$@"; do
		set -- $c &&
		t=$1 && shift &&
		aios-sim --trace "$TRACES/$t" "$@" --json --jobs-csv $t.1.csv >$t.1.json &&
		aios-sim --trace "$TRACES/$t" "$@" --json --jobs-csv $t.2.csv >$t.2.json &&
		figures $t.1.json >$t.1.fig &&
		figures $t.2.json >$t.2.fig &&
		test_cmp $t.1.fig $t.2.fig &&
		test_cmp $t.1.csv $t.2.csv || return 1
	done &&
	grep "\"windows\"" lublin_256.swf.1.fig &&
	test $(jget NASA-iPSC-1993-3.1-cln.swf.1.json dropped) -eq 173
'

test_expect_success 'a missing trace file' '
	test_must_fail aios-sim --trace nonexistent.swf 2>err &&
	grep "^aios-sim: nonexistent.swf: cannot open: No such file or directory$" err
'

test_expect_success 'malformed SWF lines name file, line and problem' '
	printf "; MaxNodes: 4\n1 0 -1 10 1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1\n" >short.swf &&
	test_must_fail aios-sim --trace short.swf 2>err &&
	grep "^aios-sim: short.swf:2: expected 18 fields, found 17$" err &&
	printf "; MaxNodes: 4\n\n1 0 -1 abc 1 -1 -1 -1 -1 -1 1 1 -1 -1 -1 -1 -1 -1\n" >nan.swf &&
	test_must_fail aios-sim --trace nan.swf 2>err &&
	grep "^aios-sim: nan.swf:3: field 4 (run time) is not a number: \"abc\"$" err &&
	printf "; MaxNodes: many\n" >hdr.swf &&
	test_must_fail aios-sim --trace hdr.swf 2>err &&
	grep "^aios-sim: hdr.swf:1: MaxNodes \"many\" is not a positive integer$" err
'

test_expect_success 'an unknown policy is a usage error' '
	test_expect_code 2 aios-sim --trace small.swf --policy lottery 2>err &&
	grep "^aios-sim: --policy: unknown policy \"lottery\" (expected fifo, sjf, priority)$" err
'

test_expect_success 'bad option values are usage errors naming the option' '
	test_expect_code 2 aios-sim --trace small.swf --backfill conservative 2>err &&
	grep "^aios-sim: --backfill: unknown value \"conservative\"" err &&
	test_expect_code 2 aios-sim --trace small.swf --window 3 2>err &&
	grep "^aios-sim: --window: \"3\" is not START:COUNT$" err &&
	test_expect_code 2 aios-sim --synthetic poisson --arrival-rate 1 \
		--runtime gamma:2 --jobs 10 --nodes 4 --cpus-per-node 1 2>err &&
	grep "^aios-sim: --runtime: \"gamma:2\" is not exp:MEAN or lognormal:MU,SIGMA$" err &&
	test_expect_code 2 aios-sim --synthetic poisson --arrival-rate 1 \
		--runtime exp:10 --jobs 10 2>err &&
	grep "needs --nodes and --cpus-per-node" err &&
	test_expect_code 2 aios-sim 2>err &&
	grep "give exactly one of --trace and --synthetic" err
'

test_expect_success 'a window past the end of the trace' '
	test_expect_code 1 aios-sim --trace small.swf --window 2:5 2>err &&
	grep "^aios-sim: --window 2:5: the trace has 3 jobs$" err
'

test_expect_success '--help and --version' '
	aios-sim --help >help &&
	grep "^Usage: aios-sim" help &&
	aios-sim --version >v &&
	grep "^aios-sim [0-9]" v
'

test_done
