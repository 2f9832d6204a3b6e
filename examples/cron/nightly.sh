#!/bin/sh
# nightly.sh - a nightly training pipeline for cron, on AIOS:
#
#   prepare  ->  train (an array of runs, at most 4 at once)  ->  evaluate
#                                                     \-> cleanup (if a run failed)
#
# Each step is a job; afterok/afternotok chain them, so the script returns
# at once and the controller runs the rest.  It prints the job ids and exits
# non-zero if a submission was refused.  A crontab line (as the user whose
# jobs these are):
#
#   30 2 * * *  cd $HOME/pipeline && ./nightly.sh >>nightly.log 2>&1
#
# Environment: RUNS (array spec, default 0-7%4), OUT (result directory,
# default ./out), and for the tests FAIL_TASK (a task id that fails).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-0-7%4}
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
export OUT FAIL_TASK="${FAIL_TASK:-}"

prep=$(aios-submit --parsable --job-name=prepare -o "$OUT/prepare.log" \
    "$here/prepare.sh")
train=$(aios-submit --parsable --job-name=train --array="$RUNS" \
    --dependency=afterok:"$prep" -o "$OUT/train-%A_%a.log" "$here/train.sh")
eval=$(aios-submit --parsable --job-name=evaluate --dependency=afterok:"$train" \
    --kill-on-invalid-dep=yes -o "$OUT/evaluate.log" "$here/evaluate.sh")
clean=$(aios-submit --parsable --job-name=cleanup \
    --dependency=afternotok:"$train" --kill-on-invalid-dep=yes \
    -o "$OUT/cleanup.log" "$here/cleanup.sh")
echo "prepare=$prep train=$train evaluate=$eval cleanup=$clean"
