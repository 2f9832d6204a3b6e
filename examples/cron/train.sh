#!/bin/sh
#AIOS --time=30:00
# train.sh - one training run of the array; AIOS_ARRAY_TASK_ID picks its
# parameters.  Writes OUT/result-TASK.txt; exits non-zero when it fails.
set -eu
task=$AIOS_ARRAY_TASK_ID
rate=$(sed -n "$((task + 1))p" "$OUT/rates.txt")
date +%s.%N >"$OUT/start-$task"
if [ "$task" = "${FAIL_TASK:-}" ]; then
    echo "run $task (rate $rate) diverged" >&2
    date +%s.%N >"$OUT/end-$task"
    exit 3
fi
sleep 0.5
echo "$task $rate $(echo "$rate" | awk '{printf "%.4f", 1 / (1 + $1 * 10)}')" \
    >"$OUT/result-$task.txt"
date +%s.%N >"$OUT/end-$task"
