#!/bin/sh
test_description='stage-in of catalog datasets (whole and sharded), the node cache, STAGE_FAILED, stage-out of models, and the training example on staged shards'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

src=${AIOS_SRCDIR:-$SHARNESS_TEST_SRCDIR/..}
ex=$AIOS_BUILDDIR/examples/train
cluster=$SHARNESS_TRASH_DIRECTORY/cluster

# rows OFFSET COUNT FILE DSET: the text of those rows of a dataset
rows() {
	h5dump -d "$4" -s "$1,0" -c "$2,16" -y -w 0 -o "$3.rows" "$3" >/dev/null &&
	cat "$3.rows"
}
# attr FILE NAME: an integer attribute of the root group
attr() {
	h5dump -a "/$2" "$1" | sed -n 's/^ *(0): \([0-9]*\)$/\1/p'
}
# allocated FILE DSET: bytes its chunks take in the file
allocated() {
	h5ls -v "$1/$2" | sed -n 's/.*logical bytes, \([0-9]*\) allocated.*/\1/p'
}
# catalog_file NAME[:V] [--model]: the path of a catalog entry's data
catalog_file() {
	aios-data show "$@" --json | sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' | head -1
}

test_expect_success 'start 2 nodes; import a plain and a deflate-compressed dataset' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop &&
	"$ex/gen-data" -o blobs.h5 --train 2000 --test 400 >/dev/null &&
	h5repack -f GZIP=4 -l /train/x,/test/x:CHUNK=100x16 \
		-l /train/y,/test/y:CHUNK=100 blobs.h5 blobz.h5 &&
	aios-data import blobs.h5 --name blobs &&
	aios-data import blobz.h5 --name blobz &&
	aios-data list | grep "^blobz "
'

test_expect_success 'an unknown dataset or version is refused at submission' '
	test_must_fail aios-submit --stage-in=nosuch --wrap true 2>err &&
	grep "nosuch" err &&
	test_must_fail aios-submit --stage-in=blobs:7 --wrap true 2>err &&
	grep "blobs has no version 7 (it has 1)" err &&
	test_must_fail aios-submit --stage-in=blobs,slice --wrap true 2>err &&
	grep "unknown option \"slice\"" err &&
	test "$(aios-queue -h | wc -l)" = 0
'

test_expect_success 'two stage-ins that would share one AIOS_DATASET_ variable are refused' '
	test_must_fail aios-submit --stage-in=blobs:1 --stage-in=blobs,shard \
		--wrap true 2>err && cat err &&
	grep "stage-in=blobs:1 and --stage-in=blobs,shard would both be AIOS_DATASET_BLOBS" err &&
	aios-data import blobs.h5 --name b-x &&
	aios-data import blobs.h5 --name b.x &&
	test_must_fail aios-submit --stage-in=b-x --stage-in=b.x --wrap true 2>err &&
	grep "would both be AIOS_DATASET_B_X" err &&
	test "$(aios-queue -h | wc -l)" = 0 &&
	aios-data rm b-x && aios-data rm b.x
'

test_expect_success 'a 2-node job gets one shard per node, STAGING first' '
	{ aios-queue --watch --json >watch.log & echo $! >watch.pid; } &&
	test_when_finished "kill \$(cat watch.pid) 2>/dev/null; true" &&
	cat >shards.sh <<-EOT &&
	#!/bin/sh
	aios-run -N 2 -n 2 --mpi=none sh -c "cp \\"\\\$AIOS_DATASET_BLOBZ\\" \\"$PWD/shard-\\\$AIOS_NODEID.h5\\"; echo \\\$AIOS_DATASET_BLOBZ"
	EOT
	id=$(aios-submit --parsable -N 2 -n 2 -o shards.out --stage-in=blobz,shard shards.sh) &&
	echo $id >shard.id &&
	aios_wait_state $id COMPLETED &&
	cat shards.out &&
	test -f shard-0.h5 && test -f shard-1.h5 &&
	grep "\"state\": *\"STAGING\"" watch.log &&
	grep "\"staging\": *{\"done\"" watch.log &&
	kill $(cat watch.pid) &&
	grep "node1/cache/blobz/1/shard-0-of-2.h5" shards.out &&
	grep "node2/cache/blobz/1/shard-1-of-2.h5" shards.out
'

test_expect_success 'each shard has exactly its rows, at chunk boundaries' '
	o0=$(attr shard-0.h5 shard_offset) && n0=$(attr shard-0.h5 shard_rows) &&
	o1=$(attr shard-1.h5 shard_offset) && n1=$(attr shard-1.h5 shard_rows) &&
	test "$o0 $o1 $((n0 + n1))" = "0 $n0 2000" &&
	test $((o1 % 100)) = 0 &&
	test "$(attr shard-1.h5 shard_index)/$(attr shard-1.h5 shard_count)" = 1/2 &&
	for i in 0 1; do
		eval "o=\$o$i n=\$n$i" &&
		rows $o $n blobz.h5 /train/x >want &&
		rows 0 $n shard-$i.h5 /train/x >got &&
		test_cmp want got || return 1
	done &&
	h5diff blobz.h5 shard-0.h5 /test/x /test/x &&
	h5diff blobz.h5 shard-1.h5 /test/y /test/y
'

test_expect_success 'compressed chunks are copied as they are' '
	h5ls -v shard-0.h5/train/x | grep "deflate-1 OPT {4}" &&
	h5ls -v shard-0.h5/train/x | grep "Chunks: *{100, 16}" &&
	test $(( $(allocated shard-0.h5 /train/x) + $(allocated shard-1.h5 /train/x) )) \
		= "$(allocated blobz.h5 /train/x)"
'

test_expect_success 'a second job with the same data on the same nodes uses the cache' '
	first=$(cat shard.id) &&
	aios-control show job $first | grep "\"stage_copied_bytes\": [1-9]" &&
	aios-control show job $first | grep "\"stage_hits\": 0" &&
	id=$(aios-submit --parsable -N 2 -n 2 -o /dev/null --stage-in=blobz,shard --wrap true) &&
	aios_wait_state $id COMPLETED &&
	aios-control show job $id | grep "\"stage_hits\": 2" &&
	aios-control show job $id | grep "\"stage_copied_bytes\": 0"
'

test_expect_success 'a whole dataset: every node gets the same file, byte for byte' '
	cat >whole.sh <<-EOT &&
	#!/bin/sh
	aios-run -N 2 -n 2 --mpi=none sh -c "cmp \"\\\$AIOS_DATASET_BLOBS\" \"$PWD/blobs.h5\" && echo same \\\$AIOS_DATASET_BLOBS"
	EOT
	id=$(aios-submit --parsable -N 2 -n 2 -o whole.out --stage-in=blobs whole.sh) &&
	aios_wait_state $id COMPLETED &&
	cat whole.out &&
	test "$(grep -c "same .*/node1/cache/blobs/1/whole.h5" whole.out)" = 1 &&
	test "$(grep -c "same .*/node2/cache/blobs/1/whole.h5" whole.out)" = 1
'

test_expect_success 'a job goes to the node that holds its data when both are free' '
	aios-data import blobs.h5 --name placed &&
	busy=$(aios-submit --parsable -N 1 -n 2 --wrap "sleep 300") &&
	aios_wait_state $busy RUNNING &&
	test "$(job_field $busy %N)" = node1 &&
	x=$(aios-submit --parsable -N 1 -n 1 --stage-in=placed --wrap true) &&
	aios_wait_state $x COMPLETED &&
	test "$(job_field $x %N)" = node2 &&
	aios-cancel $busy && aios_wait_state $busy CANCELLED &&
	y=$(aios-submit --parsable -N 1 -n 1 --stage-in=placed --wrap true) &&
	aios_wait_state $y COMPLETED &&
	test "$(job_field $y %N)" = node2 &&
	aios-control show job $y | grep "\"stage_hits\": 1" &&
	z=$(aios-submit --parsable -N 1 -n 1 --wrap true) &&
	aios_wait_state $z COMPLETED &&
	test "$(job_field $z %N)" = node1
'

test_expect_success 'a job waiting for its reserved nodes has its data prefetched there' '
	aios-data import blobs.h5 --name early &&
	busy=$(aios-submit --parsable -N 2 -n 4 -t 1 --wrap "sleep 300") &&
	aios_wait_state $busy RUNNING &&
	id=$(aios-submit --parsable -N 1 -n 1 -t 1 --stage-in=early --wrap true) &&
	aios_wait_for 30 sh -c "ls \"$cluster\"/scratch/node*/cache/early/1/whole.h5" &&
	test "$(job_state $id)" = PENDING &&
	aios-cancel $busy &&
	aios_wait_state $id COMPLETED &&
	aios-control show job $id | grep "\"stage_hits\": 1" &&
	aios-control show job $id | grep "\"stage_copied_bytes\": 0"
'

test_expect_success 'a corrupted catalog file ends the job STAGE_FAILED, leaving no copy' '
	aios-data import blobs.h5 --name broken &&
	f=$(catalog_file broken) && test -f "$f" &&
	chmod u+w "$f" &&
	printf "XXXXXXXX" | dd of="$f" bs=1 seek=4000 conv=notrunc 2>/dev/null &&
	id=$(aios-submit --parsable --stage-in=broken --wrap true) &&
	aios_wait_state $id STAGE_FAILED &&
	job_field $id %r >reason && cat reason &&
	grep "sha256 mismatch" reason &&
	test -z "$(find "$cluster/scratch" -name "*.part")" &&
	test -z "$(find "$cluster/scratch" -path "*broken*" -type f)"
'

test_expect_success 'a shard checks the catalog blocks it reads: a changed byte fails it, naming the block' '
	f=$(catalog_file broken) &&
	aios-data show broken --json >broken.json &&
	test "$(jq ".dataset.blocks.size" broken.json)" = 1048576 &&
	test "$(jq ".dataset.blocks.count" broken.json)" = 1 &&
	test "$(stat -c %s "$(dirname "$f")/blocks.sha256")" = 32 &&
	id=$(aios-submit --parsable -N 2 -n 2 --stage-in=broken,shard --wrap true) &&
	aios_wait_state $id STAGE_FAILED &&
	job_field $id %r >reason && cat reason &&
	grep "sha256 mismatch in block 0 (bytes 0-" reason &&
	test -z "$(find "$cluster/scratch" -name "*.part")" &&
	test -z "$(find "$cluster/scratch" -path "*broken*" -type f)"
'

test_expect_success 'damaged block checksums fail a shard copy (and aios-data verify)' '
	aios-data import blobs.h5 --name sums &&
	f=$(catalog_file sums) &&
	chmod u+w "$(dirname "$f")/blocks.sha256" &&
	printf "X" | dd of="$(dirname "$f")/blocks.sha256" bs=1 seek=5 conv=notrunc 2>/dev/null &&
	id=$(aios-submit --parsable -N 2 -n 2 --stage-in=sums,shard --wrap true) &&
	aios_wait_state $id STAGE_FAILED &&
	job_field $id %r >reason && cat reason &&
	grep "blocks.sha256: sha256 mismatch: the record says" reason &&
	test_must_fail aios-data verify sums 2>err && cat err &&
	grep "blocks.sha256: sha256 mismatch" err
'

test_expect_success 'stage-out registers a model version with provenance attributes' '
	id=$(aios-submit --parsable --stage-out=out.h5:mymodel --stage-in=blobs \
		--wrap "cp \"$PWD/blobs.h5\" \"\$AIOS_SCRATCH/out.h5\"") &&
	aios_wait_state $id COMPLETED &&
	aios-data list --models >models && cat models &&
	grep "^mymodel *1 " models &&
	f=$(catalog_file mymodel --model) &&
	test "$(attr "$f" aios_job_id)" = "$id" &&
	h5dump -a /aios_inputs "$f" | grep "blobs:1" &&
	h5dump -a /aios_user "$f" | grep "$(id -un)" &&
	aios-control show job $id | grep "\"name\": \"mymodel\""
'

test_expect_success 'no stage-out after a failure (unless always); a missing file fails the job' '
	id=$(aios-submit --parsable --stage-out=out.h5:mymodel --wrap "exit 4") &&
	aios_wait_state $id FAILED &&
	test_must_fail aios-data show mymodel:2 --model &&
	id=$(aios-submit --parsable --stage-out=none.h5:mymodel --wrap true) &&
	aios_wait_state $id FAILED &&
	job_field $id %r | grep "stage-out" &&
	test_must_fail aios-data show mymodel:2 --model
'

# stage_out_node ID: the node whose aiosd has started job ID's stage-out
# (and recorded how its script ended)
stage_out_node() {
	for n in node1 node2; do
		if test -e "$cluster/$n/spool/job.$1/exit.json"; then
			echo $n && return 0
		fi
	done
	return 1
}

test_expect_success 'aiosd dying during a stage-out: the job is FAILED with the reason, not NODE_FAIL' '
	cp blobs.h5 big.h5 && truncate -s 256M big.h5 &&
	id=$(aios-submit --parsable --stage-out=big.h5:bigmodel \
		--wrap "cp \"$PWD/big.h5\" \"\$AIOS_SCRATCH/big.h5\"") &&
	aios_wait_for 30 stage_out_node $id &&
	n=$(stage_out_node $id) && pid=$(pid_of $n/aiosd.pid) &&
	kill -STOP $pid &&
	test_when_finished "kill -CONT $pid 2>/dev/null; true" &&
	test ! -e "$cluster/$n/spool/job.$id/complete.json" &&
	kill -KILL $pid &&
	aios_wait_for 10 sh -c "! kill -0 $pid" &&
	aios_start &&
	aios_wait_state $id FAILED &&
	job_field $id %r >reason && cat reason &&
	grep "stage-out: interrupted: aiosd restarted before the stage-out ended" reason &&
	aios-control show job $id >job.json &&
	! grep "\"restarts\"" job.json &&
	grep "\"exit_code\": 0" job.json &&
	test_must_fail aios-data show bigmodel --model &&
	aios_wait_for 10 test ! -e "$cluster/$n/spool/job.$id"
'

test_expect_success 'a controller restart while a job stages starts its staging over' '
	node2=$(pid_of node2/aiosd.pid) &&
	kill -STOP $node2 &&
	test_when_finished "kill -CONT $node2 2>/dev/null; true" &&
	id=$(aios-submit --parsable -N 2 -n 2 --stage-in=blobz,shard --wrap true) &&
	aios_wait_state $id STAGING &&
	aios_wait_for 20 grep -q "job $id: staged 1 dataset" "$cluster/node1/aiosd.log" &&
	test -d "$cluster/scratch/node1/jobs/$id" &&
	ctld=$(pid_of aiosctld.pid) &&
	kill $ctld &&
	aios_wait_for 20 sh -c "! kill -0 $ctld" &&
	aiosctld -f "$AIOS_CONF" </dev/null 3>&- 4>&- &&
	aios_wait_for 20 test ! -e "$cluster/scratch/node1/jobs/$id" &&
	kill -CONT $node2 &&
	aios_wait_state $id COMPLETED 60 &&
	aios-control show job $id | grep "\"restarts\": 1"
'

test_expect_success 'the training example reads its shards through --stage-in=blobs,shard' '
	AIOS_EXAMPLES=$ex aios-submit --parsable -o train.out \
		"$src/examples/train/train-staged.sh" >id &&
	aios_wait_state $(cat id) COMPLETED 120 &&
	cat train.out &&
	grep "shard-0-of-2.h5" train.out &&
	test_acc=$(sed -n "s/.*test_acc \([0-9.]*\).*/\1/p" train.out | tail -1) &&
	awk -v a="$test_acc" "BEGIN { exit !(a >= 0.9) }" &&
	aios-data list --models | grep "^blobs-model "
'

test_done
