#!/bin/sh
#AIOS --job-name=train-staged
#AIOS --nodes=2
#AIOS --ntasks=2
#AIOS --time=10:00
#AIOS --stage-in=blobs,shard
#AIOS --stage-out=model.h5:blobs-model
# Data-parallel training on a catalog dataset, staged by AIOS: each node
# gets its shard of the rows of "blobs" in node-local scratch before the
# job starts (AIOS_DATASET_BLOBS), the ranks of a node share that shard,
# and the checkpoint written to the job's scratch becomes a new version of
# the model "blobs-model" in the catalog when the job succeeds.
#
# Once:   gen-data -o blobs.h5 && aios-data import blobs.h5 --name blobs
# Then:   aios-submit examples/train/train-staged.sh
#         aios-data list --models
#
#   AIOS_EXAMPLES  the directory holding train (a build's examples/train);
#                  without it, train is looked up in PATH.
#   TRAIN_ARGS     more options for train, e.g. "--epochs 10 --hidden 32"
set -e
TRAIN=${AIOS_EXAMPLES:+$AIOS_EXAMPLES/}train
command -v "$TRAIN" >/dev/null || {
    echo "train-staged.sh: no program $TRAIN (set AIOS_EXAMPLES)" >&2
    exit 1
}
echo "job $AIOS_JOB_ID: $AIOS_NTASKS ranks on $AIOS_JOB_NODELIST," \
     "data $AIOS_DATASET_BLOBS"
# TRAIN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
aios-run -n "$AIOS_NTASKS" "$TRAIN" --dataset blobs \
    --checkpoint "$AIOS_SCRATCH/model.h5" $TRAIN_ARGS
