#!/bin/sh
test_description='examples/train: data-parallel training on an HDF5 data set in a 2-node job, launched by mpiexec (and aios-run)'

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

EXAMPLES="$AIOS_BUILDDIR/examples/train"
SCRIPTS="$SHARNESS_TEST_SRCDIR/../examples/train"
AIOS_EXAMPLES="$EXAMPLES"
export AIOS_EXAMPLES

# attr FILE NAME: the value of root attribute NAME of an HDF5 file
attr() {
    h5dump -a "/$2" "$1" | sed -n 's/^ *(0): //p'
}

# epochs_ok OUT: 5 epoch lines, the last with test_acc >= 0.90
epochs_ok() {
    test "$(grep -c "^epoch " "$1")" = 5 &&
    grep "^epoch 5 " "$1" | awk '$7 == "test_acc" && $8 >= 0.90 { ok = 1 } END { exit !ok }'
}

test -x "$AIOS_BUILDDIR/bin/aios-run" && test_set_prereq AIOS_RUN

test_expect_success 'gen-data writes the same compressed data set every time' '
	"$EXAMPLES/gen-data" -o train-data.h5 &&
	"$EXAMPLES/gen-data" -o again.h5 &&
	cmp train-data.h5 again.h5 &&
	test "$(attr train-data.h5 classes)" = 4 &&
	test "$(attr train-data.h5 features)" = 16 &&
	h5dump -p -H -d /train/x train-data.h5 >layout &&
	grep "SIMPLE { ( 20000, 16 )" layout &&
	grep "CHUNKED ( 1024, 16 )" layout &&
	grep "COMPRESSION DEFLATE { LEVEL 4 }" layout
'

test_expect_success 'gen-data names the file it cannot create' '
	test_must_fail "$EXAMPLES/gen-data" -o nodir/d.h5 2>err &&
	grep "gen-data: cannot create nodir/d.h5: No such file or directory" err
'

test_expect_success 'start 2 nodes of 2 CPUs' '
	aios_start --nodes 2 --cpus-per-node 2 &&
	cleanup aios_stop
'

test_expect_success 'train-mpiexec.sh trains on 2 nodes to test_acc >= 0.90' '
	id=$(aios-submit --parsable -o train.out "$SCRIPTS/train-mpiexec.sh") &&
	aios_wait_state $id COMPLETED &&
	cat train.out &&
	grep "^job $id: 2 ranks on " train.out &&
	epochs_ok train.out &&
	grep "^checkpoint .*/train-$id.h5 written$" train.out &&
	echo $id >job.id
'

test_expect_success 'the checkpoint holds the weights and what produced them' '
	ckpt=train-$(cat job.id).h5 &&
	h5dump -A "$ckpt" >attrs &&
	grep "ATTRIBUTE \"accuracy\"" attrs &&
	test "$(attr "$ckpt" epoch)" = 5 &&
	test "$(attr "$ckpt" ranks)" = 2 &&
	test "$(attr "$ckpt" model)" = "\"softmax\"" &&
	attr "$ckpt" accuracy | awk "{ exit !(\$1 >= 0.90) }" &&
	h5dump -H "$ckpt" >shape &&
	grep -A2 "DATASET \"W1\"" shape | grep "SIMPLE { ( 16, 4 )"
'

test_expect_success 'TRAIN_ARGS passes options: a 2-epoch MLP' '
	id=$(TRAIN_ARGS="--hidden 16 --epochs 2" \
	     aios-submit --parsable -o mlp.out "$SCRIPTS/train-mpiexec.sh") &&
	aios_wait_state $id COMPLETED &&
	cat mlp.out &&
	test "$(grep -c "^epoch " mlp.out)" = 2 &&
	test "$(attr train-$id.h5 model)" = "\"mlp\"" &&
	h5dump -H train-$id.h5 | grep -A2 "DATASET \"W2\"" | grep "SIMPLE { ( 16, 4 )"
'

test_expect_success 'train under mpiexec in a job names a missing data file' '
	id=$(aios-submit --parsable -N 2 -n 2 -t 2:00 -o missing.out \
	     --wrap "mpiexec -n 2 $EXAMPLES/train --data missing.h5 --checkpoint never.h5") &&
	aios_wait_state $id FAILED &&
	cat missing.out &&
	grep "^train: cannot open missing.h5: No such file or directory$" missing.out &&
	test "$(grep -c "cannot open" missing.out)" = 1 &&
	test_path_is_missing never.h5
'

test_expect_success 'train-mpiexec.sh names what it cannot find' '
	id=$(AIOS_EXAMPLES=/nonexistent \
	     aios-submit --parsable -o noprog.out "$SCRIPTS/train-mpiexec.sh") &&
	aios_wait_state $id FAILED &&
	grep "no program gen-data in AIOS_EXAMPLES=/nonexistent" noprog.out
'

test_expect_success AIOS_RUN 'train-aios-run.sh trains on 2 nodes to test_acc >= 0.90' '
	id=$(aios-submit --parsable -o run.out "$SCRIPTS/train-aios-run.sh") &&
	aios_wait_state $id COMPLETED &&
	cat run.out &&
	epochs_ok run.out &&
	test "$(attr train-$id.h5 ranks)" = 2
'

test_done
