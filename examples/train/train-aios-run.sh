#!/bin/sh
#AIOS --job-name=train
#AIOS --nodes=2
#AIOS --ntasks=2
#AIOS --time=10:00
# Data-parallel training over the job's nodes, one MPI rank per task,
# started with aios-run (PMI-1 on the job's allocation).
#
# Generates the synthetic data set train-data.h5 in the submit directory
# if it is not there yet, trains on it, and writes the checkpoint
# train-JOBID.h5 beside it.
#
#   AIOS_EXAMPLES  the directory holding gen-data and train (a build's
#                  examples/train); without it they are looked up in PATH.
#                  The job runs a spool copy of this script, so the
#                  script's own directory is of no use.
#   TRAIN_ARGS     more options for train, e.g. "--epochs 10 --hidden 32"
set -e
me=train-aios-run.sh

prog() {
    if [ -n "${AIOS_EXAMPLES:-}" ]; then
        [ -x "$AIOS_EXAMPLES/$1" ] && echo "$AIOS_EXAMPLES/$1" && return
        echo "$me: no program $1 in AIOS_EXAMPLES=$AIOS_EXAMPLES" >&2
        return 1
    fi
    command -v "$1" && return
    echo "$me: $1 is not in PATH: set AIOS_EXAMPLES to the directory" \
         "holding gen-data and train" >&2
    return 1
}

GEN_DATA=$(prog gen-data)
TRAIN=$(prog train)
dir=${AIOS_SUBMIT_DIR:-$PWD}
data=$dir/train-data.h5
checkpoint=$dir/train-${AIOS_JOB_ID:-0}.h5

if [ ! -f "$data" ]; then
    "$GEN_DATA" -o "$data.tmp.$$"
    mv "$data.tmp.$$" "$data"
fi
echo "job $AIOS_JOB_ID: $AIOS_NTASKS ranks on $AIOS_JOB_NODELIST"
# TRAIN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
aios-run -n "$AIOS_NTASKS" "$TRAIN" --data "$data" --checkpoint "$checkpoint" \
    $TRAIN_ARGS
